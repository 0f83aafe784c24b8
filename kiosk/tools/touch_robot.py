"""Drive the real Kivy app in-process with real touch events: the demo and the UI tests use it.

Touches go through Kivy's input pipeline (``UnitTestTouch``), so a button that a citizen could
not hit (hidden, covered, off-screen) cannot be hit here either. Typing presses the on-screen
keyboard's keys one by one, which is what the touch/keystroke counters count.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.label import Label


class DriverError(AssertionError):
    pass


# the text input SDL sends after a key (NumLock on), for keys whose name is not their character
KEY_TEXT = {**{f"numpad{i}": str(i) for i in range(10)}, "numpadmul": "*", "numpadadd": "+",
            "numpadsubstract": "-", "numpaddivide": "/", "numpaddecimal": ".", "spacebar": " "}


class Driver:
    def __init__(self, app, shots_dir: str | os.PathLike | None = None):
        self.app = app
        self.shots_dir = Path(shots_dir) if shots_dir else None
        self.shot_no = 0
        self.touches = 0
        self.typed = 0
        self.keys = 0
        self.shots: list[Path] = []

    # --- the loop ---------------------------------------------------------------------------------
    def pump(self, frames: int = 3) -> None:
        for _ in range(frames):
            EventLoop.idle()

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(1)
            if predicate():
                self.pump(2)
                return
            time.sleep(0.01)
        raise DriverError(f"timed out after {timeout:.0f}s waiting for {what} (screen {self.screen})")

    def wait_screen(self, name: str, timeout: float = 15.0) -> None:
        self.wait_for(lambda: self.screen == name, timeout, f"screen {name!r}")

    @property
    def screen(self) -> str:
        return self.app.sm.current

    # --- finding widgets --------------------------------------------------------------------------
    def _walk(self, widget):
        yield widget
        for child in widget.children:
            yield from self._walk(child)

    def _roots(self):
        return list(Window.children)  # modal views sit above the screen manager

    def texts(self) -> list[str]:
        out = []
        for root in self._roots():
            for w in self._walk(root):
                if isinstance(w, Label) and w.text:
                    out.append(w.text)
        return out

    def has_text(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts())

    def find_button(self, fragment: str, exact: bool = False) -> Button:
        candidates = []
        for root in self._roots():
            for w in self._walk(root):
                if isinstance(w, Button) and w.text and (w.text == fragment if exact else fragment in w.text):
                    if w.get_root_window() is not None and w.width > 0 and w.height > 0:
                        candidates.append(w)
            if candidates:
                break  # the top-most root (a modal) wins
        # several matches: the first in reading order, as a person would pick
        candidates.sort(key=lambda w: (-round(w.to_window(w.x, w.top)[1]), w.to_window(w.x, w.y)[0]))
        if not candidates:
            raise DriverError(f"no button with text {fragment!r} on screen {self.screen}; "
                              f"buttons: {[b.text for r in self._roots() for b in self._walk(r) if isinstance(b, Button)][:40]}")
        return candidates[0]

    # --- acting ----------------------------------------------------------------------------------------
    def tap(self, fragment: str, exact: bool = False, frames: int = 3) -> None:
        self.tap_widget(self.find_button(fragment, exact), frames)

    def tap_widget(self, button, frames: int = 3) -> None:
        from kivy.tests.common import UnitTestTouch

        self._scroll_into_view(button)
        x, y = button.to_window(*button.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.touches += 1
        # a finger's pace: a ScrollView holds a touch for its scroll_timeout (55 ms) before it
        # hands it to the button under it; the next touch must not arrive before that
        end = time.monotonic() + 0.07
        self.pump(frames)
        while time.monotonic() < end:
            time.sleep(0.01)
            self.pump(1)
        self._settle_modals()

    def _settle_modals(self, timeout: float = 5.0) -> None:
        # A modal view fades in and out over 0.1 s and swallows every touch meanwhile; on a
        # loaded machine the next tap would land on a panel that is already closing.
        from kivy.uix.modalview import ModalView

        end = time.monotonic() + timeout
        while time.monotonic() < end and any(
                isinstance(w, ModalView) and w._anim_alpha < 1 for w in Window.children):
            time.sleep(0.01)
            self.pump(1)

    def _scroll_into_view(self, widget) -> None:
        from kivy.uix.scrollview import ScrollView

        parent = widget.parent
        while parent is not None and not isinstance(parent, ScrollView):
            if parent is parent.parent or parent is Window:  # the window is its own parent
                return
            parent = parent.parent
        if parent is not None:
            # scroll like a citizen's finger would, so the touch lands inside the visible area
            vx, vy = parent.to_window(parent.x, parent.y)
            wx, wy = widget.to_window(widget.x, widget.y)
            if wy < vy or wy + widget.height > vy + parent.height:
                parent.scroll_to(widget, padding=20, animate=False)
                self.pump(3)

    def type_keys(self, raw: str) -> None:
        """Press on-screen keys for each character (Telex composition happens in the field)."""
        for ch in raw:
            label = {" ": None}.get(ch, ch)
            if ch == " ":
                self._tap_key_containing(("dấu cách", "space"))
            else:
                self._tap_key(label)
            self.typed += 1

    def find_key(self, label: str) -> Button:
        """A key of the on-screen keyboard: a form field that shows "1" is not the key "1"."""
        from kiosk.ui.widgets.keyboard import NumPad, VnKeyboard

        for root in self._roots():
            for w in self._walk(root):
                if isinstance(w, (VnKeyboard, NumPad)) and w.get_root_window() is not None:
                    for key in self._walk(w):
                        if isinstance(key, Button) and key.text == label and key.width > 0:
                            return key
        raise DriverError(f"no key {label!r} on the on-screen keyboard (screen {self.screen})")

    def press_key(self, label: str) -> None:
        self.tap_widget(self.find_key(label), frames=1)

    def _tap_key(self, ch: str) -> None:
        """Press the key for ``ch``; on the letter keyboard, press shift first when the case differs."""
        try:
            self.tap_widget(self.find_key(ch), frames=1)
            return
        except DriverError:
            if not ch.isalpha():
                raise
        self.tap_widget(self.find_key("⇧"), frames=1)
        self.tap_widget(self.find_key(ch), frames=1)

    def _tap_key_containing(self, labels) -> None:
        for label in labels:
            try:
                self.tap_widget(self.find_key(label), frames=1)
                return
            except DriverError:
                continue
        raise DriverError(f"no key among {labels}")

    # --- keys: what SDL does for a key of a keyboard or a USB keypad ------------------------------------
    def key(self, name: str, frames: int = 3) -> None:
        """Press and release the key ``name`` (Kivy's names: "down", "enter", "numpad8", "f2",
        "shift+tab", or a character: "*", "#"), dispatched through the Window as WindowSDL does:
        on_key_down, then on_keyboard unless the key was taken, then the text input SDL sends
        for a character key (a keypad with NumLock on sends its digit), then on_key_up."""
        from kivy.core.window import Keyboard

        mods = []
        if name.startswith("shift+"):
            mods, name = ["shift"], name[len("shift+"):]
        code = Keyboard.keycodes.get(name)
        if code is None:
            if len(name) != 1:
                raise DriverError(f"no key named {name!r}")
            code = ord(name)
        text = KEY_TEXT.get(name) or (name if len(name) == 1 else None)
        if mods and name == "3":
            text = "#"
        kstr = chr(code) if code < 0x110000 else None
        if not Window.dispatch("on_key_down", code, 0, kstr, mods):
            Window.dispatch("on_keyboard", code, 0, kstr, mods)
        if text:
            Window.dispatch("on_textinput", text)
        Window.dispatch("on_key_up", code, 0)
        self.keys += 1
        self.pump(frames)

    # --- looking ----------------------------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        if self.shots_dir is None:
            raise DriverError("no screenshot folder")
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        self.pump(3)
        self.shot_no += 1
        target = self.shots_dir / f"{self.shot_no:02d}-{name}.png"
        # Kivy numbers its file (tmp0001.png) from what is in the folder: a name of this process's
        # own, or two test processes writing into one folder take each other's file
        made = Window.screenshot(name=str(self.shots_dir / f"tmp-{os.getpid()}.png"))
        shutil.move(made, target)
        self.shots.append(target)
        return target


class KeypadDriver(Driver):
    """The same scripted citizen without touching the screen: every "tap" moves the keypad's
    focus to that control (next/previous keys, the shorter way round) and presses it; digits go
    into a number field from the keypad; the touch counter stays 0. Keys are the 12-key keypad's
    by default (``[accessibility]`` in config/kiosk.toml: 8 next, 2 previous, 5 select, # done,
    * delete while typing)."""

    NEXT, PREVIOUS, SELECT, DONE, DELETE = "numpad8", "numpad2", "numpad5", "#", "numpadmul"

    def __init__(self, app, shots_dir=None, listen: bool = True):
        super().__init__(app, shots_dir)
        self.listen = listen

    def settle(self, timeout: float = 10.0) -> None:
        """Wait as a listening citizen would: until the kiosk has taken in the new screen (its
        focus placed and, in the speech mode, what it says about it requested)."""
        nav = self.app.access
        if not (nav.engaged or self.app.session.speech_mode):
            return  # no key yet this visit: the first one takes the screen in
        self.wait_for(lambda: not nav._pending_arrival and nav._scope_key == nav._current_scope_key()
                      and (nav.focus is None or nav.focus.get_root_window() is not None),
                      timeout, "the keypad focus to settle")

    def focus_on(self, widget) -> None:
        nav = self.app.access
        self._settle_modals()
        self.settle()
        for _ in range(400):
            ctrls = nav.controls()
            if widget not in ctrls:
                raise DriverError(f"{getattr(widget, 'text', widget)!r} cannot be reached by the keypad on "
                                  f"{self.screen}; reachable: {[getattr(w, 'text', '?') for w in ctrls][:60]}")
            if nav.focus is widget:
                return
            n = len(ctrls)
            here = ctrls.index(nav.focus) if nav.focus in ctrls else None
            if here is None:
                self.key(self.NEXT, frames=2)
                continue
            there = ctrls.index(widget)
            self.key(self.NEXT if (there - here) % n <= (here - there) % n else self.PREVIOUS, frames=1)
        raise DriverError(f"the keypad focus never reached {getattr(widget, 'text', widget)!r}")

    def tap_widget(self, button, frames: int = 3) -> None:
        from kiosk.ui.widgets.keyboard import NumPad

        field = self.app.focused_field
        done = _text_of("kb.done", self.app.lang)
        if field is not None and getattr(button, "text", None) == done and _inside(button, (NumPad,)):
            self.key(self.DONE, frames)
        elif field is not None and getattr(button, "text", None) == "⌫" and _inside(button, (NumPad,)):
            self.key(self.DELETE, frames)
        else:
            self.focus_on(button)
            self.key(self.SELECT, frames)
        end = time.monotonic() + 0.07
        while time.monotonic() < end:
            time.sleep(0.01)
            self.pump(1)
        self._settle_modals()

    def _tap_key(self, ch: str) -> None:
        field = self.app.focused_field
        from kiosk.ui.widgets.keyboard import NUMERIC_TYPES

        if ch.isdigit() and field is not None and field.kind in NUMERIC_TYPES:
            self.key(f"numpad{ch}", frames=1)  # the keypad's digits type straight into a number field
            return
        super()._tap_key(ch)


def _text_of(key: str, lang: str) -> str:
    from kiosk.ui.i18n import tr

    return tr(key, lang)


def _inside(widget, kinds) -> bool:
    p = widget.parent
    while p is not None and p.parent is not p:
        if isinstance(p, kinds):
            return True
        p = p.parent
    return False
