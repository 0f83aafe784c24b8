"""Step kinds on the kiosk's side, registered in one place: for each kind of ``flows.steps``, the
screen that shows it, its texts, what its help clip says and frames, and how the scripted citizen
(``kiosk.tools.journeys``) and the help-clip walk (``kiosk.tools.media_gen``) get through it.

Each module of this package (``kiosk/ui/steps/<kind>.py``, named after the kind) declares
``UI = StepUI("<kind>", ...)``. Importing this package does not import Kivy: a screen is named
(``"module:Class"``) and imported when the app builds its screens.

Adding a step kind (the whole list is in ``flows/steps/__init__.py``), nothing else is edited:

1. ``flows/steps/<kind>.py`` — engine, sample answers, text preview, loader rules;
2. ``kiosk/ui/steps/<kind>.py`` — this entry: ``screen`` and ``screen_class`` (an existing screen,
   or a new module ``kiosk/ui/screens/<kind>.py``; named, not imported, so this package stays
   Kivy-free), ``strings`` (its i18n texts), ``hint_vi`` and ``button`` (the help clip),
   ``citizen`` and ``clip`` (the two scripted walks);
3. its name in ``flows/schema/flow.schema.json``.

The app (``show_step``), the screen list (``kiosk.ui.screens.all_screens``), ``kiosk.ui.i18n.tr``,
the scripted journeys and the help-clip generator read these entries.

Handlers. ``citizen(w, label)`` acts on the step's screen as a citizen would; ``w`` is a
``kiosk.tools.journeys.Citizen`` (``w.d`` the touch driver, ``w.app``, ``w.engine``, ``w.res``,
``w.finish``, ``w.tap(key)``, ``w.shot(name)``, ``w.fill_form()``, ``w.capture_documents(label)``,
``w.chip_read()``); it returns True when the visit is over. ``clip(c)`` leaves the step the
quickest way for the help-clip walk; ``c`` is a ``kiosk.tools.media_gen.ClipWalk`` (``c.d``,
``c.app``, ``c.engine``, ``c.step``, ``c.choices``, ``c.tap(key)``); it returns True when it has
left the step itself, else the walk presses the screen's "Continue".
"""
from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable

from common.registry import discover


def look_and_continue(w, label: str) -> bool:
    """The scripted citizen on a screen that only asks to be read: look, then "Continue"."""
    w.shot(label)
    w.tap("nav.next")
    return False


@dataclass(frozen=True)
class StepUI:
    kind: str
    screen: str                 # the ScreenManager name the app goes to for a step of this kind
    screen_class: str           # "module:Class" of that screen, imported when the app builds it
    hint_vi: str = ""           # the help clip: what to do, after the step's title and text ({button})
    button: str | None = "nav.next"  # i18n key of the main button the clip frames and names (None: none)
    citizen: Callable[[Any, str], bool | None] = look_and_continue  # the scripted journey
    clip: Callable[[Any], bool | None] | None = None                # the help-clip walk (None: "Continue")

    def load_screen_class(self) -> type:
        module, _, name = self.screen_class.partition(":")
        return getattr(importlib.import_module(module), name)


_lock = threading.RLock()
_entries: dict[str, StepUI] | None = None


def ui_kinds() -> dict[str, StepUI]:
    """Every kind's entry by kind name (the modules of this package)."""
    global _entries
    if _entries is None:
        with _lock:
            if _entries is None:
                _entries = discover(sys.modules[__name__], "UI", StepUI, "kind")
    return _entries


def step_ui(kind: str) -> StepUI:
    """The entry of ``kind``; KeyError for a kind with no kiosk/ui/steps module."""
    return ui_kinds()[kind]


def screen_for(kind: str) -> str:
    """The screen name that shows a step of ``kind``."""
    return step_ui(kind).screen


def by_screen(name: str) -> StepUI | None:
    """The kind shown on screen ``name``, or None for a screen that is no step's."""
    return next((e for e in ui_kinds().values() if e.screen == name), None)
