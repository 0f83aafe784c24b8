"""guide: what the procedure needs and costs, with its help video. Always the first step."""
from __future__ import annotations

from flows.steps import StepKind

KIND = StepKind("guide", slot=0)
