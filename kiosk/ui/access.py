"""Keypad navigation and the speech mode: the whole visit without seeing or touching the screen.

A citizen who cannot see the screen (or cannot reach it) plugs headphones into the kiosk's jack,
presses a key of the keypad (5, found by its raised dot; "*" turns the speech on and off) or holds
"Đọc to" for 1.5 s, and hears every screen, every focused control, every error and notice and the
idle warning; the keypad moves a focus ring through the screen's controls in reading order and
presses the focused one. docs/touchscreen.md is the
technician's page (the keys, the speech mode, the audio output).

Generic by design: the controls, their reading order and what is said about them come from the
widget tree as it is drawn (Buttons and anything with ``kiosk_focusable = True``; labels of input
fields; lines given a speech role, error or notice, by kiosk/ui/widgets/text_role.py), so screens
other engineers change keep working. Hooks a screen or a
widget may offer, all optional:

- ``kiosk_focusable = False`` on a control the keypad must skip (the hidden maintenance ★ also
  has ``kiosk_role = "secret_tap"``); ``kiosk_role = "toolbar"`` (or ``"header"``) on the toolbar,
  so a screen's first focus lands on its content rather than the toolbar;
- ``kiosk_label`` on a control: what to say instead of its text; ``kiosk_personal = True`` on a
  control or label whose text is the citizen's (said only on the "hear the value" key);
- ``speech_text`` on a ModalView: what to say when it opens; ``speech_intro()`` on a screen:
  what to say after the title (default: the step's text from the flow definition).

Privacy: what the citizen typed or the card holds (the session's applicant and answers, any
input field's value) is never said unless the citizen presses "hear the value", then with
``cache=False`` (nothing of it stays on disk) and an ID number only by its last 4 digits.
"""
from __future__ import annotations

import logging
import re

from kivy.clock import Clock
from kivy.core.window import Keyboard, Window
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

from kiosk.ui.i18n import tr

log = logging.getLogger(__name__)

ACTIONS = ("next", "previous", "activate", "back", "speech", "repeat", "stop", "slower", "faster",
           "volume_down", "volume_up", "hear_value", "delete", "done")
# actions that only make sense while a field is being typed into (they share keys with others)
EDITING_ACTIONS = ("delete", "done")
NAVIGATION = ("next", "previous", "activate")

_CODE_NAMES: dict[int, str] = {}
for _name, _code in Keyboard.keycodes.items():
    _CODE_NAMES.setdefault(_code, _name)
_CODE_NAMES[47] = "/"
_CODE_NAMES[32] = "spacebar"

# symbols on buttons, said as words (a screen reader would say "black left-pointing triangle")
SYMBOL_WORDS = {
    "vi": {"⌫": "xóa lùi", "⇧": "chữ hoa", "◀": "", "▶": "", "✓": "", "▦": "", "◉": "", "☎": "", "✕": "",
           "▣": "", "◐": "", "★": "", "▼": "", "▲": "", "@": "a còng", ".": "dấu chấm", ",": "dấu phẩy"},
    "en": {"⌫": "backspace", "⇧": "shift", "◀": "", "▶": "", "✓": "", "▦": "", "◉": "", "☎": "", "✕": "",
           "▣": "", "◐": "", "★": "", "▼": "", "▲": "", "@": "at", ".": "dot", ",": "comma"},
}


def key_names(key: int, codepoint, modifiers) -> list[str]:
    """The names a key event may be configured by, most specific first: "shift+tab", "tab";
    "#" for the hash key whatever its code; "numpad8" for the keypad's 8."""
    base = _CODE_NAMES.get(key) or (chr(key) if 32 < key < 0x110000 else "")
    names = []
    if codepoint in ("*", "#"):
        names.append(codepoint)
    if "shift" in (modifiers or ()) and base:
        names.append(f"shift+{base}")
    if base:
        names.append(base)
    return names


def char_of(names) -> str | None:
    """The character SDL sends (as text input) after the key named ``names``, if any."""
    for n in names:
        if n in ("*", "#", "numpadmul"):
            return "*" if n == "numpadmul" else n
        if n == "shift+3":
            return "#"
        if n.startswith("numpad") and n[6:].isdigit():
            return n[6:]
        if len(n) == 1:
            return n
    return None


