"""The units verify cleanly (any stderr line counts as a failure), carry the hardening the brief
asks for, and start commands the kiosk CLI really has."""
from __future__ import annotations

import configparser
import re
import shlex
import subprocess

import pytest

from .conftest import REPO, UNITS, verify


@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies_without_any_warning(unit_root, unit):
    out = verify(unit_root, unit)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "", out.stderr


def test_the_harness_sees_warnings(unit_root):
    """Control: a unit with an unknown key and a bad value must make the check above fail."""
    bad = (REPO / "systemd/kiosk.service").read_text().replace(
        "Restart=always", "Restart=always\nRestartPolitely=yes\nProtectSystem=sometimes")
    (unit_root / "etc/systemd/system/kiosk.service").write_text(bad)
    out = verify(unit_root, "kiosk.service")
    assert "Unknown key 'RestartPolitely'" in out.stderr and "Failed to parse protect system" in out.stderr


def test_missing_executable_is_caught(unit_root):
    (unit_root / "usr/bin/cage").unlink()
    out = verify(unit_root, "kiosk.service")
    assert out.returncode != 0 and "cage" in out.stderr


def _parse(unit: str) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str
    text = (REPO / "systemd" / unit).read_text()
    # repeated keys (DeviceAllow=, After=) are legal in units; configparser keeps the last one,
    # so checks on those read the text instead
    cp.read_string(text)
    return cp


HARDENING = {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
             "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
             "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": ""}


@pytest.mark.parametrize("unit", [u for u in UNITS if u.endswith(".service")])
def test_services_are_hardened_and_run_as_kiosk(unit):
    service = _parse(unit)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, f"{unit}: {key}"
    assert service["User"] == "kiosk"
    assert "/var/lib/kiosk" in service["ReadWritePaths"]


def test_kiosk_service_contract():
    cp = _parse("kiosk.service")
    s, u = cp["Service"], cp["Unit"]
    assert s["Type"] == "notify" and s["NotifyAccess"] == "all" and int(s["WatchdogSec"]) > 0
    assert s["Restart"] == "always"
    text = (REPO / "systemd/kiosk.service").read_text()
    assert re.search(r"^Requires=.*pcscd\.socket", text, re.M) and re.search(r"^After=.*pcscd\.socket", text, re.M)
    assert s["ExecStart"].startswith("/usr/bin/cage ") and " -s" not in s["ExecStart"]  # no VT switching
    for device in ("char-drm", "char-input", "char-video4linux", "char-usb_device", "char-ttyACM"):
        assert f"DeviceAllow={device}" in text
    assert "DevicePolicy=closed" in text


def test_timer_starts_the_update_service():
    cp = _parse("kiosk-flows-update.timer")
    assert cp["Timer"]["OnCalendar"] and cp["Timer"]["Persistent"] == "true"
    assert _parse("kiosk-flows-update.service")["Service"]["Type"] == "oneshot"


@pytest.mark.parametrize("unit", [u for u in UNITS if u.endswith(".service")])
def test_exec_start_is_a_real_kiosk_command(unit):
    argv = shlex.split(_parse(unit)["Service"]["ExecStart"])
    argv = argv[argv.index("--") + 1:] if "--" in argv else argv
    assert argv[0] == "/opt/kiosk/venv/bin/kiosk"
    from kiosk.tools.cli import build_parser

    args = build_parser().parse_args(argv[1:])  # SystemExit(2) if the sub-command does not exist
    assert callable(getattr(args, "func", None)), f"{unit}: `kiosk {' '.join(argv[1:])}` has no handler"


def test_exposure_scores(unit_root):
    for unit, limit in (("kiosk.service", 4.5), ("kiosk-sync.service", 2.5), ("kiosk-flows-update.service", 2.5)):
        out = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={unit_root}", unit],
                             capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout)
        assert m, out.stdout[-500:] + out.stderr
        assert float(m.group(1)) <= limit, f"{unit}: exposure {m.group(1)}"
