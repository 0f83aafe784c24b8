"""Where a benchmark's section goes: ``bench/results/<name>.md``, which bench/run.py joins into
BENCHMARKS.md. One place, so every script ends its file the same way and says what it wrote."""
from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, lines: list[str]) -> Path:
    out = RESULTS / f"{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines).rstrip("\n") + "\n"
    out.write_text(text, encoding="utf-8")
    print(text, end="")
    print(f"wrote {out}")
    return out