def numpad_digit(names) -> str | None:
    for n in names:
        if n.startswith("numpad") and n[6:].isdigit():
            return n[6:]
    return None


class KeyMap:
    """``[accessibility] keys_<action>`` → {key name: [actions]} (one key may serve two actions,
    told apart by whether a field is being typed into)."""

    def __init__(self, section: dict):
        self.by_name: dict[str, list[str]] = {}
        for action in ACTIONS:
            for name in section.get(f"keys_{action}", []) or []:
                self.by_name.setdefault(str(name).lower() if len(str(name)) > 1 else str(name), []).append(action)

    def actions(self, names) -> list[str]:
        for n in names:
            found = self.by_name.get(n if len(n) == 1 else n.lower())
            if found:
                return found
        return []


# --- privacy ---------------------------------------------------------------------------------------
_ID_RUN = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){8,11}(?!\d)")


def mask_ids(text: str, lang: str = "vi") -> str:
    """Any run of 9 to 12 digits (an ID number, old or new) said by its last 4 digits only."""
    def repl(m):
        digits = re.sub(r"\D", "", m.group(0))
        last = " ".join(digits[-4:])
        return f"số có 4 chữ số cuối là {last}" if lang == "vi" else f"a number ending in {last}"

    return _ID_RUN.sub(repl, text)


def personal_values(app) -> list[str]:
    """What this visit's citizen typed or the card holds, as it may appear on screen."""
    import datetime as dt

    out: set[str] = set()
    session = app.session

    def add(v):
        if isinstance(v, dict):
            for x in v.values():
                add(x)
            return
        if isinstance(v, (list, tuple)):
            return  # a multi-choice answer: option ids, public
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            return
        v = v.strip()
        # a name, an address, a number of 4 digits or more, a long word: the citizen's; a short
        # single word ("Không", "Nam") is also an everyday word of the screens, said as it is
        if not (len(v.split()) >= 2 or sum(c.isdigit() for c in v) >= 4 or len(v) >= 8):
            return
        out.add(v)
        try:
            d = dt.date.fromisoformat(v[:10])
            out.add(d.strftime("%d/%m/%Y"))
        except ValueError:
            pass

    for v in (session.applicant or {}).values():
        add(v)
    engine = session.engine
    if engine is not None:
        fields = getattr(engine.flow, "fields", {}) or {}
        for fid, v in (engine.answers or {}).items():
            f = fields.get(fid)
            if f is not None and getattr(f, "type", "") in ("choice", "multi_choice", "yes_no"):
                continue  # an option's id and label come from the flow definition
            add(v)
    field = getattr(app, "focused_field", None)
    if field is not None:
        add(field.text)
    return sorted(out, key=len, reverse=True)


def _fold(s: str) -> str:
    return " ".join(s.casefold().split())


def contains_personal(text: str, values) -> bool:
    t = _fold(text)
    digits = re.sub(r"\D", "", text)
    for v in values:
        if _fold(v) in t:
            return True
        vd = re.sub(r"\D", "", v)
        if len(vd) >= 6 and len(vd) >= len(v) - 4 and vd in digits:  # a phone or ID written with spaces
            return True
    return bool(_ID_RUN.search(text))


def hide_personal(text: str, values, lang: str) -> str:
    """``text`` with the citizen's values replaced by the words "private value"."""
    word = "thông tin riêng" if lang == "vi" else "private value"
    out = text
    for v in values:
        out = re.sub(re.escape(v), word, out, flags=re.IGNORECASE)
    return _ID_RUN.sub(word, out)


# --- the widget tree ----------------------------------------------------------------------------------
def window_rect(w) -> tuple[float, float, float, float]:
    x, y = w.to_window(*w.pos)
    return x, y, w.width, w.height


def _shown(w) -> bool:
    return w.opacity > 0 and not getattr(w, "disabled", False)


def is_control(w) -> bool:
    if getattr(w, "kiosk_focusable", None) is False or getattr(w, "kiosk_role", None) == "secret_tap":
        return False
    if getattr(w, "kiosk_focusable", None):
        return True
    if not isinstance(w, ButtonBehavior):
        return False
    if getattr(w, "kiosk_role", None) == "input" or _field_of(w) is not None:
        return True  # an input field, empty or not
    text = getattr(w, "text", "") or getattr(w, "kiosk_label", "")
    return bool(text) and text != "★"  # the maintenance gesture is not a citizen's control


