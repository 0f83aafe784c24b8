"""Vietnamese touch keyboard (Telex / VNI / plain) and a numeric keypad, plus the text field they feed.

The keyboard never needs a double tap or a drag: every key is one press, letters are composed by
``kiosk.ui.input_method`` exactly as a hardware keyboard's keys are (the app forwards those too).
"""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout

from kiosk.ui.i18n import tr
from kiosk.ui.input_method import Composer
from kiosk.ui.theme import FONT_SIZES, SPACING_MIN, TOUCH_MIN
from kiosk.ui.widgets.common import Background, Column, Outline, Text, app, button_colours, sizes, theme
from kiosk.ui.widgets.text_role import ERROR, spoken_as

NUMERIC_TYPES = {"number", "phone", "id_number", "date", "can", "pin"}


class VnField(Column):
    """A labelled input line. Tap to focus it; the on-screen or hardware keyboard types into it."""

    def __init__(self, field_id: str, label: str, value: str = "", kind: str = "text", hint: str = "",
                 on_change=None, secret: bool = False, max_len: int = 200, echo=None, **kw):
        super().__init__(spacing=6, **kw)
        self.field_id, self.kind, self.secret, self.max_len = field_id, kind, secret, max_len
        self.on_change = on_change
        self.composer = Composer(value, method="off" if kind in NUMERIC_TYPES | {"email"} else app().input_method)
        self.label = Text(label, role="body", bold=True)
        self.add_widget(self.label)
        self.box = Button(
            text="", font_size=sizes()["body"], color=theme().fg, background_normal="", background_down="",
            background_color=theme().field_bg, size_hint_y=None, height=TOUCH_MIN + 8, halign="left",
            valign="middle",
        )
        Outline.paint(self.box, theme().edge, 2)
        self.box.kiosk_role = "input"
        self.box.bind(size=lambda *_: setattr(self.box, "text_size", (self.box.width - 32, None)))
        self.box.bind(on_release=lambda *_: self.focus())
        self.add_widget(self.box)
        # echo(text) → a line under the box that reads the value back (e.g. "= 50.000.000"); part
        # of the field, so scrolling the field into view above the keyboard shows it too
        self.echo_fn = echo
        self.echo = Text("", role="body", color=theme().muted) if echo else None
        if self.echo:
            self.add_widget(self.echo)
        self.hint = Text(hint, role="small", color=theme().muted) if hint else None
        if self.hint:
            self.add_widget(self.hint)
        self.error = spoken_as(Text("", role="small", color=theme().danger), ERROR)  # said when it appears
        self.add_widget(self.error)
        self.focused = False
        self._render()

    @property
    def text(self) -> str:
        return self.composer.text

    def set_text(self, text: str) -> None:
        self.composer.set_text(text)
        self._render()

    def set_error(self, message: str) -> None:
        self.error.text = message or ""

    def focus(self) -> None:
        app().focus_field(self)

    def set_focused(self, focused: bool) -> None:
        self.focused = focused
        self._render()

    def key(self, ch: str) -> None:
        if len(self.composer.text) >= self.max_len:
            return
        if self.kind in NUMERIC_TYPES and not (ch.isdigit() or (self.kind == "phone" and ch == "+")):
            return
        self.composer.key(ch)
        self._changed()

    def backspace(self) -> None:
        self.composer.backspace()
        self._changed()

    def clear(self) -> None:
        self.composer.clear()
        self._changed()

    def _changed(self) -> None:
        self._render()
        if self.on_change:
            self.on_change(self.field_id, self.text)

    def _render(self) -> None:
        shown = "•" * len(self.text) if self.secret else self.text
        if self.kind == "date" and not self.secret:
            shown = format_date_digits(self.text)
        self.box.text = shown + ("▏" if self.focused else "")
        if self.echo is not None:
            self.echo.text = self.echo_fn(self.text) or ""
        self.box.background_color = theme().field_bg
        if self.focused:
            self.box.color = theme().fg


def format_date_digits(digits: str) -> str:
    """'1205198' → '12/05/198_' : dates are typed as digits only, the slashes come by themselves."""
    d = (digits + "________")[:8]
    return f"{d[:2]}/{d[2:4]}/{d[4:]}"


