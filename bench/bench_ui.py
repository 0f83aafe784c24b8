"""Touchscreen figures: cold start to the home screen, screen-change time, memory during a
journey, and the touches and typed characters each procedure costs a citizen.

    python bench/bench_ui.py            (or: python bench/run.py ui)

Cold start runs in fresh processes (what a citizen waits for after a reboot or a watchdog
restart); the rest runs the real app headless (SDL offscreen + Mesa llvmpipe, no GPU) on
simulated devices against the embedded central system on 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

COLD = r"""
import time, sys
t0 = time.monotonic()
from pathlib import Path
from kiosk.display import prepare_kivy_env
prepare_kivy_env(sys.argv[1] + "/kivy", want_xvfb=False)
from kiosk.demo import demo_config, running_app
from kiosk.driver import Driver
cfg = demo_config(Path(sys.argv[1]) / "k")
with running_app(cfg, central=False) as app:
    d = Driver(app)
    d.wait_screen("home")
    d.wait_for(lambda: d.has_text("Làm thủ tục hành chính"), 30, "home")
    print(time.monotonic() - t0)
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cold_starts(n: int = 3) -> list[float]:
    out = []
    for _ in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([sys.executable, "-c", COLD, tmp], capture_output=True, text=True, cwd=ROOT,
                               env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")})
            out.append(float(r.stdout.strip().splitlines()[-1]))
    return out


def journey_figures():
    from kiosk.display import prepare_kivy_env

    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    prepare_kivy_env(tmp / "kivy", want_xvfb=False)
    from kivy.base import EventLoop

    from kiosk.demo import demo_config, running_app
    from kiosk.driver import Driver
    from kiosk.journey import walk_procedure

    cfg = demo_config(tmp / "k")
    peak = rss_mb()
    counts = {}
    changes = []
    with running_app(cfg) as app:
        d = Driver(app)
        d.wait_screen("home")
        def sample(*_):
            nonlocal peak
            peak = max(peak, rss_mb())

        from kivy.clock import Clock

        ev = Clock.schedule_interval(sample, 0.2)
        for flow in ("khai-sinh", "chung-thuc-ban-sao", "tam-tru"):
            res = walk_procedure(d, flow, shoot=False)
            counts[flow] = (res.touches, res.typed, res.typed_after_chip)
            d.wait_screen("home", 15)
        # screen change: from the request to the first frame drawn with the new screen
        for name in ["picker", "ticket", "lookup", "rating", "home"] * 6:
            t0 = time.perf_counter()
            app.go(name)
            EventLoop.idle()
            changes.append((time.perf_counter() - t0) * 1000)
        ev.cancel()
        sample()
    return counts, changes, peak


def main() -> int:
    cmd = "python bench/bench_ui.py"
    cold = cold_starts()
    counts, changes, peak = journey_figures()
    med_change = statistics.median(changes)
    lines = [
        "## Touchscreen (kiosk/)",
        "",
        f"Command: `{cmd}`. Headless: SDL offscreen driver on Mesa llvmpipe (software GL, no GPU), 1920×1080,",
        "simulated devices, embedded central system on 127.0.0.1.",
        "",
        "| measure | result | goal |",
        "|---|---|---|",
        f"| cold start to the home screen drawn (fresh process, median of {len(cold)}) | "
        f"{statistics.median(cold):.2f} s (runs: {', '.join(f'{c:.2f}' for c in cold)}) | ≤ 3 s |",
        f"| screen change, request → first frame (median of {len(changes)}) | {med_change:.0f} ms "
        f"(p90 {sorted(changes)[int(len(changes) * 0.9)]:.0f} ms) | ≤ 100 ms |",
        f"| peak RSS during three whole journeys | {peak:.0f} MB | ≤ 250 MB |",
        "",
        "Effort per procedure (scripted citizen: chip read by the card's QR, choices by touch, recent dates",
        "on the calendar, free text typed in Telex on the on-screen keyboard):",
        "",
        "| procedure | touches | typed characters | typed after the chip read | goal |",
        "|---|---|---|---|---|",
    ]
    for flow, (touches, typed, after) in counts.items():
        goal = "≤ 10 typed after the chip" if flow == "khai-sinh" else ""
        lines.append(f"| {flow} | {touches} | {typed} | {after} | {goal} |")
    lines.append("")
    lines.append("Touches include the keyboard's key presses; typed characters count letters and digits pressed.")
    out = HERE / "results" / "ui.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text())
    print(json.dumps({"cold": cold, "change_ms": med_change, "rss": peak, "counts": counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