def reading_order(widgets) -> list:
    """Siblings in reading order: lines top to bottom (widgets whose heights overlap by half
    share a line), each line left to right."""
    rects = [(w, window_rect(w)) for w in widgets]
    rects.sort(key=lambda p: -(p[1][1] + p[1][3]))
    lines: list[list] = []
    for w, (x, y, wd, h) in rects:
        if lines:
            line = lines[-1]
            lo = min(r[1] for _, r in line)
            hi = max(r[1] + r[3] for _, r in line)
            overlap = min(hi, y + h) - max(lo, y)
            if h > 0 and overlap >= 0.5 * min(h, hi - lo if hi > lo else h):
                line.append((w, (x, y, wd, h)))
                continue
        lines.append([(w, (x, y, wd, h))])
    out = []
    for line in lines:
        out.extend(w for w, _ in sorted(line, key=lambda p: p[1][0]))
    return out


def controls_in(root) -> list:
    """The visible controls under ``root`` in reading order (computed level by level, so a
    scrolled-away part of a list keeps its place)."""
    out: list = []

    def walk(w):
        kids = [c for c in w.children if _shown(c) and c.width > 0 and c.height > 0]
        for c in reading_order(kids):
            if is_control(c):
                out.append(c)
            else:
                walk(c)

    walk(root)
    return out


def labels_in(root) -> list:
    out = []

    def walk(w):
        for c in w.children:
            if not _shown(c):
                continue
            if isinstance(c, Label) and not isinstance(c, ButtonBehavior) and c.text:
                out.append(c)
            walk(c)

    walk(root)
    return out


def _within(w, ancestor) -> bool:
    p = w
    while p is not None:
        if p is ancestor:
            return True
        if p.parent is p:
            return False
        p = p.parent
    return False


def _field_of(w):
    from kiosk.ui.widgets.keyboard import VnField

    p = getattr(w, "parent", None)
    return p if isinstance(p, VnField) else None


def _keyboard_of(root):
    from kiosk.ui.widgets.keyboard import NumPad, VnKeyboard

    def walk(w):
        for c in w.children:
            if isinstance(c, (NumPad, VnKeyboard)):
                return c
            found = walk(c)
            if found is not None:
                return found
        return None

    return walk(root)


def top_modal():
    for w in Window.children:  # the last opened is first
        if isinstance(w, ModalView):
            return w
    return None


def scroll_into_view(w) -> None:
    p = w.parent
    while p is not None and p.parent is not p:
        if isinstance(p, ScrollView):
            vx, vy, vw, vh = window_rect(p)
            x, y, ww, wh = window_rect(w)
            if y < vy or y + wh > vy + vh:
                p.scroll_to(w, padding=24, animate=False)
            return
        p = p.parent


class FocusRing:
    """A thick two-tone outline on the focused control's canvas.after: the theme's focus colour
    (≥ 3:1 against the page in both themes: tests/kiosk/test_keypad_journey.py measures it), 6 px,
    with a 2 px inner line in the page colour, so it shows on any fill."""

    WIDTH = 3  # Kivy's Line width is half the stroke: 3 → a 6 px outline

    def __init__(self):
        self.widget = None
        self.group = None

    def show(self, w, theme) -> None:
        from kivy.graphics import Color, InstructionGroup, Line

        self.hide()
        g = InstructionGroup()
        outer = Line(width=self.WIDTH)
        inner = Line(width=1)
        g.add(Color(*getattr(theme, "focus", (0.0, 0.33, 0.85, 1))))
        g.add(outer)
        g.add(Color(*theme.bg))
        g.add(inner)
        d = self.WIDTH

        def place(*_):
            outer.rectangle = (w.x + d, w.y + d, max(w.width - 2 * d, 1), max(w.height - 2 * d, 1))
            inner.rectangle = (w.x + 2 * d + 1, w.y + 2 * d + 1, max(w.width - 4 * d - 2, 1),
                               max(w.height - 4 * d - 2, 1))

        place()
        w.canvas.after.add(g)
        w.bind(pos=place, size=place)
        self.widget, self.group, self._place = w, g, place

    def hide(self) -> None:
        if self.widget is not None and self.group is not None:
            try:
                self.widget.canvas.after.remove(self.group)
                self.widget.unbind(pos=self._place, size=self._place)
            except Exception:  # noqa: BLE001 - a widget already dropped with its canvas
                pass
        self.widget = self.group = None


