"""The inactivity warning: a countdown the citizen dismisses with one touch."""
from __future__ import annotations

from kivy.uix.modalview import ModalView

from kiosk.ui.i18n import tr
from kiosk.ui.widgets.common import Background, BigButton, Column, Text, app, theme


class IdleWarning(ModalView):
    def __init__(self, on_stay, **kw):
        super().__init__(size_hint=(0.7, 0.5), auto_dismiss=False, **kw)
        lang = app().lang
        box = Column(spacing=24, padding=32, size_hint_y=1)
        Background.paint(box, theme().bg, radius=16)
        box.add_widget(Text(tr("idle.title", lang), role="title", bold=True, halign="center"))
        self.countdown = Text("", role="body", halign="center")
        box.add_widget(self.countdown)
        box.add_widget(BigButton(tr("idle.stay", lang), kind="primary", on_press=on_stay))
        self.add_widget(box)

    def update(self, seconds_left: int) -> None:
        self.countdown.text = tr("idle.text", app().lang, n=max(seconds_left, 0))
