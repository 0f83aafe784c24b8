"""Basic widgets that follow the kiosk theme: big buttons, wrapping text, a screen scaffold."""
from __future__ import annotations

from kivy.app import App
from kivy.graphics import Color, Rectangle, RoundedRectangle
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


class BigButton(Button):
    """A flat, high-contrast button at least TOUCH_MIN tall, with wrapping text."""

    def __init__(self, text: str, kind: str = "primary", on_press=None, height=None, **kw):
        t = theme()
        bg, fg = {
            "primary": (t.primary, t.primary_fg),
            "secondary": (t.secondary, t.secondary_fg),
            "ok": (t.ok, (1, 1, 1, 1)),
            "danger": (t.danger, (1, 1, 1, 1)),
        }[kind]
        kw.setdefault("size_hint_y", None)
        super().__init__(
            text=text,
            font_size=kw.pop("font_size", sizes()["button"]),
            color=fg,
            background_normal="",
            background_down="",
            background_color=bg,
            halign="center",
            valign="middle",
            height=max(height or TOUCH_MIN + 16, TOUCH_MIN),
            **kw,
        )
        self.kind = kind
        self.bind(size=lambda *_: setattr(self, "text_size", (self.width - 24, None)))
        if on_press:
            self.bind(on_release=lambda *_: on_press())


class Column(BoxLayout):
    def __init__(self, spacing=16, padding=0, **kw):
        kw.setdefault("size_hint_y", None)
        super().__init__(orientation="vertical", spacing=spacing, padding=padding, **kw)
        self.bind(minimum_height=self.setter("height"))


class Row(BoxLayout):
    def __init__(self, spacing=16, height=None, **kw):
        kw.setdefault("size_hint_y", None)
        super().__init__(orientation="horizontal", spacing=spacing, height=height or TOUCH_MIN + 16, **kw)


def scroller(child) -> ScrollView:
    sv = ScrollView(do_scroll_x=False, bar_width=12, scroll_type=["bars", "content"])
    sv.add_widget(child)
    return sv
