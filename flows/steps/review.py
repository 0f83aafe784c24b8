"""review: everything the citizen gave, before the consent. Fourth from last; skip_to stops here."""
from __future__ import annotations

from flows.steps import StepKind

KIND = StepKind("review", slot=-4, can_hide=False, single=True, skip_barrier=True)
