"""Dossier status lookup: scan the receipt's QR, or type the code and the lookup key."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.widgets.common import BigButton, Text, app, theme
from kiosk.ui.widgets.keyboard import VnField
from kiosk.ui.widgets.reflow import reveal, scroll_body
from kiosk.ui.widgets.text_role import ERROR, spoken_as


def status_text(status: dict, lang: str) -> str:
    """The status in plain words: "returned" after a result was ready says the result was handed over."""
    state = status.get("status", "")
    history = [e.get("status") for e in status.get("history") or [] if isinstance(e, dict)]
    if state == "returned" and ("ready" in history or "done" in history):
        return tr("status.returned_result", lang)
    text = tr(f"status.{state}", lang)
    return text if text != f"status.{state}" else tr("status.unknown", lang)


def status_details(status: dict, typed_code: str, lang: str) -> list[str]:
    """The lines under the status: the officer's note on the current status (what papers to bring),
    the real code when a provisional TAM code was looked up, and the history, oldest first."""
    lines = []
    history = [e for e in status.get("history") or [] if isinstance(e, dict)]
    last = history[-1] if history else {}
    note = str(last.get("note") or "").strip() if last.get("status") == status.get("status") else ""
    if note:
        key = "lookup.needs_papers_note" if status.get("status") == "needs_papers" else "lookup.note"
        lines.append(tr(key, lang, note=note))
    paid = payment_line(status.get("payment"), lang)
    if paid:
        lines.append(paid)
    real = status.get("dossier_code") or ""
    if real and typed_code and typed_code != real:
        lines.append(tr("lookup.real_code", lang, code=real))
    if history:
        lines.append(tr("lookup.history", lang))
        for e in history:
            line = f"• {_when(e.get('at'))} {tr('status.' + str(e.get('status')), lang)}"
            if str(e.get("note") or "").strip():
                line += f": {str(e['note']).strip()}"
            lines.append(line)
    return lines


def payment_line(payment, lang: str) -> str:
    """The fee as central knows it (issue 22): "Lệ phí: đã thanh toán 4.000 đồng lúc 09:12" (by
    transfer) or "… tại quầy lúc 09:12" (recorded by an officer), not paid yet (pay at the desk),
    an amount the officer at the desk tells, or a payment an officer must check; "" for a dossier
    with no fee or an answer without a payment."""
    from common.money import fee_text

    if not isinstance(payment, dict):
        return ""
    state = payment.get("state")
    if state not in ("paid", "flagged") and not payment.get("amount_due"):
        # set by the province / not confirmed: the officer tells the amount; otherwise no fee
        return tr("lookup.told_at_counter", lang) if payment.get("amount_told_at_counter") else ""
    if state == "paid":
        fee = fee_text({"amount": payment.get("amount_paid") or payment.get("amount_due")}, lang)
        key = "lookup.paid_counter" if payment.get("method") == "counter" else "lookup.paid"
        return tr(key, lang, fee=fee, time=_when(payment.get("paid_at")) or "—")
    if state == "flagged":
        return tr("lookup.flagged", lang)
    return tr("lookup.unpaid", lang, fee=fee_text({"amount": payment.get("amount_due")}, lang))


def _when(at) -> str:
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(at)).strftime("%H:%M %d/%m/%Y")
    except ValueError:
        return ""


class LookupScreen(KioskScreen):
    title_key = "lookup.title"
    own_footer = True  # back on the left, "Tra cứu" on the right: in sight however long the form

    def __init__(self, **kw):
        super().__init__(**kw)
        # (text, "error" / "ok" / None, its texts.yaml key or None): the kind, not a colour, so
        # a switch to high contrast shows it in that theme's red or green; the key, so a switch
        # of language says it in the other language
        self.result = ("", None, None)
        self.typed = {}  # what is typed in the two fields, kept over a switch of language or size
        self.found = None  # (central's status answer, the code typed): said again in a new language

    def reset(self):
        self.result = ("", None, None)
        self.typed = {}
        self.found = None

    def on_pre_enter(self, *args):
        self.result = ("", None, None)
        self.typed = {}
        self.found = None
        super().on_pre_enter(*args)
        app().listen_for_qr(self._on_qr)

    def on_leave(self, *args):
        app().listen_for_qr(None)

    def build_body(self, body):
        # the form scrolls (×2 text, the keyboard up) instead of spilling over the title
        lang = app().lang
        col = scroll_body(body)
        col.add_widget(Text(tr("lookup.scan", lang), role="body"))
        self.code = VnField("code", tr("lookup.code", lang), kind="email", value=self.typed.get("code", ""),
                            on_change=self._typed)
        self.secret = VnField("secret", tr("lookup.secret", lang), kind="email", value=self.typed.get("secret", ""),
                              on_change=self._typed)
        col.add_widget(self.code)
        col.add_widget(self.secret)
        text, kind, key = self.result
        text = tr(key, lang) if key else text
        if self.found is not None:
            text = self._headline(*self.found, lang)
        self.out = spoken_as(Text(text, role="title", bold=True, color=self._colour(kind)),
                             ERROR if kind == "error" else None)
        col.add_widget(self.out)
        self.details = Text("\n".join(status_details(*self.found, lang)) if self.found else "", role="body")
        col.add_widget(self.details)
        col.add_widget(BoxLayout())
        body.add_widget(self.keyboard_slot())
        body.add_widget(footer(BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back),
                               BigButton(tr("lookup.button", lang), kind="primary", on_press=self._lookup)))
        if text:
            reveal(self.out)

    def _typed(self, field_id, text):
        self.typed[field_id] = text

    @staticmethod
    def _colour(kind):
        t = theme()
        return {"error": t.danger, "ok": t.ok}.get(kind, t.fg)

    def show_keyboard(self, field) -> None:
        super().show_keyboard(field)
        reveal(field)  # the keyboard takes the bottom: the field typed into stays in sight

    def _on_qr(self, payload: bytes):
        from devices.qr.payloads import PayloadError, parse_receipt

        try:
            r = parse_receipt(payload.decode("utf-8"))
        except (PayloadError, UnicodeDecodeError) as exc:
            self._show(user_message(exc, app().lang, tr("lookup.not_found", "vi"), tr("lookup.not_found", "en")), error=True)
            return
        self.code.set_text(r.dossier_code)
        self.secret.set_text(r.lookup_secret)
        self.typed = {"code": r.dossier_code, "secret": r.lookup_secret}
        self._lookup()

    def _lookup(self):
        a = app()
        self.hide_keyboard()
        code, secret = self.code.text.strip().upper(), self.secret.text.strip()
        if not code or not secret:
            self._show(tr("lookup.not_found", a.lang), error=True, key="lookup.not_found")
            return
        a.run_async(lambda: a.services.lookup(code, secret), on_done=self._found, on_error=self._failed)

    def _found(self, status):
        lang = app().lang
        if not status:
            self._show(tr("lookup.not_found", lang), error=True, key="lookup.not_found")
            return
        status = status if isinstance(status, dict) else {"status": getattr(status, "status", ""),
                                                           "dossier_code": getattr(status, "dossier_code", "")}
        typed = self.code.text.strip().upper()
        self._show(self._headline(status, typed, lang))
        self.found = (status, typed)
        self.details.text = "\n".join(status_details(status, typed, lang))
        reveal(self.out)

    @staticmethod
    def _headline(status: dict, typed: str, lang: str) -> str:
        return f"{typed or status.get('dossier_code', '')}: {status_text(status, lang)}"

    def _failed(self, exc):
        lang = app().lang
        name = type(exc).__name__
        key = "lookup.offline" if name == "Offline" else "lookup.not_found"
        self._show(tr(key, lang), error=True, key=key)

    def _show(self, text, error=False, key=None):
        self.found = None
        if getattr(self, "details", None) is not None:
            self.details.text = ""
        self.result = (text, "error" if error else "ok", key)
        self.out.text = text
        self.out.color = self._colour(self.result[1])
        spoken_as(self.out, ERROR if error else None)
        reveal(self.out)
