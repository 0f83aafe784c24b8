"""The table a technician reads at a glance: one line per check, the action under anything not ok."""
from __future__ import annotations

import shutil
import textwrap

from common.health import State
from kiosk.diagnostics.result import CheckResult, exit_code, worst_state

LABEL = {State.OK: "OK", State.NOT_READY: "NOT READY", State.NEEDS_ATTENTION: "ATTENTION", State.FAILED: "FAILED"}
COLOUR = {State.OK: "32", State.NOT_READY: "36", State.NEEDS_ATTENTION: "33", State.FAILED: "31;1"}


def render(results: list[CheckResult], *, header: str = "", colour: bool = False, width: int | None = None,
           vietnamese: bool = False) -> str:
    width = width or max(60, min(120, shutil.get_terminal_size((100, 20)).columns))
    name_w = max([len("CHECK")] + [len(r.name) for r in results])
    state_w = max(len(v) for v in LABEL.values())
    indent = name_w + state_w + 4
    text_w = max(30, width - indent)
    lines = [header] if header else []
    lines.append(f"{'CHECK':<{name_w}}  {'STATE':<{state_w}}  DETAIL")
    for r in results:
        label = f"{LABEL[r.state]:<{state_w}}"
        if colour:
            label = f"\x1b[{COLOUR[r.state]}m{label}\x1b[0m"
        detail = textwrap.wrap(r.health.detail or "-", text_w) or ["-"]
        lines.append(f"{r.name:<{name_w}}  {label}  {detail[0]}")
        lines.extend(" " * indent + d for d in detail[1:])
        if r.state is not State.OK and r.health.action:
            action = textwrap.wrap("→ " + r.health.action, text_w)
            lines.extend(" " * indent + a for a in action)
    counts = {s: sum(r.state is s for r in results) for s in State}
    summary = ", ".join(f"{n} {LABEL[s].lower()}" for s, n in counts.items() if n)
    lines.append("")
    lines.append(f"{summary or 'nothing checked'}; overall {LABEL[worst_state(results)]} (exit code {exit_code(results)})")
    if vietnamese:
        lines.append("")
        lines.extend(r.line_vi() for r in results)
    return "\n".join(lines)


def format_table(results: list[CheckResult]) -> str:
    """The maintenance screen's text: the technician's table, then one Vietnamese line per check."""
    return render(results, vietnamese=True, width=100)
