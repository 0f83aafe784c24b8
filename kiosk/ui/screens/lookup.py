"""Dossier status lookup: scan the receipt's QR, or type the code and the lookup key."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets.common import BigButton, Text, app, theme
from kiosk.ui.widgets.keyboard import VnField


class LookupScreen(KioskScreen):
    title_key = "lookup.title"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.result = ("", None)

    def reset(self):
        self.result = ("", None)

    def on_pre_enter(self, *args):
        self.result = ("", None)
        super().on_pre_enter(*args)
        app().listen_for_qr(self._on_qr)

    def on_leave(self, *args):
        app().listen_for_qr(None)

    def build_body(self, body):
        lang = app().lang
        body.add_widget(Text(tr("lookup.scan", lang), role="body"))
        self.code = VnField("code", tr("lookup.code", lang), kind="email")
        self.secret = VnField("secret", tr("lookup.secret", lang), kind="email")
        body.add_widget(self.code)
        body.add_widget(self.secret)
        body.add_widget(BigButton(tr("lookup.button", lang), kind="primary", on_press=self._lookup))
        text, color = self.result
        self.out = Text(text, role="title", bold=True, color=color or theme().fg)
        body.add_widget(self.out)
        body.add_widget(BoxLayout())
        body.add_widget(self.keyboard_slot())

    def _on_qr(self, payload: bytes):
        from devices.qr.payloads import PayloadError, parse_receipt

        try:
            r = parse_receipt(payload.decode("utf-8"))
        except (PayloadError, UnicodeDecodeError) as exc:
            self._show(user_message(exc, app().lang, tr("lookup.not_found", "vi"), tr("lookup.not_found", "en")), error=True)
            return
        self.code.set_text(r.dossier_code)
        self.secret.set_text(r.lookup_secret)
        self._lookup()

    def _lookup(self):
        a = app()
        self.hide_keyboard()
        code, secret = self.code.text.strip().upper(), self.secret.text.strip()
        if not code or not secret:
            self._show(tr("lookup.not_found", a.lang), error=True)
            return
        a.run_async(lambda: a.services.lookup(code, secret), on_done=self._found, on_error=self._failed)

    def _found(self, status):
        lang = app().lang
        if not status:
            self._show(tr("lookup.not_found", lang), error=True)
            return
        state = status.get("status", "") if isinstance(status, dict) else getattr(status, "status", "")
        code = status.get("dossier_code", "") if isinstance(status, dict) else getattr(status, "dossier_code", "")
        self._show(f"{code}: {tr('status.' + state, lang)}")

    def _failed(self, exc):
        lang = app().lang
        name = type(exc).__name__
        self._show(tr("lookup.offline" if name == "Offline" else "lookup.not_found", lang), error=True)

    def _show(self, text, error=False):
        self.result = (text, theme().danger if error else theme().ok)
        self.out.text = text
        self.out.color = self.result[1]
