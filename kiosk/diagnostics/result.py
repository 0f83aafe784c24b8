"""What one diagnostic check reports, and how states combine into an exit code.

A check answers with the shared :class:`common.health.Health` (state, detail, action, facts),
or with a pair ``(Health, message_vi)`` when it has its own short Vietnamese line (an :data:`Outcome`);
:class:`CheckResult` adds the check's name, its titles and a short Vietnamese line for the
maintenance screen, which citizens' eyes may also fall on, so it never holds technical jargon.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.health import Health, State

# Worst first: the order a technician should deal with things.
SEVERITY = {State.FAILED: 3, State.NEEDS_ATTENTION: 2, State.NOT_READY: 1, State.OK: 0}

STATE_VI = {
    State.OK: "Hoạt động bình thường",
    State.NOT_READY: "Chưa sẵn sàng, vui lòng chờ",
    State.NEEDS_ATTENTION: "Cần kỹ thuật viên kiểm tra",
    State.FAILED: "Bị lỗi, cần sửa chữa",
}

# Exit codes of `kiosk diag` (documented in its --help).
EXIT_OK = 0                # everything ok or only not ready (e.g. no card on the reader)
EXIT_FAILED = 1            # at least one check failed
EXIT_NEEDS_ATTENTION = 3   # nothing failed, but a person must act somewhere (2 is a usage/config error)

# What a check function returns: its Health, or its Health and a short Vietnamese line for the
# maintenance screen ("" = the state's own line, STATE_VI).
Outcome = Health | tuple[Health, str]


@dataclass
class CheckResult:
    name: str            # "printer": the word for `kiosk diag printer`
    title: str           # "Printer"
    title_vi: str        # "Máy in"
    health: Health
    message_vi: str = ""  # short Vietnamese line; defaults to the state's line
    duration_s: float = 0.0

    @property
    def state(self) -> State:
        return self.health.state

    def line_vi(self) -> str:
        return f"{self.title_vi}: {self.message_vi or STATE_VI[self.health.state]}"

    def as_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "title": self.title, "title_vi": self.title_vi}
        d.update(self.health.as_dict())
        d["message_vi"] = self.message_vi or STATE_VI[self.health.state]
        d["duration_s"] = round(self.duration_s, 3)
        return d


def worst_state(results: list[CheckResult]) -> State:
    return max((r.state for r in results), key=SEVERITY.__getitem__, default=State.OK)


def exit_code(results: list[CheckResult]) -> int:
    worst = worst_state(results)
    if worst is State.FAILED:
        return EXIT_FAILED
    if worst is State.NEEDS_ATTENTION:
        return EXIT_NEEDS_ATTENTION
    return EXIT_OK
