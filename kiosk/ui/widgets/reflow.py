"""A screen body that reflows at ×2 text instead of spilling over the title and the toolbar.

The scaffold's body (kiosk.ui.screens.base) is a BoxLayout of fixed height: children taller than
it are drawn upward over the header. ``scroll_body(body)`` puts a scroll area in it whose content
is at least as tall as the area: spacers (``BoxLayout()``, size_hint_y=1) still centre what it
holds while everything fits, and when it does not (×2 text) it scrolls, with the "còn nữa ▼" cue
of ``kiosk.ui.widgets.common.Scroller``."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from kiosk.ui.theme import FONT_SIZES
from kiosk.ui.widgets.common import app, scroller


class FillColumn(BoxLayout):
    """A vertical box as tall as what it holds, or as its parent (a scroll area) if that is taller."""

    def __init__(self, spacing=20, padding=0, **kw):
        super().__init__(orientation="vertical", size_hint_y=None, spacing=spacing, padding=padding, **kw)
        self._host = None
        self.bind(minimum_height=self._fit, parent=self._watch)

    def _watch(self, *_):
        if self._host is not None:
            self._host.unbind(height=self._fit)
        self._host = self.parent
        if self._host is not None:
            self._host.bind(height=self._fit)
        self._fit()

    def _fit(self, *_):
        room = self._host.height if self._host is not None else 0
        self.height = max(self.minimum_height, room)


def scroll_body(body, spacing=None) -> FillColumn:
    """A scroll area filling what is left of ``body``; returns the column to fill."""
    col = FillColumn(spacing=body.spacing if spacing is None else spacing, padding=[0, 0, 20, 0])
    body.add_widget(scroller(col))
    return col


def huge_size() -> int:
    """The "huge" role (a ticket number, a thank-you) at ×2 text: one and a half times the normal
    size, not twice. Twice (192 px) wraps "Cảm ơn Quý khách!" onto lines that fill the screen."""
    normal = FONT_SIZES["normal"]["huge"]
    return int(normal * 1.5) if app().session.large_text else normal


def reveal(widget) -> None:
    """Scroll the nearest scroll area holding ``widget`` so that it shows (after the next layout:
    the keyboard coming up has just shrunk the area)."""
    host = widget.parent
    while host is not None and not isinstance(host, ScrollView):
        host = host.parent
    if host is None:
        return

    def scroll(_dt):
        if widget.get_root_window() is not None and host.children:
            host.scroll_to(widget, padding=16, animate=False)

    Clock.schedule_once(scroll, 0.05)
