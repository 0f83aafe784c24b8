"""Touchscreen figures: cold start to the home screen, screen-change time, memory during a
journey, and the touches and typed characters each procedure costs a citizen.

    python bench/bench_ui.py            (or: python bench/run.py ui)

Cold start runs in fresh processes (what a citizen waits for after a reboot or a watchdog
restart); the rest runs the real app headless (SDL offscreen + Mesa llvmpipe, no GPU) on
simulated devices against the central system running in a process of its own on 127.0.0.1.
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


def journey_figures(folder: Path, port: int) -> dict:
    """Runs in a child process: the kiosk alone (the central system is another process)."""
    from kiosk.display import prepare_kivy_env

    prepare_kivy_env(folder / "kivy", want_xvfb=False)
    from kivy.base import EventLoop
    from kivy.clock import Clock

    from kiosk.demo import demo_config, running_app
    from kiosk.driver import Driver
    from kiosk.journey import walk_procedure

    cfg = demo_config(folder / "k", port=port)
    peak = rss_mb()
    counts, changes, after_visit = {}, [], []

    def sample(*_):
        nonlocal peak
        peak = max(peak, rss_mb())

    with running_app(cfg, central=False) as app:
        d = Driver(app)
        d.wait_screen("home")
        at_home = rss_mb()
        ev = Clock.schedule_interval(sample, 0.2)
        for flow in ("khai-sinh", "chung-thuc-ban-sao", "tam-tru"):
            res = walk_procedure(d, flow, shoot=False)
            counts[flow] = (res.touches, res.typed, res.typed_after_chip)
            d.wait_screen("home", 15)
            d.pump(40)  # the between-visits clean-up runs 0.5 s after home is drawn
            time.sleep(0.6)
            d.pump(5)
            after_visit.append(rss_mb())
        # screen change: from the request to the first frame drawn with the new screen
        for name in ["picker", "ticket", "lookup", "rating", "home"] * 6:
            t0 = time.perf_counter()
            app.go(name)
            EventLoop.idle()
            changes.append((time.perf_counter() - t0) * 1000)
        ev.cancel()
        sample()
    return {"counts": counts, "changes": changes, "peak": peak, "at_home": at_home, "after_visit": after_visit}


def run_child(port: int, env_extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for k, v in env_extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, __file__, "--child", tmp, str(port)], capture_output=True, text=True,
                           cwd=ROOT, env=env)
    if r.returncode:
        raise SystemExit(f"child failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def central_process(folder: Path):
    from kiosk.demo import demo_config, free_port

    port = free_port()
    cfg = demo_config(folder, port=port)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg.sources[-1]), "central", "serve",
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import requests

    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/flows", timeout=1)
            return proc, port
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("central system did not start")


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(journey_figures(Path(sys.argv[2]), int(sys.argv[3]))))
        return 0
    cmd = "python bench/bench_ui.py"
    cold = cold_starts()
    with tempfile.TemporaryDirectory() as tmp:
        central, port = central_process(Path(tmp))
        try:
            shipped = run_child(port, {"MALLOC_ARENA_MAX": None})   # glibc's default arenas, as shipped
            capped = run_child(port, {"MALLOC_ARENA_MAX": "2"})     # the peer: fewer malloc arenas
        finally:
            central.terminate()
            central.wait(10)
    counts, changes, peak = shipped["counts"], shipped["changes"], shipped["peak"]
    med_change = statistics.median(changes)
    lines = [
        "## Touchscreen (kiosk/)",
        "",
        f"Command: `{cmd}`. Headless: SDL offscreen driver on Mesa llvmpipe (software GL, no GPU), 1920×1080,",
        "simulated devices, the central system in a process of its own on 127.0.0.1.",
        "",
        "| measure | result | goal |",
        "|---|---|---|",
        f"| cold start to the home screen drawn (fresh process, median of {len(cold)}) | "
        f"{statistics.median(cold):.2f} s (runs: {', '.join(f'{c:.2f}' for c in cold)}) | ≤ 3 s |",
        f"| screen change, request → first frame (median of {len(changes)}) | {med_change:.0f} ms "
        f"(p90 {sorted(changes)[int(len(changes) * 0.9)]:.0f} ms) | ≤ 100 ms |",
        f"| RSS at the home screen after start | {shipped['at_home']:.0f} MB | |",
        f"| peak RSS during three whole journeys | {peak:.0f} MB | ≤ 250 MB |",
        f"| RSS after each visit's clean-up | {', '.join(f'{x:.0f}' for x in shipped['after_visit'])} MB | |",
        "",
        "Memory policy, measured in the same run (kiosk process only; the central system runs apart):",
        "",
        "| policy | RSS at home | peak | after the 3rd visit |",
        "|---|---|---|---|",
        f"| glibc default arenas + trim between visits (as shipped) | {shipped['at_home']:.0f} MB | "
        f"{shipped['peak']:.0f} MB | {shipped['after_visit'][-1]:.0f} MB |",
        f"| MALLOC_ARENA_MAX=2 + trim between visits | {capped['at_home']:.0f} MB | {capped['peak']:.0f} MB | "
        f"{capped['after_visit'][-1]:.0f} MB |",
        f"| ratio capped / shipped (peak) | {capped['peak'] / shipped['peak']:.2f} | | |",
        "",
        "Kivy with Mesa's software GL (llvmpipe) costs ~215 MB before the first screen on this machine (no GPU);",
        "a kiosk with a GPU keeps its textures in video memory instead.",
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
