"""submit: file the dossier. Second from last; it may be left only when every step walked may."""
from __future__ import annotations

from flows.steps import Messages, StepKind


def errors(engine, step) -> Messages:
    out: Messages = {}
    for s in engine.history:
        if s.kind != "submit":
            out.update(engine.error_details(s))
    return out


KIND = StepKind("submit", errors=errors, slot=-2, can_hide=False, single=True)
