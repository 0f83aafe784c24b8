"""A throw-away filesystem root in which `systemd-analyze verify --root` can check our units.

verify needs the units they reference (pcscd.socket, network-online.target …) and every
ExecStart binary to exist: the system's unit files are copied in, and the programs the units
start (/opt/kiosk/venv/bin/kiosk and …/python, /usr/bin/cage) are stand-in scripts, because
neither a venv under /opt nor cage is installed on the build machine."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = ("kiosk.service", "kiosk-sync.service", "kiosk-flows-update.service", "kiosk-flows-update.timer")
SERVICES = tuple(u for u in UNITS if u.endswith(".service"))
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if (p / "pcscd.socket").exists()), None)


def prepare_root(root: Path) -> Path:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    if SYSTEM_UNITS is None:
        pytest.skip("pcscd is not installed (its units are needed: kiosk.service requires pcscd.socket)")
    target = root / "usr/lib/systemd/system"
    if not target.exists():
        shutil.copytree(SYSTEM_UNITS, target, symlinks=True)
    for exe in ("opt/kiosk/venv/bin/kiosk", "opt/kiosk/venv/bin/python", "usr/bin/cage"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={root}", unit],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def unit_root(tmp_path):
    root = prepare_root(tmp_path / "root")
    for unit in UNITS:
        shutil.copy(REPO / "systemd" / unit, root / "etc/systemd/system" / unit)
    return root
