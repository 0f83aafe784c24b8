"""Basic widgets that follow the kiosk theme: big buttons, wrapping text, a screen scaffold."""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.properties import AliasProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

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
    """A vertical scroll area with a wide bar in the edge colour. ``more_below``: the content goes
    on below what shows (the speech mode says so; :class:`ScrollArea` shows "còn nữa ▼")."""

    def __init__(self, child, **kw):
        t = theme()
        super().__init__(do_scroll_x=False, bar_width=16, scroll_type=["bars", "content"],
                         bar_color=list(t.edge), bar_inactive_color=list(t.edge), **kw)
        self.add_widget(child)

    @property
    def overflows(self) -> bool:
        child = self.children[0] if self.children else None
        return child is not None and child.height > self.height + 1

    @property
    def more_below(self) -> bool:
        return self.overflows and self.scroll_y > 0.001


class ScrollCue(Label):
    """"còn nữa ▼" ("more below ▼"): a pill in the selected colour, under a scroll area (never over
    what it scrolls), visible while there is more below. A label, not a button: nothing to tap."""

    kiosk_role = "scroll_cue"

    def __init__(self, **kw):
        t = theme()
        word = "còn nữa ▼" if app().lang == "vi" else "more below ▼"
        super().__init__(text=word, font_size=sizes()["small"], bold=True, color=t.selected_fg,
                         size_hint=(None, None), halign="center", valign="middle", **kw)
        self.texture_update()
        tw, th = self.texture_size
        self.size = (tw + 40, th + 16)
        Background.paint(self, t.selected, radius=10)


class ScrollArea(BoxLayout):
    """A :class:`Scroller` with a strip under it for the :class:`ScrollCue` (a citizen does not
    guess that a screen scrolls). The strip takes room only while the content is taller than the
    whole area: the scroll view is then shorter by the strip, and the cue sits below the last
    visible line instead of on it. While nothing overflows the area looks like a plain column.

    ``scroll_y``, ``scroll_to`` and ``more_below`` are the scroll view's (``view``)."""

    GAP = 8  # px between the scrolled content's edge and the cue

    def __init__(self, child, **kw):
        super().__init__(orientation="vertical", spacing=0, **kw)
        self.view = Scroller(child)
        self.cue = ScrollCue()
        self.strip = BoxLayout(size_hint_y=None, height=0, padding=[0, self.GAP, 16 + 12, 0])
        self.strip.add_widget(Widget())
        self.strip.add_widget(self.cue)
        self.add_widget(self.view)
        self.add_widget(self.strip)
        self.view.bind(scroll_y=self._sync, height=self._sync)
        self.bind(height=self._sync)
        child.bind(height=self._sync)
        self._sync()
        Clock.schedule_once(self._sync, 0)

    def _sync(self, *_):
        child = self.view.children[0] if self.view.children else None
        # against the whole area, not the view: the strip shortens the view, which must not
        # take the strip away again (a content between the two heights would flicker)
        overflow = child is not None and child.height > self.height + 1
        strip = self.cue.height + self.GAP
        # an area squeezed below one row's height has no room for the strip either: the cue would
        # be drawn outside it, over its neighbours (the screen audit reports such an area)
        overflow = overflow and self.height >= strip + TOUCH_MIN
        self.strip.height = strip if overflow else 0
        self.strip.opacity = 1 if overflow else 0
        self.cue.opacity = 1 if self.view.more_below else 0

    @property
    def more_below(self) -> bool:
        return self.view.more_below

    def _get_scroll_y(self):
        return self.view.scroll_y

    def _set_scroll_y(self, value):
        self.view.scroll_y = value
        return True

    scroll_y = AliasProperty(_get_scroll_y, _set_scroll_y, bind=())

    def scroll_to(self, widget, **kw):
        return self.view.scroll_to(widget, **kw)


def scroller(child) -> ScrollArea:
    """``child`` (a Column: its height is its content's) in a scroll area with the "còn nữa ▼" cue."""
    return ScrollArea(child)
