"""Run the benchmarks and rebuild BENCHMARKS.md.

Each ``bench/bench_<name>.py`` is a script that measures one layer and writes its section to
``bench/results/<name>.md`` (a heading, the command that made each figure, the table, and the
ratio to any peer measured in the same run). This runner executes the chosen scripts (all by
default) one after another, so they do not disturb each other's timings, then concatenates every
result file into BENCHMARKS.md, so re-running one benchmark keeps the others' last results.

    python bench/run.py            # all
    python bench/run.py printer    # only bench_printer.py
"""
from __future__ import annotations

import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import clock  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, str(script)], cwd=ROOT)
        print(f"   exit {rc} in {time.monotonic() - t0:.1f} s", flush=True)
        if rc:
            failed.append(script.name)
    sections = [p.read_text(encoding="utf-8").strip() for p in sorted((HERE / "results").glob("*.md"))]
    target = ROOT / "BENCHMARKS.md"
    if argv and target.exists():  # a partial run keeps the date of the last full one; each section has its own
        m = re.search(r"Last full write: (\d{4}-\d{2}-\d{2})", target.read_text(encoding="utf-8"))
        last_full = m.group(1) if m else "unknown"
    else:
        last_full = clock.today().isoformat()
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (`python bench/run.py`); each section names the command that made it.\n"
        "The machine is noisy (2 shared cores): compare ratios measured in the same run, not absolute\n"
        f"figures across runs. Last full write: {last_full} on {platform.machine()}, "
        f"Python {platform.python_version()}.\n"
    )
    target.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
