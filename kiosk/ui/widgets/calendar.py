"""A month calendar for recent dates (a birth last week, a death yesterday): one touch per day,
no typing. Far-away dates (a parent's birth in 1985) are quicker typed as 8 digits."""
from __future__ import annotations

import calendar
import datetime as dt

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView

from common import clock
from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Text, app, theme

WEEKDAYS_VI = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
WEEKDAYS_EN = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


class CalendarPicker(ModalView):
    def __init__(self, value: dt.date | None, on_pick, today: dt.date | None = None, **kw):
        super().__init__(size_hint=(0.8, 0.92), auto_dismiss=False, **kw)
        self.today = today or clock.today()
        self.month = (value or self.today).replace(day=1)
        self.on_pick = on_pick
        self.box = BoxLayout(orientation="vertical", spacing=12, padding=20)
        Background.paint(self.box, theme().bg, radius=12)
        self.add_widget(self.box)
        self._build()

    def _build(self):
        vi = app().lang == "vi"
        self.box.clear_widgets()
        head = BoxLayout(size_hint_y=None, height=TOUCH_MIN + 8, spacing=12)
        head.add_widget(BigButton("◀", kind="secondary", size_hint_x=None, width=140, on_press=lambda: self._shift(-1)))
        label = f"Tháng {self.month.month}/{self.month.year}" if vi else self.month.strftime("%B %Y")
        head.add_widget(Text(label, role="title", bold=True, halign="center", size_hint_y=1))
        head.add_widget(BigButton("▶", kind="secondary", size_hint_x=None, width=140, on_press=lambda: self._shift(1)))
        self.box.add_widget(head)
        grid = GridLayout(cols=7, spacing=8)
        for name in WEEKDAYS_VI if vi else WEEKDAYS_EN:
            grid.add_widget(Text(name, role="body", bold=True, halign="center", size_hint_y=1))
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(self.month.year, self.month.month):
            for day in week:
                if day.month != self.month.month:
                    grid.add_widget(BoxLayout())
                    continue
                future = day > self.today
                b = BigButton(str(day.day), kind="selected" if day == self.today else "secondary",
                              size_hint_y=1, on_press=(lambda d=day: self._pick(d)))
                b.disabled = future  # a date in the future cannot be a birth or a death
                grid.add_widget(b)
        self.box.add_widget(grid)
        self.box.add_widget(BigButton("✕ " + ("Đóng" if vi else "Close"), kind="secondary", on_press=self.dismiss))

    def _shift(self, months: int):
        y, m = divmod(self.month.month - 1 + months, 12)
        self.month = dt.date(self.month.year + y, m + 1, 1)
        self._build()

    def _pick(self, day: dt.date):
        self.dismiss()
        self.on_pick(day)