class Access:
    """One per app (``KioskApp.access``): the focus, the keys, the speech mode."""

    TICK_S = 0.15

    def __init__(self, app):
        self.app = app
        self.cfg = app.cfg["accessibility"]
        self.keymap = KeyMap(self.cfg)
        self.ring = FocusRing()
        self.focus = None
        self.engaged = False          # a key was pressed (or speech started) in this visit
        self.spoken: list[tuple[str, str]] = []  # (screen, public text) said in this visit, for tests
        # test and demo hooks: called with ("arrive", screen, title) on each new screen or step and
        # ("say", screen, public text) for each thing said; never with a private text
        self.listeners: list = []
        self._scope_key = None
        self._prev_scope = None
        self._pending_arrival = False
        self._saved_focus = None      # where the focus was when a panel opened over the screen
        self._last_focus_text = ""
        self._last_index = 0
        self._errors: set[tuple[str, str]] = set()  # (role, text) already said
        self._swallow: str | None = None
        self._last_said: tuple[str, bool] | None = None
        Window.bind(on_textinput=self._on_textinput)  # bound after the app's: called first
        self._tick_event = Clock.schedule_interval(self._tick, self.TICK_S)

    def close(self) -> None:
        """Let go of the window and the clock (the app stops): the window and the clock outlive an
        app in the same process, and a handler left bound would still take the keys."""
        Window.unbind(on_textinput=self._on_textinput)
        self._tick_event.cancel()

    # --- what the keys do -----------------------------------------------------------------------
    def on_key(self, key, scancode, codepoint, modifiers) -> bool:
        """A key went down. True when it was the keypad's (nothing else should act on it)."""
        self._swallow = None
        names = key_names(key, codepoint, modifiers)
        actions = self.keymap.actions(names)
        field = self.app.focused_field
        numeric = field is not None and _is_numeric(field)
        if not actions and not (numeric and numpad_digit(names)):
            return False
        self.app.session.keyed()
        first_key = not self.engaged
        self.engaged = True
        if self._pending_arrival or self._scope_key != self._current_scope_key():
            self._arrive(speak=True)
        if numeric:
            digit = numpad_digit(names)
            if digit is not None:
                self.app.type_char(digit)
                self._swallow = digit
                return True
        self._swallow = char_of(names)
        if field is not None:
            if "delete" in actions:
                self.app.type_backspace()
                return True
            if "done" in actions or ("activate" in actions and (self.focus is None or _field_of(self.focus) is field)):
                self.finish_field()
                return True
        actions = [a for a in actions if a not in EDITING_ACTIONS]
        if not actions:
            self._swallow = None
            return False
        action = actions[0]
        if (first_key and action in NAVIGATION and self.cfg.get("speech_on_keypad")
                and not self.app.session.speech_mode and not self.app.session.speech_declined):
            # the visit's first key (5, found by its raised dot, or 8, 2, Enter, an arrow) only turns
            # the speech mode on: the citizen hears the screen and the focused control before any
            # key presses or moves anything (5 would otherwise press a control nobody heard)
            self.start_speech()
            return True
        getattr(self, f"do_{action}")()
        return True

    def _on_textinput(self, _window, text):
        # SDL sends the character of a keypad key after its key event: a key the keypad used is
        # not typed into the field as well
        if self._swallow is not None and text == self._swallow:
            self._swallow = None
            return True
        return False

    def do_next(self):
        self.move(+1)

    def do_previous(self):
        self.move(-1)

    def do_activate(self):
        w = self.focus
        if w is None or not self._attached(w):
            self._place_initial(speak=True)
            return
        field = _field_of(w)
        if field is not None:
            field.focus()  # edit it: the keyboard comes up, the keypad's digits type
            return
        w.trigger_action(duration=0)

    def do_back(self):
        modal = top_modal()
        if modal is not None:
            from kiosk.ui.widgets.idle import IdleWarning

            if isinstance(modal, IdleWarning):
                self.app._stay()
            else:
                modal.dismiss()
            return
        screen = self.app.sm.current_screen
        if getattr(screen, "show_back", True) and hasattr(screen, "on_back"):
            screen.on_back()

    def do_speech(self):
        if self.app.session.speech_mode:
            self.stop_speech()
        else:
            self.start_speech()

    def do_repeat(self):
        if self._last_said:
            text, cache = self._last_said
            self._say(text, cache=cache)

    def do_stop(self):
        self.app.stop_speaking()

    def do_slower(self):
        self._rate(-1)

    def do_faster(self):
        self._rate(+1)

    def do_volume_down(self):
        self._volume(-1)

    def do_volume_up(self):
        self._volume(+1)

    def do_hear_value(self):
        self.hear_value()

    def finish_field(self) -> None:
        """Leave the field being typed into, as its keyboard's "Done" key does."""
        screen = self.app.sm.current_screen
        field = self.app.focused_field
        kb = _keyboard_of(self._scope_root())
        done = tr("kb.done", self.app.lang)
        key = next((k for k in (controls_in(kb) if kb is not None else []) if getattr(k, "text", "") == done), None)
        if key is not None:
            key.trigger_action(duration=0)
        elif hasattr(screen, "keyboard_done"):
            screen.keyboard_done()
        else:
            self.app.focus_field(None)
        if field is not None and field.get_root_window() is not None:
            self.set_focus(field.box, speak=True)

    # --- focus -------------------------------------------------------------------------------------
    def _scope_root(self):
        modal = top_modal()
        return modal if modal is not None else self.app.sm.current_screen

    def controls(self) -> list:
        """The controls the keypad reaches now, in reading order: an open panel's only; while a
        field is being typed into, the field and its keyboard's keys; else the screen's."""
        modal = top_modal()
        if modal is not None:
            return controls_in(modal)
        screen = self.app.sm.current_screen
        field = self.app.focused_field
        if field is not None and field.get_root_window() is not None:
            kb = _keyboard_of(screen)
            keys = controls_in(kb) if kb is not None else []
            return [field.box] + keys
        return controls_in(screen)

    def _attached(self, w) -> bool:
        return w is not None and w.get_root_window() is not None

    def move(self, step: int) -> None:
        ctrls = self.controls()
        if not ctrls:
            return
        if self.focus in ctrls:
            i = (ctrls.index(self.focus) + step) % len(ctrls)
        else:
            i = 0 if step > 0 else len(ctrls) - 1
            if self.focus is None:
                self._place_initial(speak=True)
                return
        self.set_focus(ctrls[i], speak=True)

    def set_focus(self, w, speak: bool = True) -> None:
        self.focus = w
        if w is None:
            self.ring.hide()
            return
        scroll_into_view(w)
        self.ring.show(w, self.app.theme)
        ctrls = self.controls()
        self._last_index = ctrls.index(w) if w in ctrls else 0
        self._last_focus_text = _plain(getattr(w, "text", ""))
        if speak and self.app.session.speech_mode:
            self._say_public(self.describe(w))

    def _initial(self, ctrls):
        """Where the focus lands on a screen: an empty input field, else the primary action,
        else the first control after the toolbar."""
        if not ctrls:
            return None
        content = [w for w in ctrls if not self._in_toolbar(w)] or ctrls
        for w in content:
            f = _field_of(w)
            if f is not None and not f.text:
                return w
        for w in content:
            if getattr(w, "kind", None) == "primary":
                return w
        return content[0]

    def _in_toolbar(self, w) -> bool:
        screen = self.app.sm.current_screen
        bar = None
        root_box = getattr(screen, "root_box", None)
        if root_box is not None and root_box.children:
            bar = root_box.children[-1]  # the first row the scaffold adds
        p = w
        while p is not None and p.parent is not p:
            if getattr(p, "kiosk_role", None) in ("toolbar", "header") or p is bar:
                return True
            p = p.parent
        return False

    def _place_initial(self, speak: bool) -> None:
        ctrls = self.controls()
        self.set_focus(self._initial(ctrls), speak=speak)

    def _relocate(self) -> None:
        """The focused control was rebuilt (a screen redraws its body on every answer): the
        control with the same words, else the one at the same place."""
        ctrls = self.controls()
        if not ctrls:
            self.set_focus(None)
            return
        same = [w for w in ctrls if _plain(getattr(w, "text", "")) == self._last_focus_text and self._last_focus_text]
        if same:
            target = min(same, key=lambda w: abs(ctrls.index(w) - self._last_index))
        else:
            target = ctrls[min(self._last_index, len(ctrls) - 1)]
        self.set_focus(target, speak=False)

    # --- arriving somewhere: a screen, a step, a panel, a field's keyboard ---------------------------
    def _current_scope_key(self):
        a = self.app
        engine = a.session.engine
        step = engine.step.id if engine is not None and not engine.done else None
        modal = top_modal()
        field = a.focused_field
        # the language too: switched, the screen is said again in the other one
        return (a.sm.current, step, id(modal) if modal is not None else None,
                id(field) if field is not None else None, a.lang)

    def _tick(self, _dt) -> None:
        if not (self.engaged or self.app.session.speech_mode):
            return
        key = self._current_scope_key()
        if key != self._scope_key:
            if not self._pending_arrival:
                self._prev_scope = self._scope_key  # where the citizen came from
            self._pending_arrival = True
            self._scope_key = key
            return  # one tick later: the new widgets are laid out
        if self._pending_arrival:
            self._arrive(speak=True)
            return
        if self.focus is not None and not self._attached(self.focus):
            self._relocate()
        elif self.focus is not None and self.focus not in self.controls():
            self._relocate()
        self._check_errors()

    def _arrive(self, speak: bool) -> None:
        old = self._prev_scope if self._pending_arrival else self._scope_key
        self._prev_scope = None
        self._scope_key = self._current_scope_key()
        self._pending_arrival = False
        modal = top_modal()
        field = self.app.focused_field
        if modal is not None:
            if self._saved_focus is None and self.focus is not None and not _within(self.focus, modal):
                self._saved_focus = (self._last_focus_text, self._last_index)
            self._place_initial(speak=False)
            if speak:
                self._announce_modal(modal)
            return
        if field is not None:
            self.set_focus(field.box, speak=False)
            if speak and self.app.session.speech_mode:
                self._say_public(self._editing_hint(field))
            return
        same_screen = old is not None and old[:2] == self._scope_key[:2] and old[4:] == self._scope_key[4:]
        if same_screen and (old[2] is not None or old[3] is not None):
            # a panel closed or a field was finished: back where the citizen was
            if self._saved_focus is not None:
                self._last_focus_text, self._last_index = self._saved_focus
            self._saved_focus = None
            self._relocate()
            return
        self._saved_focus = None
        self._errors = set(self._announced())
        self._emit("arrive", self.app.sm.current, _plain(_call_str(self.app.sm.current_screen, "title")))
        self._place_initial(speak=False)
        if speak and self.app.session.speech_mode:
            self._say_public(self.screen_text(with_focus=True))

    def _announce_modal(self, modal) -> None:
        if not self.app.session.speech_mode:
            return
        text = getattr(modal, "speech_text", None)
        if not text:
            text = ". ".join(lb.text for lb in labels_in(modal)[:3])
        parts = [text]
        if self.focus is not None:
            parts.append(self.describe(self.focus))
        self._say_public(". ".join(p for p in parts if p))

    def _editing_hint(self, field) -> str:
        lang = self.app.lang
        key = "access.typing_number" if _is_numeric(field) else "access.typing_text"
        return f"{_plain(field.label.text)}. {tr(key, lang)}"

    def screen_text(self, with_focus: bool = False) -> str:
        """What the speech mode says on arriving: title, step x of n, the instructions, the
        errors, how to move, and the focused control."""
        a = self.app
        lang = a.lang
        screen = a.sm.current_screen
        modal = top_modal()
        parts = []
        title = _call_str(screen, "title")
        if title:
            parts.append(title)
        for lb in labels_in(screen):
            if getattr(lb, "kiosk_role", None) == "step_indicator":
                parts.append(lb.text)
                break
        intro = _call_str(screen, "speech_intro") or _call_str(screen, "step_text")
        if intro:
            parts.append(intro)
        announced = self._announcement(self._announced())  # errors ("Có lỗi: …"), then notices
        if announced:
            parts.append(announced)
        if modal is not None and getattr(modal, "speech_text", None):
            parts.append(modal.speech_text)
        parts.append(tr("access.how_to_move", lang))
        if with_focus and self.focus is not None:
            parts.append(tr("access.focused", lang) + " " + self.describe(self.focus))
        return ". ".join(_plain(p).rstrip(". ") for p in parts if p)

    # --- errors and notices appearing ---------------------------------------------------------------------
    def _announced(self) -> list[tuple[str, str]]:
        """(role, text) of the lines on the screen (or the open panel) that have a speech role
        (kiosk/ui/widgets/text_role.py): an error, or a notice such as the card reminder. By
        role, never by colour: red is a reminder's colour too."""
        from kiosk.ui.widgets.text_role import ROLES, role_of

        out = []
        for lb in labels_in(self._scope_root()):
            role = role_of(lb)
            if role in ROLES and lb.text.strip():
                out.append((role, lb.text.strip()))
        return out

    def _announcement(self, lines: list[tuple[str, str]]) -> str:
        """"Có lỗi: …" for the errors, the notices as they are."""
        from kiosk.ui.widgets.text_role import ERROR, NOTICE

        lang = self.app.lang
        parts = []
        errors = [t for role, t in lines if role == ERROR]
        if errors:
            parts.append(tr("access.errors", lang) + " " + ". ".join(_plain(e).rstrip(". ") for e in errors))
        parts.extend(_words(t, lang).rstrip(". ") for role, t in lines if role == NOTICE)
        return ". ".join(p for p in parts if p)

    def _check_errors(self) -> None:
        current = self._announced()
        new = [(role, t) for role, t in current if (role, t) not in self._errors]
        self._errors = set(current)
        if new and self.app.session.speech_mode:
            self._say_public(self._announcement(new))

    # --- what a control is called -----------------------------------------------------------------------
    def describe(self, w) -> str:
        lang = self.app.lang
        field = _field_of(w)
        if field is not None:
            label = _plain(field.label.text)
            required = label.endswith("*")
            label = label.rstrip(" *")
            parts = [label, tr("access.field", lang)]
            if required:
                parts.append(tr("access.required", lang))
            parts.append(tr("access.filled" if field.text else "access.empty", lang))
            if field.error.text:
                parts.append(field.error.text)
            return ", ".join(parts)
        text = getattr(w, "kiosk_label", None) or getattr(w, "text", "") or ""
        chosen = text.lstrip().startswith("✓")
        said = _words(text, lang)
        values = personal_values(self.app)
        if getattr(w, "kiosk_personal", False):
            said = tr("access.private", lang) + ". " + tr("access.hear_value_hint", lang)
        elif contains_personal(said, values):
            said = hide_personal(said, values, lang) + ". " + tr("access.hear_value_hint", lang)
        if chosen:
            said += ", " + tr("access.chosen", lang)
        return said

    def hear_value(self) -> None:
        """The "nghe giá trị" key: the focused field's value (an ID number by its last 4 digits),
        else the citizen's data shown next to the focused control. Never cached."""
        a = self.app
        lang = a.lang
        w = self.focus
        field = _field_of(w) if w is not None else None
        if field is not None:
            if not field.text:
                self._say_public(_plain(field.label.text).rstrip(" *") + ", " + tr("access.empty", lang))
                return
            value = field.text
            if field.kind == "date" and len(value) == 8:
                value = f"{value[:2]}/{value[2:4]}/{value[4:]}"
            if field.kind in ("id_number", "can", "pin") or getattr(field, "secret", False):
                value = tr("access.last_digits", lang, digits=" ".join(value[-4:]))
            self._say_private(_plain(field.label.text).rstrip(" *") + ": " + value)
            return
        values = personal_values(a)
        texts = []
        if w is not None:
            own = getattr(w, "text", "") or ""
            if getattr(w, "kiosk_personal", False) or contains_personal(own, values):
                texts.append(_words(own, lang))
            p, hops = w.parent, 0
            while not texts and p is not None and hops < 3 and p.parent is not p:
                texts = [lb.text for lb in labels_in(p)
                         if getattr(lb, "kiosk_personal", False) or contains_personal(lb.text, values)]
                p, hops = p.parent, hops + 1
        if not texts:  # nothing beside the focus: everything of the citizen's on this screen
            texts = [lb.text for lb in labels_in(self._scope_root())
                     if getattr(lb, "kiosk_personal", False) or contains_personal(lb.text, values)]
        if not texts:
            self._say_public(tr("access.no_value", lang))
            return
        self._say_private(". ".join(_plain(t) for t in texts))

    # --- the speech mode ------------------------------------------------------------------------------
    def start_speech(self) -> None:
        s = self.app.session
        s.speech_mode, s.speech_declined = True, False
        self.engaged = True
        if self.focus is None or not self._attached(self.focus):
            self._place_initial(speak=False)
        self._scope_key = self._current_scope_key()
        self._errors = set(self._announced())
        self._emit("arrive", self.app.sm.current, _plain(_call_str(self.app.sm.current_screen, "title")))
        self._say_public(tr("access.speech_on", self.app.lang) + ". " + self.screen_text(with_focus=True))

    def stop_speech(self) -> None:
        s = self.app.session
        if s.speech_mode:
            self.app.stop_speaking()
            s.speech_mode, s.speech_declined = False, True
            # said once, short, so the citizen knows the key worked
            self.app.read_aloud(tr("access.speech_off", self.app.lang))

    def read_screen(self) -> None:
        """A tap on "Đọc to": this screen once, speech mode or not."""
        self._say_public(self.screen_text(with_focus=self.focus is not None))

    def _rate(self, direction: int) -> None:
        s = self.app.session
        c = self.cfg
        rate = s.speech_rate or c["speech_rate"]
        s.speech_rate = max(c["speech_rate_min"], min(c["speech_rate_max"], rate + direction * c["speech_rate_step"]))
        self._say_public(tr("access.slower" if direction < 0 else "access.faster", self.app.lang))

    def _volume(self, direction: int) -> None:
        s = self.app.session
        vol = s.speech_volume if s.speech_volume is not None else self.cfg["speech_volume"]
        s.speech_volume = round(max(0.05, min(1.0, vol + direction * self.cfg["volume_step"])), 2)
        sound = getattr(self.app, "_speech_sound", None)
        if sound is not None:
            sound.volume = s.speech_volume
        self._say_public(tr("access.volume", self.app.lang, n=int(round(s.speech_volume * 100))))

    def _say_public(self, text: str) -> None:
        """Public words (titles, labels, instructions): a citizen's value in them is replaced
        by "private value" first, so nothing personal is ever cached or said unasked."""
        values = personal_values(self.app)
        if contains_personal(text, values):
            text = hide_personal(text, values, self.app.lang)
        self._say(text, cache=True)

    def _say_private(self, text: str) -> None:
        self._say(mask_ids(text, self.app.lang), cache=False)

    def _say(self, text: str, cache: bool) -> None:
        if not any(c.isalnum() for c in text):
            return  # a symbol alone: espeak-ng makes no sound of it
        self._last_said = (text, cache)
        self.app.read_aloud(text, cache=cache)

    def record(self, screen: str, text: str) -> None:
        """``KioskApp.read_aloud`` says public ``text`` on ``screen``."""
        self.spoken.append((screen, text))
        self._emit("say", screen, text)

    def _emit(self, kind: str, screen: str, text: str) -> None:
        for fn in list(self.listeners):
            fn(kind, screen, text)

    def end_visit(self) -> None:
        """The visit is over: nothing of it stays (what was said, the focus, the keys' state)."""
        self.spoken.clear()
        self._last_said = None
        self.ring.hide()
        self.focus = None
        self.engaged = False
        self._scope_key = None
        self._prev_scope = None
        self._pending_arrival = False
        self._saved_focus = None
        self._errors = set()


def _is_numeric(field) -> bool:
    from kiosk.ui.widgets.keyboard import NUMERIC_TYPES

    return getattr(field, "kind", "") in NUMERIC_TYPES


def _call_str(obj, name: str) -> str:
    fn = getattr(obj, name, None)
    if not callable(fn):
        return ""
    try:
        out = fn()
    except Exception:  # noqa: BLE001 - a screen between states (no engine yet): nothing to say
        return ""
    return out if isinstance(out, str) else ""


def _plain(text: str) -> str:
    """Markup and line breaks out: what a voice should read."""
    text = re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", text or "")
    return " ".join(text.split())


def _words(text: str, lang: str) -> str:
    table = SYMBOL_WORDS["en" if lang == "en" else "vi"]
    t = _plain(text)
    if t in table and table[t]:
        return table[t]
    for sym, word in table.items():
        if len(sym) == 1 and not sym.isalnum() and sym not in "@.,":
            t = t.replace(sym, f" {word} " if word else " ")
    return " ".join(t.split())
