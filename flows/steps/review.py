"""review: everything the citizen gave, one section per earlier step, each with a "Sửa" (change)
button (``FlowEngine.edit(step_id, back_to_review=True)``). Third from last, right before the
submit step; skip_to stops here."""
from __future__ import annotations

from flows.steps import StepKind

KIND = StepKind("review", slot=-3, can_hide=False, single=True, skip_barrier=True)
