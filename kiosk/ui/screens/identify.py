"""Identify: the chip card first (key from the card's QR or the last 6 digits), then, for someone
without a chip card, the VNeID app's QR, and typing last.

What the citizen sees are numbered steps, each beside a picture of THIS kiosk with the device to
use ringed ([kiosk] device_pictures, the shipped drawings otherwise: kiosk.deployment), and where
it is in words ([kiosk] reader_place, scanner_place). The chip cannot be read without a key, so
the card's QR comes first (step 1), then the card on the reader (step 2); the 6 digits replace the
QR when the scanner cannot read it (step 3).

The chip read runs in a worker thread with a progress bar; the screen stays responsive and the
citizen can go back at any time (the read is cancelled).

Card events (kiosk.card_events) drive it as a citizen expects: a key given before the card is on
the reader (QR scanned, CAN typed) waits, and laying the card starts the read; a card lifted
mid-read says so at once and is read again as soon as it is laid back.

A QR in the "no chip card" view is read as what it says (devices.qr.payloads.parse_cccd: the
card's QR layout, which the VNeID e-ID's QR is reported to share): the applicant's source is then
"qr", unverified, and the screen says staff will check it.

The "[Mô phỏng]" button (the demo's stand-in for holding the sample card's QR to the scanner)
exists only when the card reader and the scanner are both the simulated backends; it is a small
secondary button at the bottom, never the screen's main control.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.progressbar import ProgressBar
from kivy.uix.widget import Widget

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import footer
from kiosk.ui.screens.step import StepScreen
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller, sizes, theme
from kiosk.ui.widgets.keyboard import VnField
from kiosk.ui.widgets.text_role import ERROR, spoken_as

PICTURE_W, PICTURE_H = 400, 300   # the shipped drawings' 4:3, ~11 cm wide on a 23.8" panel


def person_to_dict(person) -> dict:
    d = dataclasses.asdict(person) if dataclasses.is_dataclass(person) else dict(person)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items() if v not in (None, "", [])}


def simulated_identify(cfg, services=None) -> bool:
    """True only when the card reader and the QR scanner are the simulated backends (the demo):
    the "[Mô phỏng]" button puts the sample card's QR into the simulated scanner, and that card
    is what the simulated reader holds. On a kiosk with any real one of them it does not exist."""
    if cfg["devices.idcard"]["backend"] != "sim" or cfg["devices.qr"]["backend"] != "sim":
        return False
    scanner = getattr(services, "scanner", None) if services is not None else None
    return services is None or hasattr(scanner, "inject")


def place(which: str, lang: str) -> str:
    """Where the reader or the scanner is on this kiosk, in words ([kiosk] reader_place …)."""
    k = app().cfg["kiosk"]
    return k[f"{which}_place_en"] if lang == "en" else k[f"{which}_place"]


def device_picture_widget(path, width=PICTURE_W, height=PICTURE_H) -> Image:
    pic = Image(source=str(path), fit_mode="contain", size_hint=(None, None), width=width, height=height,
                pos_hint={"top": 1})  # beside many lines of large text: at their top, not below them
    pic.kiosk_role = "device_picture"
    return pic


class StepItem(BoxLayout):
    """One numbered instruction: an optional picture of the kiosk on the left, the number and the
    words on the right (and an optional smaller note under them). Grows to what it holds."""

    def __init__(self, number: int, text: str, picture=None, note: str = "", **kw):
        super().__init__(orientation="horizontal", size_hint_y=None, spacing=20, **kw)
        self.kiosk_role = "identify_step"
        self.number = number
        self.picture = device_picture_widget(picture) if picture is not None else None
        if self.picture is not None:
            self.add_widget(self.picture)
        words = Column(spacing=8, size_hint_x=1, pos_hint={"center_y": 0.5})
        badge = Text(f"{number}.", role="title", bold=True, size_hint_x=None, width=sizes()["title"] * 1.6,
                     pos_hint={"top": 1})
        line = BoxLayout(orientation="horizontal", size_hint_y=None, spacing=8)
        self.words = Text(text, role="body", bold=True)
        line.add_widget(badge)
        line.add_widget(self.words)
        fit_line = lambda *_: setattr(line, "height", max(badge.height, self.words.height))  # noqa: E731
        badge.bind(height=fit_line)
        self.words.bind(height=fit_line)
        fit_line()
        words.add_widget(line)
        if note:
            words.add_widget(Text(note, role="small", color=theme().muted))
        self.add_widget(words)
        fit = lambda *_: setattr(self, "height", max(PICTURE_H if self.picture else 0, words.height))  # noqa: E731
        words.bind(height=fit)
        fit()


class IdentifyScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.mode = "card"  # card | can | nochip | manual | done
        self.cancel = None
        self.message = ("", None)
        self.key = None            # the access key of the read in progress (or waiting for the card)
        self.reading = False
        self.waiting_for_card = False
        self.read_again = False    # the card came back while the failed read was still unwinding
        self.sim_button = None

    def on_pre_enter(self, *args):
        a = app()
        engine = a.session.engine
        if a.session.applicant and engine is not None and engine.applicant is None:
            # the card was read for another procedure this visit (back to the list, another one
            # chosen): the new engine gets the same applicant, or "Tiếp tục" would lead nowhere
            engine.set_applicant(a.session.applicant, a.session.applicant_source or "typed",
                                 a.session.applicant_auth or None)
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

    def methods(self) -> tuple[str, ...]:
        """How this step lets the applicant identify (the flow's ``options.methods``, first =
        preferred); the chip card is always offered: it is what the step is built around."""
        m = tuple((self.step.options or {}).get("methods") or ("chip", "qr", "typed"))
        return m if "chip" in m else ("chip", *m)

    def on_back(self) -> None:
        """Back within the step first (the 6 digits or the "no chip card" view return to the card
        steps, typing returns to "no chip card"), then to the previous step."""
        if self.mode in ("can", "nochip"):
            if self.cancel is not None:
                self.cancel.set()  # a read with the 6 digits stops; the card steps say so
            self._mode("card")
        elif self.mode == "manual":
            self._mode("nochip" if "qr" in self.methods() else "card")
        else:
            super().on_back()

    # --- the card reader's events (KioskApp._dispatch_card) -----------------------------------------
    def on_card(self, present: bool) -> None:
        if self.mode == "nochip" and present:
            self._mode("card")  # a card after all: the card steps, and say it was seen
            self._say(tr("identify.card_on", app().lang))
            return
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
        self.sim_button, self.status = None, None
        if self.mode == "done":
            self._build_done(body, lang)
            return
        from kiosk.deployment import device_picture

        col = Column(spacing=24)
        methods = self.methods()
        own = self.step_text()  # the flow's own words: whose card (khai sinh: the father's or mother's)
        if own and self.mode in ("card", "nochip"):
            col.add_widget(Text(own, role="body"))
        if self.mode == "card":
            col.add_widget(Text(tr("identify.card_heading", lang), role="body", bold=True))
            # side by side; one under the other at large text, where half a screen holds 3 words a line
            pair = BoxLayout(orientation="vertical" if a.session.large_text else "horizontal",
                             size_hint_y=None, spacing=32)
            first = StepItem(1, tr("identify.step_qr", lang, place=place("scanner", lang)),
                             device_picture(a.cfg, "card-qr.png"), note=tr("identify.step_qr_where", lang))
            second = StepItem(2, tr("identify.step_card", lang, place=place("reader", lang)),
                              device_picture(a.cfg, "card-reader.png"))
            pair.add_widget(first)
            pair.add_widget(second)
            fit = lambda *_: setattr(pair, "height", (first.height + second.height + pair.spacing  # noqa: E731
                                                      if pair.orientation == "vertical"
                                                      else max(first.height, second.height)))
            first.bind(height=fit)
            second.bind(height=fit)
            fit()
            col.add_widget(pair)
            self._add_status(col)
            col.add_widget(StepItem(3, tr("identify.step_can", lang)))
            others = BoxLayout(orientation="horizontal", size_hint_y=None, spacing=32)
            can = BigButton(tr("identify.can", lang), kind="secondary", on_press=lambda: self._mode("can"))
            others.add_widget(can)
            if "qr" in methods or "typed" in methods:
                others.add_widget(BigButton(tr("identify.no_chip", lang), kind="secondary",
                                            on_press=lambda: self._mode("nochip" if "qr" in methods else "manual")))
            else:
                others.add_widget(Widget())
            can.bind(height=lambda *_: setattr(others, "height", can.height))
            others.height = can.height
            col.add_widget(others)
            body.add_widget(scroller(col))
            body.add_widget(self._footer(lang))
        elif self.mode == "can":
            # the number pad takes half the screen: a small picture beside the words and the field,
            # so the digits being typed stay in sight
            row = BoxLayout(orientation="horizontal", size_hint_y=None, spacing=24)
            row.add_widget(device_picture_widget(device_picture(a.cfg, "card-reader.png"), 200, 150))
            right = Column(spacing=12, size_hint_x=1, pos_hint={"top": 1})
            # the instruction is the field's label: one text, not the same words twice
            self.can_field = VnField("can", tr("identify.can_heading", lang, place=place("reader", lang)),
                                     kind="can", max_len=6)
            right.add_widget(self.can_field)
            self._add_status(right)
            row.add_widget(right)
            right.bind(height=lambda *_: setattr(row, "height", max(150, right.height)))
            row.height = max(150, right.height)
            col.add_widget(row)
            body.add_widget(scroller(col))
            body.add_widget(self.keyboard_slot())
            body.add_widget(self._footer(lang, BigButton(tr("identify.read", lang), kind="primary",
                                                         on_press=self._read_with_can)))
            Clock.schedule_once(lambda *_: self.can_field.focus())
        elif self.mode == "nochip":
            col.add_widget(Text(tr("identify.no_chip_heading", lang), role="body", bold=True))
            n = 0
            if "qr" in methods:
                n += 1
                col.add_widget(StepItem(n, tr("identify.step_vneid", lang, place=place("scanner", lang)),
                                        device_picture(a.cfg, "phone-qr.png")))
                self._add_status(col)
            if "typed" in methods:
                n += 1
                col.add_widget(StepItem(n, tr("identify.step_type", lang)))
                row = Row(spacing=32)  # as tall as the button, which grows with its words
                row.add_widget(BigButton(tr("identify.type", lang), kind="secondary", on_press=lambda: self._mode("manual")))
                row.add_widget(Widget())
                col.add_widget(row)
            body.add_widget(scroller(col))
            body.add_widget(self._footer(lang))
        else:  # manual
            col.add_widget(Text(tr("identify.manual_heading", lang), role="body", bold=True))
            self._manual_form(col, lang)
            body.add_widget(scroller(col))
            body.add_widget(self.keyboard_slot())
            body.add_widget(self._footer(lang, BigButton(tr("nav.next", lang), kind="primary",
                                                         on_press=self._manual_done)))

    def _add_status(self, col) -> None:
        """The read's progress and what is happening, in plain words (errors in red)."""
        # shown while a read runs: an empty bar would look like a line dividing the screen
        self.progress = ProgressBar(max=1.0, value=0, size_hint_y=None, height=24 if self.reading else 0,
                                    opacity=1 if self.reading else 0)
        col.add_widget(self.progress)
        text, color = self.message
        self.status = Text(text, role="body", bold=True, color=color or theme().fg)
        spoken_as(self.status, ERROR if color is not None else None)  # a message in red is an error (_say)
        col.add_widget(self.status)

    def _footer(self, lang, primary=None):
        """Back on the left; on the right the one filled action of this view, if any. The demo's
        simulation button takes that place only where there is no real action, small and outlined."""
        back = BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back)
        right = primary
        if right is None and self.mode in ("card", "can", "nochip") and simulated_identify(app().cfg, app().services):
            right = BigButton(tr("identify.sim", lang), kind="secondary", on_press=self._simulate_qr,
                              font_size=sizes()["small"])
            right.kiosk_role = "simulation"
            self.sim_button = right
        return footer(back, right if right is not None else Widget())

    def _build_done(self, body, lang):
        a = app()
        col = Column(spacing=18)
        appl = a.session.applicant
        done = "identify.done" if a.session.applicant_source == "chip" else "identify.done_other"
        col.add_widget(Text(tr(done, lang, name=appl.get("full_name", "")), role="title", bold=True, color=theme().ok))
        from kiosk.ui.screens.review import APPLICANT_LABELS, show_value

        for key, labels in APPLICANT_LABELS.items():
            if appl.get(key):
                col.add_widget(Text(f"{labels[0 if lang == 'vi' else 1]}: {show_value(None, appl[key], lang)}",
                                    role="body"))
        if a.session.applicant_source == "chip" and a.session.card is not None:
            verified = getattr(a.session.card, "verified", False)
            col.add_widget(Text(("✓ " + tr("identify.verified", lang)) if verified else tr("identify.unverified", lang),
                                role="body", color=theme().ok if verified else theme().muted))
        elif a.session.applicant_source == "qr":
            col.add_widget(Text(tr("identify.from_qr", lang), role="body", color=theme().muted))
        missing = a.session.applicant.get("missing") or []
        if missing:
            col.add_widget(Text(tr("identify.missing", lang, fields=", ".join(missing)), role="body"))
        body.add_widget(scroller(col))
        self.add_footer(body)

    def on_listen(self) -> None:
        """"Đọc to": the speech mode reads the screen where it exists; otherwise the title, the
        flow's own text (whose card) and the numbered steps."""
        a = app()
        if getattr(a, "read_screen", None) is not None:
            a.read_screen()
            return
        said = []
        for w in self.root_box.walk(restrict=True):
            if getattr(w, "kiosk_role", None) == "identify_step":
                said.append(f"{w.number}. {w.words.text}")
        a.read_aloud(". ".join(t.rstrip(".") for t in [self.title(), self.step_text(), *said] if t) + ".")

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

        if self.mode == "nochip" and "qr" in self.methods():
            self._identify_from_qr(payload)
            return
        if self.mode not in ("card", "can") or self.reading:
            return  # already read (a camera scanner keeps seeing the card) or being read

        try:
            key = AccessKey.from_qr(payload.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any unreadable QR gets the same plain answer
            self._say(user_message(exc, app().lang, "Không đọc được mã QR trên thẻ. Xin thử lại.",
                                   "The QR code on the card could not be read. Please try again."), error=True)
            return
        self._read(key)

    def _identify_from_qr(self, payload) -> None:
        """No chip card: the QR's own fields are the applicant (the VNeID e-ID's QR, or a card's
        QR whose chip cannot be read). Unverified: the dossier says "qr" and staff check it."""
        from devices.qr.payloads import PayloadError, parse_cccd

        a = app()
        try:
            q = parse_cccd(payload)
        except PayloadError:
            self._say(tr("identify.qr_unusable", a.lang), error=True)
            return
        applicant = {"id_number": q.id_number, "full_name": q.full_name, "date_of_birth": q.date_of_birth.isoformat(),
                     "sex": q.sex}
        if q.residence:
            applicant["residence"] = q.residence
        if q.old_id_number:
            applicant["old_id_number"] = q.old_id_number
        if q.issue_date is not None:
            applicant["issue_date"] = q.issue_date.isoformat()
        a.session.card = None
        a.session.applicant = applicant
        a.session.applicant_source = "qr"
        a.session.remember_personal(*[v for v in applicant.values() if isinstance(v, str)])
        a.session.applicant_auth = {"access_control": "none", "checks": {}}
        a.session.engine.set_applicant(applicant, "qr", a.session.applicant_auth)
        self.mode = "done"
        self.refresh()

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
        if getattr(self, "progress", None) is not None:
            self.progress.value, self.progress.opacity, self.progress.height = 0, 1, 24
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
        a.session.applicant_auth = {
            "access_control": card.access_control,
            "checks": {n: _check_state(c) for n, c in (card.checks or {}).items()},
        }
        a.session.engine.set_applicant(applicant, "chip", a.session.applicant_auth)
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
        if getattr(self, "status", None) is not None:
            self.status.text = text
            self.status.color = theme().danger if error else theme().fg
            spoken_as(self.status, ERROR if error else None)

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
        a.session.applicant_auth = {"access_control": "none", "checks": {}}
        a.session.engine.set_applicant(applicant, "typed", a.session.applicant_auth)
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
