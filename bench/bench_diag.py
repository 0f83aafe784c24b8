"""How long a technician waits for `kiosk diag` on the simulated setup, per check.

Two ways of asking the devices, measured in the same run:
- opened: what `kiosk diag` does (each device check opens its device, asks, closes it);
- held: what the maintenance screen and heartbeats do (ask the devices the app already holds).
The embedded central system runs on 127.0.0.1 so the network check does its full walk.

    python bench/bench_diag.py [--rounds N]      # writes bench/results/diag.md
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from results_io import write_results  # noqa: E402 - bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()

    from central.server import run_in_thread
    from devices.camera import open_camera
    from devices.idcard import open_reader
    from devices.printer import open_printer
    from devices.qr import open_scanner
    from kiosk.config import load_config
    from kiosk.diagnostics import run_all

    tmp = Path(tempfile.mkdtemp(prefix="bench-diag-"))
    override = tmp / "bench.toml"
    override.write_text(
        f'[paths]\ndata_dir = "{tmp}/var"\n[logging]\nfile = "{tmp}/var/log/kiosk.log"\n'
        f'[central]\nurl = "http://127.0.0.1:{_free_port()}"\ndatabase = "{tmp}/central.sqlite3"\n'
        f'[devices.printer]\nout_dir = "{tmp}/var/printer"\nspool_dir = "{tmp}/var/printer/spool"\n'
        f'[outbox]\npath = "{tmp}/var/outbox/o.sqlite3"\nkey_file = "{tmp}/var/outbox/o.key"\n',
        encoding="utf-8")
    cfg = load_config(override)
    server = run_in_thread(cfg)

    class Held:  # the app's open devices, as kiosk.services.KioskServices holds them
        reader = open_reader(cfg["devices.idcard"])
        printer = open_printer(cfg["devices.printer"])
        scanner = open_scanner(cfg["devices.qr"])
        camera = open_camera(cfg["devices.camera"])

    for device in (Held.reader, Held.printer, Held.scanner, Held.camera):
        device.open()
    times: dict[str, dict[str, list[float]]] = {"opened": {}, "held": {}}
    totals: dict[str, list[float]] = {"opened": [], "held": []}
    states: dict[str, str] = {}
    try:
        run_all(cfg)  # warm-up: imports, first camera frame
        for _ in range(args.rounds):
            for mode in ("opened", "held"):
                t0 = time.perf_counter()
                results = run_all(cfg, services=Held if mode == "held" else None)
                totals[mode].append(time.perf_counter() - t0)
                for r in results:
                    times[mode].setdefault(r.name, []).append(r.duration_s)
                    if mode == "opened":
                        states[r.name] = r.state.value
    finally:
        for device in (Held.camera, Held.reader, Held.scanner, Held.printer):
            device.close()
        Held.printer.close()
        server.stop()

    med = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    lines = [
        "## Diagnostics (issue 9)", "",
        f"Command: `python bench/bench_diag.py --rounds {args.rounds}` — {time.strftime('%Y-%m-%d %H:%M')}, "
        f"simulated devices, embedded central system on 127.0.0.1, 2 shared cores (load average "
        f"{os.getloadavg()[0]:.1f}). Median of {args.rounds} rounds, milliseconds.", "",
        "\"opened\" is `kiosk diag` (each device check opens and closes its device; the card check includes a "
        "full PACE test read with passive authentication; the QR check a test scan); \"held\" asks the devices "
        "an app already holds (maintenance screen, heartbeats: no test read, no test scan).", "",
        "| check | state | opened ms | held ms |", "|---|---|---|---|",
    ]
    for name in times["opened"]:
        lines.append(f"| {name} | {states[name]} | {med(times['opened'][name]):.1f} | {med(times['held'][name]):.1f} |")
    o, h = med(totals["opened"]), med(totals["held"])
    lines += [f"| **all** | | **{o:.0f}** | **{h:.0f}** |", "",
              f"Held / opened, whole run: {h / o:.2f}×.", ""]
    write_results("diag", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
