"""Step kinds, registered in one place. Kivy-free: the engine, the loader, the sample walker and
the text preview read a kind from here and never name one themselves.

Each module of this package (``flows/steps/<kind>.py``, the module named after the kind) declares
``KIND = StepKind("<kind>", ...)``: what leaving such a step requires (``errors``), what happens
on entering it (``enter``), how a patient sample citizen answers it (``sample``), its lines in
``kiosk flows preview`` (``preview``) and the loader's rules for it (``slot``, ``can_hide``,
``single``, ``skip_barrier``, ``check_flow``). The kiosk's side of the same kind (its screen, help
hint and main button, its texts, the scripted citizen's handler) is ``kiosk/ui/steps/<kind>.py``.

Adding a step kind is three things, and nothing else is edited:

1. ``flows/steps/<kind>.py`` with its ``KIND`` (this package finds it by itself);
2. ``kiosk/ui/steps/<kind>.py`` with its ``UI`` entry: the screen it goes to (an existing screen,
   or its class in a new ``kiosk/ui/screens/<kind>.py``: the entry names it, so the registry
   stays Kivy-free), its help hint and button, its texts, the scripted citizen's and the
   help-clip walk's handlers;
3. its name in ``flows/schema/flow.schema.json`` (``$defs.step.properties.kind.enum``), plus any
   options it takes in ``$defs.step_options``: the published schema admins validate against.

The loader takes the allowed kinds from this registry (tests check that the schema's enum names
exactly these), the engine, ``flows.sample`` and ``flows.preview`` call the hooks, and the kiosk
app, its screen list, i18n, the scripted journeys and the help-clip generator read the UI entry.
"""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from common.registry import discover

if TYPE_CHECKING:  # pragma: no cover - for the hooks' signatures only
    from flows.engine import FlowEngine
    from flows.model import Flow, Step

Messages = dict[str, tuple[str, str]]  # {error key: (message_vi, message_en)}


def options_lines(flow: "Flow", step: "Step") -> list[str]:
    """The step's options as one preview line (none when it has none)."""
    if not step.options:
        return []
    return [f"options: {json.dumps(step.options, ensure_ascii=False, default=str)}"]


@dataclass(frozen=True)
class StepKind:
    """What the Kivy-free side knows about one kind of step. Hooks take the engine of the visit
    (``flows.engine.FlowEngine``) and the step; a hook left ``None`` does nothing."""

    name: str
    # --- the engine ---------------------------------------------------------------------------
    # what blocks leaving a step of this kind (the engine's errors()); None: nothing does
    errors: Callable[["FlowEngine", "Step"], Messages] | None = None
    # called when the engine enters a step of this kind (e.g. a default answer)
    enter: Callable[["FlowEngine", "Step"], None] | None = None
    # the visit's outcome: once there, no going back (back() and edit() refuse)
    terminal: bool = False
    # --- flows.sample: a patient citizen's answers, through the engine's public calls --------
    sample: Callable[["FlowEngine", "Step", dict[str, Any]], None] | None = None
    # --- flows.preview: the kind's lines between the step's conditions and its help -------------
    preview: Callable[["Flow", "Step"], list[str]] = options_lines
    # --- the loader's rules -------------------------------------------------------------------
    # where every flow has a step of this kind: 0 = first, 1 = second, -1 = last, …; kinds that
    # share a slot are alternatives (a receipt or a ticket last). None: anywhere, or nowhere.
    slot: int | None = None
    can_hide: bool = True        # False: a visible_if on such a step is refused
    single: bool = False         # at most one step of this kind in a flow
    skip_barrier: bool = False   # skip_to may not jump past a step of this kind
    # more checks of a whole flow file: (the document, indexes of this kind's steps) → [(path, message)]
    check_flow: Callable[[dict, list[int]], list[tuple[tuple, str]]] | None = None


_lock = threading.RLock()
_kinds: dict[str, StepKind] | None = None


def _discover() -> dict[str, StepKind]:
    return discover(sys.modules[__name__], "KIND", StepKind, "name")


def kinds() -> dict[str, StepKind]:
    """Every step kind by name (the modules of this package, plus any :func:`register`-ed)."""
    global _kinds
    if _kinds is None:
        with _lock:
            if _kinds is None:
                _kinds = _discover()
    return _kinds


def names() -> tuple[str, ...]:
    return tuple(kinds())


def kind(name: str) -> StepKind:
    """The kind called ``name``; KeyError for a kind nobody registered."""
    return kinds()[name]


def register(step_kind: StepKind) -> None:
    """Add a kind that has no module here (tests, plug-ins); refuses a name already taken."""
    global _kinds
    with _lock:
        current = kinds()
        if step_kind.name in current:
            raise ValueError(f"step kind {step_kind.name!r} is already registered")
        _kinds = {**current, step_kind.name: step_kind}


def unregister(name: str) -> None:
    """Remove a kind :func:`register` added."""
    global _kinds
    with _lock:
        _kinds = {k: v for k, v in kinds().items() if k != name}
