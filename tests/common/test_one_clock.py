"""One clock: no module asks the system for the date or time on its own (issue: green on any day).

Calendar "now" and "today" come from ``common.clock`` so tests, the demo and previews can run at any
instant. Durations and timeouts use ``time.monotonic()``/``perf_counter()``, which this allows."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "kiosk", "devices", "flows", "central")
CLOCK = ROOT / "common" / "clock.py"

_DATE_CLASSES = {"datetime", "date"}
_TIME_NOW = {"time", "time_ns"}  # time.time(): wall clock
_TIME_FORMATTERS = {"strftime": 1, "localtime": 0, "gmtime": 0, "ctime": 0, "asctime": 0}  # args that mean "now"


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


SYSTEM_CLOCK_MARK = "# system clock"  # a deliberate read of the machine's clock (TLS validity, clock skew)


def wall_clock_calls(source: str, filename: str = "<src>") -> list[tuple[int, str]]:
    """(line, call) for every call that reads the wall clock for calendar purposes. A line marked
    ``# system clock`` (or under such a comment line) is a check of the machine's clock itself."""
    lines = source.splitlines()
    marked = {i + 1 for i, text in enumerate(lines) if SYSTEM_CLOCK_MARK in text}
    marked |= {i + 2 for i, text in enumerate(lines) if text.strip().startswith(SYSTEM_CLOCK_MARK)}
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if getattr(node, "lineno", None) in marked:
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, attr = _dotted(node.func.value), node.func.attr
        last = owner.rsplit(".", 1)[-1]
        if attr in ("now", "today", "utcnow") and last in _DATE_CLASSES:
            found.append((node.lineno, f"{owner}.{attr}()"))
        elif last == "time" and owner in ("time",) and attr in _TIME_NOW:
            found.append((node.lineno, f"time.{attr}()"))
        elif owner == "time" and attr in _TIME_FORMATTERS and len(node.args) <= _TIME_FORMATTERS[attr]:
            found.append((node.lineno, f"time.{attr}() of the current time"))
    return found


def test_the_checker_finds_each_kind_of_wall_clock_call():
    src = "\n".join([
        "import datetime as dt, time", "from datetime import date, datetime",
        "a = date.today()", "b = datetime.now()", "c = dt.datetime.now(tz)", "d = dt.date.today()",
        "e = time.time()", "f = time.strftime('%Y')", "g = datetime.utcnow()",
        "ok1 = time.monotonic()", "ok2 = time.strftime('%Y', t)", "ok3 = clock.now()", "ok4 = clock.today()",
        "ok5 = time.time()  # system clock: TLS", "# system clock: the skew check", "ok6 = time.time()",
    ])
    assert [line for line, _ in wall_clock_calls(src)] == [3, 4, 5, 6, 7, 8, 9]


def test_no_calendar_now_or_today_outside_the_clock_module():
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path == CLOCK:
                continue
            for line, call in wall_clock_calls(path.read_text(encoding="utf-8"), str(path)):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {call}")
    assert not offenders, "ask common.clock instead:\n" + "\n".join(offenders)
