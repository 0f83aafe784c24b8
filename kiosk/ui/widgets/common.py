"""Basic widgets that follow the kiosk theme: big buttons, wrapping text, a screen scaffold."""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from kiosk.ui.theme import TOUCH_MIN


def app():
    return App.get_running_app()


def sizes() -> dict:
    return app().sizes


def theme():
    return app().theme


class Background:
    """Paint a solid (optionally rounded) rectangle behind a widget, following its size."""

    @staticmethod
    def paint(widget, color, radius: float = 0):
        with widget.canvas.before:
            c = Color(*color)
            r = RoundedRectangle(radius=[radius]) if radius else Rectangle()
        widget._bg = (c, r)

        def sync(*_):
            r.pos, r.size = widget.pos, widget.size

        widget.bind(pos=sync, size=sync)
        sync()


class Outline:
    """Draw a ``width``-px frame inside a widget's box (on canvas.after, following its size): the
    edge of an input field or an unfilled button, which its fill alone does not show."""

    @staticmethod
    def paint(widget, color, width: float = 2):
        with widget.canvas.after:
            c = Color(*color)
            line = Line(width=width)
        widget._outline = (c, line)

        def sync(*_):
            x, y = widget.pos
            w, h = widget.size
            inset = width / 2
            line.rectangle = (x + inset, y + inset, max(w - 2 * inset, 0), max(h - 2 * inset, 0))

        widget.bind(pos=sync, size=sync)
        sync()


class Text(Label):
    """A label that wraps to its width and grows to its text's height."""

    def __init__(self, text: str = "", role: str = "body", color=None, bold=False, halign="left", **kw):
        kw.setdefault("size_hint_y", None)
        super().__init__(
            text=text,
            font_size=sizes()[role],
            color=color or theme().fg,
            bold=bold,
            halign=halign,
            valign="middle",
            **kw,
        )
        self.bind(width=lambda *_: setattr(self, "text_size", (self.width, None)))
        # an empty label takes no room (error lines that are blank until validation speaks)
        fit = lambda *_: setattr(self, "height", self.texture_size[1] if self.text else 0)  # noqa: E731
        self.bind(texture_size=fit, text=fit)
        fit()


def button_colours(kind: str) -> tuple[tuple, tuple, tuple | None]:
    """(fill, text, outline or None) of a button of ``kind``.

    One meaning per colour: ``primary`` (filled: the one next thing to do on a screen),
    ``selected`` (a chosen option), ``secondary`` (everything else, outlined), ``danger`` (a
    destructive choice, outlined in red). ``ok`` is kept for old callers and looks secondary."""
    t = theme()
    return {
        "primary": (t.primary, t.primary_fg, None),
        "selected": (t.selected, t.selected_fg, None),
        "secondary": (t.secondary, t.secondary_fg, t.edge),
        "ok": (t.secondary, t.secondary_fg, t.edge),
        "danger": (t.secondary, t.danger, t.danger),
    }[kind]


class BigButton(Button):
    """A flat, high-contrast button at least TOUCH_MIN tall, with wrapping text; it grows when its
    text wraps (large text), so nothing is ever cut off."""

    def __init__(self, text: str, kind: str = "primary", on_press=None, height=None, **kw):
        bg, fg, edge = button_colours(kind)
        kw.setdefault("size_hint_y", None)
        base_height = max(height or TOUCH_MIN + 16, TOUCH_MIN)
        super().__init__(
            text=text,
            font_size=kw.pop("font_size", sizes()["button"]),
            color=fg,
            background_normal="",
            background_down="",
            background_color=bg,
            halign="center",
            valign="middle",
            height=base_height,
            **kw,
        )
        self.kind = kind
        if edge is not None:
            Outline.paint(self, edge, 2)
        self.bind(size=lambda *_: setattr(self, "text_size", (self.width - 24, None)))
        if self.size_hint_y is None:
            self.bind(texture_size=lambda *_: setattr(self, "height", max(base_height, self.texture_size[1] + 24)))
        if on_press:
            self.bind(on_release=lambda *_: on_press())


class Column(BoxLayout):
    def __init__(self, spacing=16, padding=0, **kw):
        kw.setdefault("size_hint_y", None)
        super().__init__(orientation="vertical", spacing=spacing, padding=padding, **kw)
        self.bind(minimum_height=self.setter("height"))


class Row(BoxLayout):
    """A horizontal row as tall as its tallest child (a button whose text wraps at large text)."""

    def __init__(self, spacing=16, height=None, **kw):
        kw.setdefault("size_hint_y", None)
        super().__init__(orientation="horizontal", spacing=spacing, height=height or TOUCH_MIN + 16, **kw)
        self._min_height = self.height
        self.bind(children=self._watch)

    def _watch(self, *_):
        for child in self.children:
            child.unbind(height=self._fit)
            child.bind(height=self._fit)
        self._fit()

    def _fit(self, *_):
        tallest = max((c.height for c in self.children if c.size_hint_y is None), default=0)
        self.height = max(self._min_height, tallest + self.padding[1] + self.padding[3])


class Scroller(ScrollView):
    """A vertical scroll area that says so: a wide bar in the edge colour and, while there is more
    below, a "còn nữa ▼" cue drawn over its bottom edge (a citizen does not guess that a screen
    scrolls). ``more_below`` tells the speech mode the same."""

    def __init__(self, child, **kw):
        from kivy.core.text import Label as CoreLabel

        t = theme()
        super().__init__(do_scroll_x=False, bar_width=16, scroll_type=["bars", "content"],
                         bar_color=list(t.edge), bar_inactive_color=list(t.edge), **kw)
        self.add_widget(child)
        self.more_below = False
        word = "còn nữa ▼" if app().lang == "vi" else "more below ▼"
        core = CoreLabel(text=word, font_size=sizes()["small"], bold=True)
        core.refresh()
        self._cue_texture = core.texture
        with self.canvas.after:
            self._cue_bg_color = Color(*t.selected[:3], 0)
            self._cue_bg = RoundedRectangle(radius=[10])
            self._cue_fg_color = Color(*t.selected_fg[:3], 0)
            self._cue_fg = Rectangle(texture=self._cue_texture)
        self.bind(scroll_y=self._cue, size=self._cue, pos=self._cue)
        child.bind(height=self._cue)
        Clock.schedule_once(self._cue, 0)

    def _cue(self, *_):
        child = self.children[0] if self.children else None
        if child is None:
            return
        self.more_below = child.height > self.height + 1 and self.scroll_y > 0.001
        tw, th = self._cue_texture.size
        w, h = tw + 40, th + 16
        x, y = self.right - w - self.bar_width - 12, self.y + 10
        self._cue_bg.pos, self._cue_bg.size = (x, y), (w, h)
        self._cue_fg.pos, self._cue_fg.size = (x + 20, y + 8), (tw, th)
        alpha = 1 if self.more_below else 0
        self._cue_bg_color.a = alpha
        self._cue_fg_color.a = alpha


def scroller(child) -> ScrollView:
    return Scroller(child)