def _key(label: str, on_press, kind="secondary", width=None) -> Button:
    bg, fg, edge = button_colours(kind)
    # keys keep the normal size at ×2 text: a keyboard twice as tall would leave no room for the field
    b = Button(text=label, font_size=FONT_SIZES["normal"]["button"], color=fg, background_normal="",
               background_down="", background_color=bg, size_hint_y=None, height=TOUCH_MIN)
    if edge is not None:
        Outline.paint(b, edge, 2)
    if width:
        b.size_hint_x = None
        b.width = width
    b.bind(on_release=lambda *_: on_press())
    return b


class VnKeyboard(BoxLayout):
    """QWERTY with Telex composition (VNI digits on the top row), shift, space, backspace, done."""

    ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"]

    def __init__(self, on_done=None, **kw):
        # 16 px between keys (SPACING_MIN): a finger that misses lands on nothing, not on the neighbour
        super().__init__(orientation="vertical", spacing=SPACING_MIN, padding=8, size_hint_y=None, **kw)
        self.on_done = on_done
        self.shift = True
        Background.paint(self, theme().header_bg if theme().name == "high_contrast" else (0.85, 0.87, 0.9, 1))
        self.height = 5 * TOUCH_MIN + 4 * SPACING_MIN + 16
        self._build()

    def _build(self):
        self.clear_widgets()
        lang = app().lang
        self.letters: list = []
        for i, row in enumerate(self.ROWS):
            line = BoxLayout(spacing=SPACING_MIN, size_hint_y=None, height=TOUCH_MIN)
            if i == 3:
                self.shift_key = _key("⇧", self._toggle_shift, kind="selected" if self.shift else "secondary")
                line.add_widget(self.shift_key)
            for ch in row:
                key = _key(ch, lambda c=ch: self._type(c.upper() if self.shift and c.isalpha() else c))
                if ch.isalpha():
                    self.letters.append(key)
                line.add_widget(key)
            if i == 3:
                line.add_widget(_key("⌫", lambda: app().type_backspace()))
            self.add_widget(line)
        last = BoxLayout(spacing=SPACING_MIN, size_hint_y=None, height=TOUCH_MIN)
        self.method_key = _key(app().input_method.upper(), self._cycle_method, width=140)
        last.add_widget(self.method_key)
        last.add_widget(_key(",", lambda: self._type(",")))
        last.add_widget(_key(tr("kb.space", lang), lambda: self._type(" ")))
        last.add_widget(_key("@", lambda: self._type("@"), width=90))
        last.add_widget(_key(".", lambda: self._type("."), width=90))
        last.add_widget(_key(tr("kb.done", lang), lambda: self.on_done and self.on_done(), kind="selected"))
        self.add_widget(last)
        self._show_case()

    def _show_case(self):
        # relabel in place: rebuilding 45 keys per capital letter costs a texture each
        for key in self.letters:
            key.text = key.text.upper() if self.shift else key.text.lower()
        t = theme()
        self.shift_key.background_color = t.selected if self.shift else t.secondary
        self.shift_key.color = t.selected_fg if self.shift else t.secondary_fg

    def _type(self, ch: str):
        app().type_char(ch)
        if self.shift and ch.isalpha():
            self.shift = False
            self._show_case()
        elif ch == " ":
            self.shift = True  # names: every word starts with a capital
            self._show_case()

    def _toggle_shift(self):
        self.shift = not self.shift
        self._show_case()

    def _cycle_method(self):
        app().cycle_input_method()
        self.method_key.text = app().input_method.upper()


class NumPad(GridLayout):
    """Big digits for ID numbers, dates, phones and PINs."""

    def __init__(self, on_done=None, **kw):
        super().__init__(cols=3, spacing=SPACING_MIN, padding=8, size_hint_y=None, **kw)
        self.height = 4 * (TOUCH_MIN + 16) + 3 * SPACING_MIN + 16
        Background.paint(self, (0.85, 0.87, 0.9, 1) if theme().name != "high_contrast" else theme().header_bg)
        for ch in "123456789":
            self.add_widget(self._k(ch, lambda c=ch: app().type_char(c)))
        self.add_widget(self._k("⌫", lambda: app().type_backspace()))
        self.add_widget(self._k("0", lambda: app().type_char("0")))
        self.add_widget(self._k(tr("kb.done", app().lang), lambda: on_done and on_done(), kind="selected"))

    @staticmethod
    def _k(label, fn, kind="secondary"):
        b = _key(label, fn, kind=kind)
        b.height = TOUCH_MIN + 16
        return b
