"""The scaffold every screen shares: a toolbar (centre, call staff, read aloud, text size, contrast,
language), a title block (procedure, step x of n, help, start over, title) and a body that the screen rebuilds whenever it is shown or the citizen changes a display setting."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.ui.i18n import tr
from kiosk.ui.theme import HEADER_SIZES, SPACING_MIN, TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Column, Outline, Row, Text, app, sizes, theme


class KioskScreen(Screen):
    title_key = "app.title"
    show_back = True       # a "◀ Quay lại" at the bottom left (step screens put theirs in their footer)
    show_restart = False   # "Làm lại từ đầu" (step screens), beside the step indicator, asks before it wipes
    show_help = False      # "Xem hướng dẫn" (step screens)
    own_footer = False     # the screen builds its own footer with its back button

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

    def kicker(self) -> str:
        """A small line above the title (a step screen: the procedure's name)."""
        return ""

    def step_indicator(self) -> str:
        """"Bước 3 trên 9" on a step screen; empty where there are no steps."""
        return ""

    def on_pre_enter(self, *args):
        self.refresh()

    def refresh(self) -> None:
        # the field being typed in on this screen: a switch of language, contrast or text size
        # rebuilds the body, and the citizen must not have to tap the field again (nor lose
        # the keyboard) because of it
        typing = getattr(app(), "focused_field", None)
        host = typing
        while host is not None and host is not self.root_box:
            host = host.parent
        typing_id = getattr(typing, "field_id", None) if host is not None else None
        self._refresh()
        if typing_id is not None:
            def find(w):
                if getattr(w, "field_id", None) == typing_id and hasattr(w, "set_focused"):
                    return w
                return next((f for f in map(find, w.children) if f is not None), None)

            again = find(self.root_box)
            if again is not None:
                app().focus_field(again)

    def _refresh(self) -> None:
        self.root_box.clear_widgets()
        self.root_box.canvas.before.clear()
        Background.paint(self.root_box, theme().bg)
        self.root_box.add_widget(self._header())
        self.root_box.add_widget(self._title_block())
        body = BoxLayout(orientation="vertical", padding=[32, 8, 32, 24], spacing=20)
        self.root_box.add_widget(body)
        self.build_body(body)
        if self.show_back and not self.own_footer:
            body.add_widget(footer(BigButton(tr("nav.back", app().lang), kind="secondary", on_press=self.on_back),
                                   Widget()))

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

    def _title_block(self) -> BoxLayout:
        """The procedure's name (small), the step indicator and "start over" on one line, far
        from the toolbar; the step's own title below, large. Nothing here is ever cut off: each
        line wraps."""
        a = app()
        lang = a.lang
        t = theme()
        block = Column(spacing=4, padding=[32, 12, 32, 0])
        kicker, indicator = self.kicker(), self.step_indicator()
        if kicker or indicator or self.show_restart or self.show_help:
            row = Row(spacing=SPACING_MIN, height=TOUCH_MIN)
            left = Column(spacing=0, size_hint_x=1)
            if indicator:
                step = Text(indicator, role="small", bold=True, color=t.fg)
                step.kiosk_role = "step_indicator"
                left.add_widget(step)
            if kicker:
                left.add_widget(Text(kicker, role="small", color=t.muted))
            row.add_widget(left)
            if self.show_help:
                row.add_widget(self._bar_button(tr("nav.help", lang), self.on_help))
            if self.show_restart:
                row.add_widget(self._bar_button(tr("nav.restart", lang), self.confirm_restart))
            block.add_widget(row)
        block.add_widget(Text(self.title(), role="title", bold=True, color=t.fg))
        return block

    @staticmethod
    def _bar_button(text, fn) -> BigButton:
        b = BigButton(text, kind="secondary", on_press=fn, size_hint_x=None, font_size=sizes()["small"],
                      height=TOUCH_MIN)
        b.texture_update()
        b.width = max(TOUCH_MIN * 2, b.texture_size[0] + 48)
        return b

    def _header(self) -> BoxLayout:
        """The toolbar: the same buttons in the same places on every screen, each with a word on
        it. At ×2 text it takes two rows (the centre's name, then the buttons) instead of
        cutting the name."""
        a = app()
        lang = a.lang
        t = theme()
        large = a.session.large_text
        font = HEADER_SIZES["large" if large else "normal"]
        logo = Button(text="★", font_size=font * 1.8, size_hint_x=None, width=TOUCH_MIN,
                      background_normal="", background_down="", background_color=t.header_bg,
                      color=(1, 0.85, 0.1, 1))
        logo.bind(on_release=lambda *_: a.secret_tap())  # five taps: maintenance PIN pad
        logo.kiosk_role = "secret_tap"  # not a citizen's control: the keypad skips it
        name = a.cfg["kiosk"]["centre_name"] if lang == "vi" else tr("app.title", lang)
        centre = Label(text=name, font_size=font, color=t.header_fg, halign="left", valign="middle")
        centre.bind(size=lambda *_: setattr(centre, "text_size", (centre.width, None)))

        help_call = self._hbtn("☎ " + tr("nav.call_staff", lang), self.on_call_staff, font, strong=True)
        help_call.kiosk_role = "help_call"
        speech = self._hbtn(tr("nav.listen", lang), None, font)
        speech.kiosk_role = "speech_key"
        _hold_or_tap(speech, on_tap=self.on_listen, on_hold=lambda: _call(a, "start_speech_mode"))
        tools = [
            help_call,
            speech,
            self._hbtn(tr("text.normal_short" if large else "text.large_short", lang), a.toggle_large_text, font),
            self._hbtn("◐ " + tr("contrast", lang), a.toggle_contrast, font),
            self._hbtn(tr("lang.switch", lang), a.toggle_language, font),
        ]
        height = TOUCH_MIN + 24
        if not large:
            bar = BoxLayout(size_hint_y=None, height=height, padding=[16, 12], spacing=SPACING_MIN)
            bar.kiosk_role = "toolbar"
            Background.paint(bar, t.header_bg)
            bar.add_widget(logo)
            bar.add_widget(centre)
            for b in tools:
                bar.add_widget(b)
            return bar
        bar = BoxLayout(orientation="vertical", size_hint_y=None, padding=[16, 12], spacing=SPACING_MIN)
        bar.kiosk_role = "toolbar"
        Background.paint(bar, t.header_bg)
        top = BoxLayout(size_hint_y=None, height=TOUCH_MIN, spacing=SPACING_MIN)
        top.add_widget(logo)
        top.add_widget(centre)
        top.add_widget(tools.pop(0))  # the help call stays beside the name
        bar.add_widget(top)
        row = BoxLayout(size_hint_y=None, height=TOUCH_MIN + 8, spacing=SPACING_MIN)
        row.add_widget(Widget())
        for b in tools:
            row.add_widget(b)
        bar.add_widget(row)
        bar.height = top.height + row.height + SPACING_MIN + 24
        return bar

    @staticmethod
    def _hbtn(text, fn, font, strong=False):
        t = theme()
        fill, fg = ((t.header_fg, t.header_bg) if strong and t.name != "high_contrast"
                    else ((t.primary, t.primary_fg) if strong else (t.header_button, t.header_fg)))
        b = Button(text=text, font_size=font, size_hint_x=None, bold=strong,
                   background_normal="", background_down="", background_color=fill,
                   color=fg, halign="center", valign="middle")
        Outline.paint(b, t.header_fg, 2)
        b.texture_update()
        b.width = max(TOUCH_MIN + 24, b.texture_size[0] + 40)
        if fn is not None:
            b.bind(on_release=lambda *_: fn())
        return b

    def on_call_staff(self) -> None:
        try:
            from kiosk.ui.widgets.help_call import open_help_call
        except ImportError:  # the panel ships with the help-call service; without it, say where staff are
            self._notice(tr("help_call.unavailable", app().lang))
            return
        open_help_call()

    def confirm_restart(self) -> None:
        """"Start over" wipes what the citizen entered: ask first, with "continue" as the
        prominent answer."""
        from kivy.uix.modalview import ModalView

        a = app()
        lang = a.lang
        if a.session.engine is None and not a.session.has_personal_data:
            a.start_over()
            return
        view = ModalView(size_hint=(0.7, None), auto_dismiss=False)
        box = Column(spacing=24, padding=32)
        Background.paint(box, theme().bg, radius=16)
        box.add_widget(Text(tr("restart.confirm_title", lang), role="title", bold=True))
        box.add_widget(Text(tr("restart.confirm_text", lang), role="body"))
        row = Row(spacing=SPACING_MIN * 2)
        row.add_widget(BigButton(tr("restart.yes", lang), kind="danger", on_press=lambda: (view.dismiss(), a.start_over())))
        row.add_widget(BigButton(tr("restart.no", lang), kind="primary", on_press=view.dismiss))
        box.add_widget(row)
        box.bind(minimum_height=lambda *_: setattr(view, "height", box.minimum_height))
        view.speech_text = tr("restart.confirm_title", lang) + ". " + tr("restart.confirm_text", lang)
        view.add_widget(box)
        view.open()

    def _notice(self, text: str) -> None:
        from kivy.uix.modalview import ModalView

        view = ModalView(size_hint=(0.6, None), height=360)
        box = Column(spacing=24, padding=32, size_hint_y=1)
        Background.paint(box, theme().bg, radius=16)
        box.add_widget(Text(text, role="body"))
        box.add_widget(BigButton(tr("nav.close", app().lang), kind="primary", on_press=view.dismiss))
        view.add_widget(box)
        view.speech_text = text
        view.open()

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
        """A tap on "Đọc to": the speech mode reads this screen (kiosk.ui.access), else its title."""
        a = app()
        if not _call(a, "read_screen"):
            a.read_aloud(self.title())


def _call(a, method: str) -> bool:
    """Call ``a.<method>()`` if the app has it (the speech mode adds them); True if it did."""
    fn = getattr(a, method, None)
    if fn is None:
        return False
    fn()
    return True


HOLD_S = 1.5


def _hold_or_tap(button, on_tap, on_hold) -> None:
    """A tap calls ``on_tap``; holding the button ``HOLD_S`` seconds calls ``on_hold`` instead
    (how a citizen who cannot see the screen starts the speech mode from any screen)."""
    from kivy.clock import Clock

    state = {"ev": None, "held": False}

    def down(*_):
        state["held"] = False

        def fire(_dt):
            state["held"] = True
            on_hold()

        state["ev"] = Clock.schedule_once(fire, HOLD_S)

    def up(*_):
        if state["ev"] is not None:
            state["ev"].cancel()
            state["ev"] = None
        if not state["held"]:
            on_tap()

    button.bind(on_press=down, on_release=up)


def footer(*buttons) -> BoxLayout:
    """The bottom row: back on the left, the screen's one primary action on the right."""
    row = Row(spacing=SPACING_MIN * 2, height=TOUCH_MIN + 24)
    for b in buttons:
        row.add_widget(b)
    return row


def next_button(on_press, text_key="nav.next") -> BigButton:
    return BigButton(tr(text_key, app().lang), kind="primary", on_press=on_press)
