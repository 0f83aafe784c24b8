"""ticket: a queue number instead of a receipt. Last (or a receipt is); no way back from it."""
from __future__ import annotations

from flows.steps import StepKind

KIND = StepKind("ticket", slot=-1, can_hide=False, terminal=True)
