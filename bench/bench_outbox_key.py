"""Outbox key: what reading the key costs from the system keyring, against the 0600 file (the peer).

The keyring is real: a private dbus-daemon session bus with gnome-keyring-daemon unlocked by a
test password, in a temp HOME (as tests/kiosk/test_outbox_key_keyring.py). Figures: one
``load(create=False)`` on a new D-Bus connection (what a kiosk or kiosk-sync start pays once),
one on the process's kept connection (diagnostics, heartbeats), and one ``Outbox(path, source)``
open of an outbox that holds a dossier. Writes bench/results/outbox_key.md.

    python bench/bench_outbox_key.py [--loads 200]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_io import write_results  # noqa: E402 - bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={sock}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
"""


def start_keyring(tmp: Path, procs: list[subprocess.Popen]) -> None:
    """Start the bus and the keyring daemon, appending them to ``procs`` (the caller stops them)."""
    home, run = tmp / "home", tmp / "run"
    for d in (home, run):
        d.mkdir(mode=0o700)
    (tmp / "bus.conf").write_text(BUS_CONFIG.format(sock=tmp / "bus"))
    os.environ.update(HOME=str(home), XDG_RUNTIME_DIR=str(run), XDG_DATA_HOME=str(home / "share"),
                      DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp / 'bus'}")
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={tmp / 'bus.conf'}", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs.append(bus)
    bus.stdout.readline()
    gk = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.insert(0, gk)
    gk.stdin.write(b"bench-password")
    gk.stdin.close()
    from kiosk.outbox_key import KeyringKeySource

    deadline = time.monotonic() + 30
    while not KeyringKeySource("bench", "probe").probe().reachable:
        if time.monotonic() > deadline:
            raise SystemExit("gnome-keyring-daemon did not come up")
        time.sleep(0.05)


def timings(fn, n: int) -> tuple[float, float]:
    """(median ms, p95 ms) of n calls."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[int(0.95 * (len(out) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=200)
    args = ap.parse_args()
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not installed (scripts/apt-packages.txt)")
    from testkit.central import sample_dossier
    from kiosk.outbox import Outbox
    from kiosk.outbox_key import FileKeySource, KeyringKeySource, _SecretService

    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-key-"))
    procs: list[subprocess.Popen] = []
    try:
        start_keyring(tmp, procs)
        file_src = FileKeySource(tmp / "file" / "o.key")
        ring_src = KeyringKeySource("kiosk-outbox-bench", "outbox-key", lock_file=tmp / "ring" / "o.keylock")
        rows = []
        for name, src in (("0600 file", file_src), ("Secret Service keyring", ring_src)):
            path = tmp / ("file" if src is file_src else "ring") / "o.sqlite3"
            with Outbox(path, src) as box:  # creates the key, then one dossier so later opens never create
                box.enqueue(*sample_dossier())
            load = timings(lambda: src.load(create=False), args.loads)

            def cold_load():
                _SecretService.drop()  # a new connection and Secret Service session, as at a process start
                src.load(create=False)

            cold = timings(cold_load, max(20, args.loads // 4))

            def open_close():
                Outbox(path, src).close()

            opened = timings(open_close, max(20, args.loads // 4))
            rows.append((name, cold, load, opened))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    (file_cold, file_load, file_open), (ring_cold, ring_load, ring_open) = [r[1:] for r in rows]
    cmd = f"python bench/bench_outbox_key.py --loads {args.loads}"
    lines = [
        "## Outbox key: keyring against file",
        "",
        f"Command: `{cmd}`. Real gnome-keyring-daemon on a private dbus-daemon session bus. First load: a new "
        "D-Bus connection, Secret Service session (DH exchange), search and GetSecret, as at a process start; "
        "later loads reuse the process's connection and session. Median / p95 in ms.",
        "",
        "| source | first load median | first load p95 | later load median | later load p95 | Outbox() open median | Outbox() open p95 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, cold, load, opened in rows:
        lines.append(f"| {name} | {cold[0]:.2f} | {cold[1]:.2f} | {load[0]:.2f} | {load[1]:.2f} | "
                     f"{opened[0]:.2f} | {opened[1]:.2f} |")
    lines += ["", f"Keyring / file (medians): first load {ring_cold[0] / file_cold[0]:.0f}×, later load "
              f"{ring_load[0] / file_load[0]:.0f}×, Outbox open {ring_open[0] / file_open[0]:.1f}×; "
              f"the first load is paid once per process start.", ""]
    write_results("outbox_key", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
