"""The scaffold every screen shares: a header (title, back, start over, help, language, text size)
and a body that the screen rebuilds whenever it is shown or the citizen changes a display setting."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.screenmanager import Screen

from kiosk.ui.i18n import tr
from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Text, app, sizes, theme


class KioskScreen(Screen):
    title_key = "app.title"
    show_back = True
    show_restart = True
    show_help = False

    def __init__(self, **kw):
        super().__init__(**kw)
        self.root_box = BoxLayout(orientation="vertical")
        self.add_widget(self.root_box)
        # bound, not overridden: subclasses' own on_leave need not call super()
        self.bind(on_leave=lambda *_: self.release_body())

    # subclasses fill the body
    def build_body(self, body: BoxLayout) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def title(self) -> str:
        return tr(self.title_key, app().lang)

    def on_pre_enter(self, *args):
        self.refresh()

    def refresh(self) -> None:
        self.root_box.clear_widgets()
        self.root_box.canvas.before.clear()
        Background.paint(self.root_box, theme().bg)
        self.root_box.add_widget(self._header())
        title = Text(self.title(), role="title", bold=True, color=theme().fg, padding=[32, 12])
        self.root_box.add_widget(title)
        body = BoxLayout(orientation="vertical", padding=[32, 8, 32, 24], spacing=20)
        self.root_box.add_widget(body)
        self.build_body(body)

    def release_body(self) -> None:
        """Drop the widgets (and their text textures) of a screen nobody sees.

        ``refresh()`` rebuilds the body on every entry anyway, so a screen left behind only holds
        memory: with software GL each label is a texture in RAM, and 18 screens kept ~1,400 widgets
        and ~450 textures alive after one visit. Widgets a screen keeps in attributes (a search
        field, a status line) would otherwise hold their whole tree through ``parent``; unhooking
        every level lets each be collected on its own."""
        def unhook(widget):
            for child in list(widget.children):
                unhook(child)
            widget.clear_widgets()

        unhook(self.root_box)
        self.root_box.canvas.before.clear()
        self.kb_slot = None

    def _header(self) -> BoxLayout:
        """The toolbar: the same buttons in the same places on every screen."""
        a = app()
        lang = a.lang
        bar = BoxLayout(size_hint_y=None, height=TOUCH_MIN + 24, padding=[16, 12], spacing=12)
        Background.paint(bar, theme().header_bg)
        logo = Button(text="★", font_size=sizes()["title"], size_hint_x=None, width=TOUCH_MIN,
                      background_normal="", background_down="", background_color=theme().header_bg,
                      color=(1, 0.85, 0.1, 1))
        logo.bind(on_release=lambda *_: a.secret_tap())  # five taps: maintenance PIN pad
        bar.add_widget(logo)
        bar.add_widget(Text(a.cfg["kiosk"]["centre_name"] if lang == "vi" else tr("app.title", lang), role="small",
                            color=(1, 1, 1, 1), size_hint_y=1, shorten=True))
        if self.show_back:
            bar.add_widget(self._hbtn(tr("nav.back", lang), self.on_back, 220))
        if self.show_help:
            bar.add_widget(self._hbtn(tr("nav.listen", lang), self.on_listen, 150))
            bar.add_widget(self._hbtn(tr("nav.help", lang), self.on_help, 240))
        if self.show_restart:
            bar.add_widget(self._hbtn(tr("nav.restart", lang), a.start_over, 240))
        bar.add_widget(self._hbtn("A−" if a.session.large_text else "A+", a.toggle_large_text, 90))
        bar.add_widget(self._hbtn("◐", a.toggle_contrast, 90))
        bar.add_widget(self._hbtn(tr("lang.switch", lang), a.toggle_language, 190))
        return bar

    @staticmethod
    def _hbtn(text, fn, width):
        b = Button(text=text, font_size=sizes()["small"], size_hint_x=None, width=width,
                   background_normal="", background_down="", background_color=(1, 1, 1, 0.18),
                   color=(1, 1, 1, 1), halign="center", valign="middle")
        b.bind(size=lambda *_: setattr(b, "text_size", (b.width - 8, None)))
        b.bind(on_release=lambda *_: fn())
        return b

    # --- the on-screen keyboard: one slot at the bottom of the body, filled when a field takes focus
    def keyboard_slot(self) -> BoxLayout:
        self.kb_slot = BoxLayout(size_hint_y=None, height=0)
        return self.kb_slot

    def show_keyboard(self, field) -> None:
        from kiosk.ui.widgets.keyboard import NUMERIC_TYPES, NumPad, VnKeyboard

        slot = getattr(self, "kb_slot", None)
        if slot is None:
            return
        kind = NumPad if field.kind in NUMERIC_TYPES else VnKeyboard
        if slot.children and isinstance(slot.children[0], kind):
            return  # the right keyboard is already up: keep its state (shift, input method)
        slot.clear_widgets()
        kb = kind(on_done=self.keyboard_done)
        slot.height = kb.height
        slot.add_widget(kb)

    def hide_keyboard(self) -> None:
        slot = getattr(self, "kb_slot", None)
        if slot is not None:
            slot.clear_widgets()
            slot.height = 0
        app().focus_field(None)

    def keyboard_done(self) -> None:
        self.hide_keyboard()

    def on_back(self) -> None:
        app().go_back()

    def on_help(self) -> None:
        pass

    def on_listen(self) -> None:
        pass


def footer(*buttons) -> BoxLayout:
    row = BoxLayout(size_hint_y=None, height=TOUCH_MIN + 24, spacing=20)
    for b in buttons:
        row.add_widget(b)
    return row


def next_button(on_press, text_key="nav.next") -> BigButton:
    return BigButton(tr(text_key, app().lang), kind="primary", on_press=on_press)
