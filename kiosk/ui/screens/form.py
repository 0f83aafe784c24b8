"""A form step rendered from the flow definition: one widget per visible field, inline errors."""
from __future__ import annotations

import datetime as dt

from kivy.uix.boxlayout import BoxLayout

from common.money import group_thousands
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField

TEXT_KINDS = {"text", "number", "phone", "email", "id_number", "date"}


def date_to_digits(value) -> str:
    if not value:
        return ""
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return ""
    return d.strftime("%d%m%Y")


def digits_to_date(digits: str):
    """'12051985' → '1985-05-12'; anything incomplete stays as typed so validation can say why."""
    if len(digits) == 8 and digits.isdigit():
        try:
            return dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2])).isoformat()
        except ValueError:
            return digits
    return digits or None


class FormScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.widgets: dict[str, object] = {}
        self.errors: dict[str, str] = {}

    def on_pre_enter(self, *args):
        self.errors = {}
        super().on_pre_enter(*args)

    def build_body(self, body):
        a = app()
        lang = a.lang
        engine = a.session.engine
        self.add_intro(body)
        col = Column(spacing=22, padding=[0, 0, 16, 0])
        self.widgets = {}
        for field in engine.visible_fields(self.step):
            col.add_widget(self._field_widget(field, engine.answers.get(field.id), lang))
        body.add_widget(scroller(col))
        body.add_widget(self.keyboard_slot())
        self.add_footer(body)

    def _field_widget(self, field, value, lang):
        label = pick(field.label, lang) + (" *" if field.required else "")
        hint = pick(field.hint, lang) if field.hint else ""
        error = self.errors.get(field.id, "")
        if field.type == "address":
            from kiosk.ui.widgets.address import AddressField

            w = AddressField(field.id, label, value if isinstance(value, dict) else None, self._address, error)
            self.widgets[field.id] = w
            return w
        if field.type in TEXT_KINDS:
            kind = field.type
            shown = date_to_digits(value) if field.type == "date" else ("" if value is None else str(value))
            # "= 50.000.000" under typed amounts: counting zeros is where amounts go wrong
            echo = (lambda text, lang=lang: _echo(text, lang)) if field.type == "number" else None
            w = VnField(field.id, label, value=shown, kind=kind, hint=hint, on_change=self._typed,
                        max_len=8 if field.type == "date" else 300, echo=echo)
            w.set_error(error)
            self.widgets[field.id] = w
            if field.type != "date":
                return w
            holder = Column(spacing=8)
            holder.add_widget(w)
            holder.add_widget(BigButton("▦ " + tr("form.calendar", lang), kind="secondary", size_hint_x=None,
                                        width=520, on_press=lambda f=field: self._calendar(f)))
            return holder
        box = Column(spacing=8)
        box.add_widget(Text(label, role="body", bold=True))
        if hint:
            box.add_widget(Text(hint, role="small", color=theme().muted))
        options = field.options
        if field.type == "yes_no":
            options = [_Opt(True, tr("form.yes", lang)), _Opt(False, tr("form.no", lang))]
        grid = Column(spacing=10)
        row = None
        for i, opt in enumerate(options):
            if i % 3 == 0:
                row = Row(spacing=12, height=TOUCH_MIN + 16)
                grid.add_widget(row)
            chosen = (opt.id in (value or [])) if field.type == "multi_choice" else (value == opt.id)
            row.add_widget(BigButton(("✓ " if chosen else "") + pick(opt.label, lang),
                                     kind="primary" if chosen else "secondary",
                                     on_press=lambda f=field, o=opt: self._choose(f, o.id)))
        if row is not None:
            for _ in range(3 - len(row.children)):
                row.add_widget(BoxLayout())
        box.add_widget(grid)
        if error:
            box.add_widget(error_text(error, role="small"))
        return box

    def _typed(self, field_id, text):
        engine = app().session.engine
        field = engine.flow.fields[field_id]
        value = digits_to_date(text) if field.type == "date" else (text if text != "" else None)
        engine.set(field_id, value)
        if field_id in self.errors:
            self.errors.pop(field_id)
            self.widgets[field_id].set_error("")

    def _calendar(self, field):
        from kiosk.ui.widgets.calendar import CalendarPicker

        engine = app().session.engine
        current = engine.answers.get(field.id)
        try:
            current = dt.date.fromisoformat(current) if current else None
        except (TypeError, ValueError):
            current = None

        def picked(day):
            engine.set(field.id, day.isoformat())
            self.errors.pop(field.id, None)
            self.refresh()

        self.hide_keyboard()
        CalendarPicker(current, picked, today=engine.today).open()

    def _address(self, field_id, value):
        app().session.engine.set(field_id, value)
        self.errors.pop(field_id, None)
        self.refresh()

    def _choose(self, field, option_id):
        engine = app().session.engine
        if field.type == "multi_choice":
            current = list(engine.answers.get(field.id) or [])
            current.remove(option_id) if option_id in current else current.append(option_id)
            engine.set(field.id, current)
        else:
            engine.set(field.id, option_id)
        self.errors.pop(field.id, None)
        self.refresh()

    def on_next(self):
        a = app()
        a.focus_field(None)
        if not a.next_step():
            self.errors = a.session.engine.errors(self.step)
            self.refresh()


class _Opt:
    def __init__(self, id, label):
        self.id, self.label = id, label


def _echo(text: str, lang: str) -> str:
    grouped = group_thousands(text, lang, at_least=10000)
    return f"= {grouped}" if grouped else ""
