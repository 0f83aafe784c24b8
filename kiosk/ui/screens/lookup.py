"""Dossier status lookup: scan the receipt's QR, or type the code and the lookup key."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.widgets.common import BigButton, Text, app, theme
from kiosk.ui.widgets.keyboard import VnField
from kiosk.ui.widgets.reflow import reveal, scroll_body


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

    def reset(self):
        self.result = ("", None, None)
        self.typed = {}

    def on_pre_enter(self, *args):
        self.result = ("", None, None)
        self.typed = {}
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
        self.out = Text(text, role="title", bold=True, color=self._colour(kind))
        col.add_widget(self.out)
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
        state = status.get("status", "") if isinstance(status, dict) else getattr(status, "status", "")
        code = status.get("dossier_code", "") if isinstance(status, dict) else getattr(status, "dossier_code", "")
        self._show(f"{code}: {tr('status.' + state, lang)}")

    def _failed(self, exc):
        lang = app().lang
        name = type(exc).__name__
        key = "lookup.offline" if name == "Offline" else "lookup.not_found"
        self._show(tr(key, lang), error=True, key=key)

    def _show(self, text, error=False, key=None):
        self.result = (text, "error" if error else "ok", key)
        self.out.text = text
        self.out.color = self._colour(self.result[1])
        reveal(self.out)
