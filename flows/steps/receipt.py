"""receipt: the printed receipt of the filed dossier. Last (or a ticket is); no way back from it."""
from __future__ import annotations

from flows.steps import StepKind

KIND = StepKind("receipt", slot=-1, can_hide=False, terminal=True)
