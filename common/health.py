"""The one health vocabulary every device, the diagnostics and the heartbeats share."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Protocol


class State(str, Enum):
    OK = "ok"
    NOT_READY = "not_ready"              # transient: warming up, reconnecting, no card yet
    NEEDS_ATTENTION = "needs_attention"  # a person must act: paper low, cover open, unplugged
    FAILED = "failed"                    # broken or misconfigured


@dataclass
class Health:
    state: State
    detail: str = ""          # what was seen, for the technician (English, no personal data)
    action: str = ""          # what to do about it
    facts: dict[str, Any] = field(default_factory=dict)  # versions, counts, raw status bytes …

    @property
    def ok(self) -> bool:
        return self.state is State.OK

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d


class Device(Protocol):
    def open(self) -> None: ...
    def close(self) -> None: ...
    def health(self) -> Health: ...
