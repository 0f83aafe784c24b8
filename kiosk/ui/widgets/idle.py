"""The inactivity warning (WCAG 2.2.1): a countdown, said aloud, and one large button that gives
the whole time again. The keypad's focus lands on that button (kiosk/ui/access.py), so Enter is
all a citizen who cannot see the screen needs."""
from __future__ import annotations

from kivy.uix.modalview import ModalView

from kiosk.ui.i18n import tr
from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Column, Text, app, sizes, theme


class IdleWarning(ModalView):
    def __init__(self, on_stay, **kw):
        super().__init__(size_hint=(0.7, None), auto_dismiss=False, **kw)
        lang = app().lang
        box = Column(spacing=28, padding=40)
        Background.paint(box, theme().bg, radius=16)
        box.add_widget(Text(tr("idle.title", lang), role="title", bold=True, halign="center"))
        self.countdown = Text("", role="body", halign="center")
        box.add_widget(self.countdown)
        self.stay = BigButton(tr("idle.more_time", lang), kind="primary", on_press=on_stay,
                              height=2 * TOUCH_MIN, font_size=sizes()["title"])
        # the words wrap at ×2 text: the button grows with them rather than cutting them
        self.stay.bind(texture_size=lambda b, ts: setattr(b, "height", max(2 * TOUCH_MIN, ts[1] + 48)))
        box.add_widget(self.stay)
        box.bind(minimum_height=lambda *_: setattr(self, "height", box.minimum_height))
        self.height = box.minimum_height
        self.add_widget(box)
        self.last_said = None
        self.speech_text = ""

    def update(self, seconds_left: int) -> None:
        lang = app().lang
        self.countdown.text = tr("idle.text", lang, n=max(seconds_left, 0))
        if not self.speech_text:  # what the speech mode says when the warning opens
            self.speech_text = ". ".join((tr("idle.title", lang), self.countdown.text, tr("idle.say_extend", lang)))
