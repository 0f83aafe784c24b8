"""Identify: the chip card first (key from the card's QR or the last 6 digits), typed entry last.

The chip read runs in a worker thread with a progress bar; the screen stays responsive and the
citizen can go back at any time (the read is cancelled).

Card events (kiosk.card_events) drive it as a citizen expects: a key given before the card is on
the reader (QR scanned, CAN typed) waits, and laying the card starts the read; a card lifted
mid-read says so at once and is read again as soon as it is laid back.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.progressbar import ProgressBar

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.step import StepScreen
from kiosk.ui.widgets.common import BigButton, Column, Text, app, theme
from kiosk.ui.widgets.keyboard import VnField


def person_to_dict(person) -> dict:
    d = dataclasses.asdict(person) if dataclasses.is_dataclass(person) else dict(person)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items() if v not in (None, "", [])}


class IdentifyScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.mode = "card"  # card | can | manual | done
        self.cancel = None
        self.message = ("", None)
        self.key = None            # the access key of the read in progress (or waiting for the card)
        self.reading = False
        self.waiting_for_card = False
        self.read_again = False    # the card came back while the failed read was still unwinding

    def on_pre_enter(self, *args):
        a = app()
        self.mode = "done" if a.session.applicant else "card"
        self.message = ("", None)
        self.key, self.reading, self.waiting_for_card, self.read_again = None, False, False, False
        super().on_pre_enter(*args)
        a.listen_for_qr(self._on_qr)

    def on_leave(self, *args):
        app().listen_for_qr(None)
        if self.cancel is not None:
            self.cancel.set()
        self.key, self.waiting_for_card = None, False  # the access key is the citizen's: not kept

    # --- the card reader's events (KioskApp._dispatch_card) -----------------------------------------
    def on_card(self, present: bool) -> None:
        if self.mode not in ("card", "can"):
            return
        lang = app().lang
        if not present:
            if self.reading:
                from devices.idcard.errors import CardRemoved

                self.waiting_for_card = True
                self._say(user_message(CardRemoved(), lang), error=True)
            return
        if self.reading:
            self.read_again = True
        elif self.key is not None and self.waiting_for_card:
            self._read(self.key)
        elif self.mode == "can" and len(self.can_field.text) == 6:
            self._read_with_can()
        else:
            self._say(tr("identify.card_on", lang))

    def build_body(self, body):
        a = app()
        lang = a.lang
        col = Column(spacing=18)
        body.add_widget(col)
        if self.mode == "done":
            appl = a.session.applicant
            col.add_widget(Text(tr("identify.done", lang, name=appl.get("full_name", "")), role="title", bold=True,
                                color=theme().ok))
            from kiosk.ui.screens.review import APPLICANT_LABELS, show_value

            for key, labels in APPLICANT_LABELS.items():
                if appl.get(key):
                    col.add_widget(Text(f"{labels[0 if lang == 'vi' else 1]}: {show_value(None, appl[key], lang)}",
                                        role="body"))
            if a.session.applicant_source == "chip" and a.session.card is not None:
                verified = getattr(a.session.card, "verified", False)
                col.add_widget(Text(("✓ " + tr("identify.verified", lang)) if verified else tr("identify.unverified", lang),
                                    role="body", color=theme().ok if verified else theme().muted))
            missing = a.session.applicant.get("missing") or []
            if missing:
                col.add_widget(Text(tr("identify.missing", lang, fields=", ".join(missing)), role="body"))
            body.add_widget(BoxLayout())
            self.add_footer(body)
            return
        col.add_widget(Text(tr("identify.place", lang), role="title", bold=True))
        col.add_widget(Text("▣  " + tr("identify.qr", lang), role="body"))
        self.progress = ProgressBar(max=1.0, value=0, size_hint_y=None, height=40)
        col.add_widget(self.progress)
        text, color = self.message
        self.status = Text(text, role="body", color=color or theme().muted)
        col.add_widget(self.status)
        if self.mode == "can":
            self.can_field = VnField("can", tr("identify.can", lang), kind="can", max_len=6)
            col.add_widget(self.can_field)
            col.add_widget(BigButton(tr("identify.read", lang), kind="primary", on_press=self._read_with_can))
            body.add_widget(BoxLayout())
            body.add_widget(self.keyboard_slot())
            Clock.schedule_once(lambda *_: self.can_field.focus())
        elif self.mode == "manual":
            self._manual_form(col, lang)
            body.add_widget(BoxLayout())
            body.add_widget(self.keyboard_slot())
        else:
            if a.cfg["devices.qr"]["backend"] == "sim":
                col.add_widget(BigButton(tr("identify.sim", lang), kind="ok", on_press=self._simulate_qr))
            col.add_widget(BigButton(tr("identify.can", lang), kind="secondary", on_press=lambda: self._mode("can")))
            col.add_widget(BigButton(tr("identify.manual", lang), kind="secondary",
                                     on_press=lambda: self._mode("manual")))
            body.add_widget(BoxLayout())
            body.add_widget(BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back))

    def _mode(self, mode):
        self.mode = mode
        self.message = ("", None)
        self.refresh()

    # --- keypads ---------------------------------------------------------------------------------
    def keyboard_done(self):
        self.hide_keyboard()
        if self.mode == "can":
            self._read_with_can()

    # --- reading ----------------------------------------------------------------------------------
    def _simulate_qr(self):
        # what the sim scanner "sees" when the sample card's QR is held to it (docs/architecture.md)
        from devices.qr.scanner import SIM_CITIZEN_QR

        app().services.scanner.inject(SIM_CITIZEN_QR.encode("utf-8"))

    def _on_qr(self, payload: bytes):
        from devices.idcard import AccessKey

        if self.mode not in ("card", "can") or self.reading:
            return  # already read (a camera scanner keeps seeing the card) or being read

        try:
            key = AccessKey.from_qr(payload.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any unreadable QR gets the same plain answer
            self._say(user_message(exc, app().lang, "Không đọc được mã QR trên thẻ. Xin thử lại.",
                                   "The QR code on the card could not be read. Please try again."), error=True)
            return
        self._read(key)

    def _read_with_can(self):
        from devices.idcard import AccessKey

        digits = self.can_field.text
        if len(digits) != 6:
            self.can_field.set_error("Cần đủ 6 chữ số." if app().lang == "vi" else "6 digits are needed.")
            return
        self._read(AccessKey.from_can(digits))

    def _read(self, key):
        a = app()
        self.key = key
        if a.services.card_events is not None and a.services.card_events.present is False:
            # the reader says no card: wait for it (on_card) rather than fail a read
            self.waiting_for_card = True
            self._say(tr("identify.lay_card", a.lang))
            return
        self.waiting_for_card, self.read_again, self.reading = False, False, True
        self.cancel = threading.Event()
        self._say(tr("identify.reading", a.lang))
        groups = ("DG1", "DG13", "DG2") if self.step.options.get("photo") else ("DG1", "DG13")

        def progress(fraction, label_vi=""):
            Clock.schedule_once(lambda *_: setattr(self.progress, "value", fraction))

        a.run_async(lambda: a.services.read_card(key, groups=groups, progress=progress, cancel=self.cancel),
                    on_done=self._read_ok, on_error=self._read_failed)

    def _read_ok(self, card):
        a = app()
        self.reading, self.key, self.waiting_for_card = False, None, False
        if self.mode == "done" or self.manager is None or self.manager.current != self.name:
            return  # the citizen went back or typed the details meanwhile
        failed = [n for n, c in (card.checks or {}).items() if _check_state(c) == "failed"]
        if getattr(card, "clone_check", None) is not None and _check_state(card.clone_check) == "failed":
            failed.append("clone_check")
        if failed:
            self._say(tr("identify.checks_failed", a.lang), error=True)
            return
        applicant = person_to_dict(card.person)
        a.session.card = card
        a.session.applicant = applicant
        a.session.applicant_source = "chip"
        a.session.remember_personal(*[v for v in applicant.values() if isinstance(v, str)])
        a.session.engine.set_applicant(applicant, "chip", {
            "access_control": card.access_control,
            "checks": {n: _check_state(c) for n, c in (card.checks or {}).items()},
        })
        self.mode = "done"
        self.refresh()

    def _read_failed(self, exc):
        from devices.idcard.errors import CardRemoved, NoCard

        self.reading = False
        if isinstance(exc, (CardRemoved, NoCard)) and self.key is not None:
            self.waiting_for_card = True  # same key, same citizen: read again when the card is back
            if self.read_again:
                self._read(self.key)
                return
        else:
            self.key, self.waiting_for_card = None, False
        self._say(user_message(exc, app().lang, "Không đọc được thẻ. Xin đặt lại thẻ và thử lại.",
                               "The card could not be read. Please place it again and retry."), error=True)

    def _say(self, text, error=False):
        self.message = (text, theme().danger if error else None)
        if hasattr(self, "status"):
            self.status.text = text
            self.status.color = theme().danger if error else theme().muted

    # --- typed entry (no chip card) -------------------------------------------------------------------
    def _manual_form(self, col, lang):
        self.manual = {
            "full_name": VnField("full_name", "Họ, chữ đệm và tên" if lang == "vi" else "Full name"),
            "id_number": VnField("id_number", "Số định danh cá nhân (12 số)" if lang == "vi" else "ID number (12 digits)",
                                 kind="id_number", max_len=12),
            "date_of_birth": VnField("date_of_birth", "Ngày sinh (ngày/tháng/năm)" if lang == "vi" else "Date of birth",
                                     kind="date", max_len=8),
        }
        for f in self.manual.values():
            col.add_widget(f)
        col.add_widget(BigButton(tr("nav.next", lang), kind="primary", on_press=self._manual_done))

    def _manual_done(self):
        a = app()
        m = {k: f.text.strip() for k, f in self.manual.items()}
        ok = True
        if len(m["full_name"].split()) < 2:
            self.manual["full_name"].set_error("Xin nhập đầy đủ họ và tên.")
            ok = False
        if not (m["id_number"].isdigit() and len(m["id_number"]) == 12):
            self.manual["id_number"].set_error("Số định danh gồm đúng 12 chữ số.")
            ok = False
        try:
            d = m["date_of_birth"]
            dob = dt.date(int(d[4:8]), int(d[2:4]), int(d[0:2]))
        except (ValueError, IndexError):
            self.manual["date_of_birth"].set_error("Ngày sinh không hợp lệ (ví dụ 12/05/1985).")
            ok = False
        if not ok:
            return
        applicant = {"full_name": m["full_name"], "id_number": m["id_number"], "date_of_birth": dob.isoformat()}
        a.session.applicant = applicant
        a.session.applicant_source = "typed"
        a.session.remember_personal(*applicant.values())
        a.session.engine.set_applicant(applicant, "typed", {"access_control": "none", "checks": {}})
        self.mode = "done"
        a.focus_field(None)
        self.refresh()


def _check_state(check) -> str:
    if isinstance(check, str):
        return check
    if isinstance(check, dict):
        state = check.get("status") or check.get("state")
    else:
        state = getattr(check, "status", None) or getattr(check, "state", None)
    return getattr(state, "value", state) or "not_checked"
