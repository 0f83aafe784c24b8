"""scripts/install-kiosk.sh: syntax, dry run, and a real install into a temp root that then
passes `systemd-analyze verify`."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import REPO, UNITS, prepare_root, verify

SCRIPT = REPO / "scripts/install-kiosk.sh"


def _run(*args, **kw):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120, **kw)


def test_syntax():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck():
    out = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_dry_run_prints_every_step_and_changes_nothing(tmp_path):
    out = _run("--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for expected in ("apt-get install", "cage", "pcscd", "useradd --system", "usermod -aG dialout kiosk",
                     "python3 -m venv /opt/kiosk/venv", "pip install --quiet --require-hashes -r /opt/kiosk/app/requirements/build.txt",
                     "--require-hashes --no-build-isolation -r /opt/kiosk/app/requirements/kiosk.txt",
                     "pip install --quiet --no-deps --no-build-isolation -e /opt/kiosk/app",
                     "/etc/kiosk/kiosk.toml", "/etc/systemd/system/kiosk.service", "/etc/pam.d/kiosk",
                     "60-kiosk-pcscd.rules", "70-kiosk-devices.rules",
                     "systemctl enable pcscd.socket kiosk.service kiosk-sync.service kiosk-flows-update.timer"):
        assert expected in text, expected


def test_unknown_option_is_refused():
    out = _run("--frobnicate")
    assert out.returncode == 2 and "unknown option" in out.stderr


def test_destdir_install_is_idempotent_keeps_config_and_verifies(tmp_path):
    root = tmp_path / "root"
    first = _run("--destdir", str(root), "--no-apt")
    assert first.returncode == 0, first.stderr
    for path in ("etc/kiosk/kiosk.toml", "etc/pam.d/kiosk", "etc/polkit-1/rules.d/60-kiosk-pcscd.rules",
                 "etc/udev/rules.d/70-kiosk-devices.rules", "opt/kiosk/app/pyproject.toml",
                 "var/lib/kiosk", "var/log/kiosk", *(f"etc/systemd/system/{u}" for u in UNITS)):
        assert (root / path).exists(), path
    assert not (root / "opt/kiosk/app/.git").exists()
    # the configured USB printer gets its own udev line
    assert 'ATTR{idVendor}=="0416", ATTR{idProduct}=="5011"' in (root / "etc/udev/rules.d/70-kiosk-devices.rules").read_text()
    # the technician's edits survive a second run
    config = root / "etc/kiosk/kiosk.toml"
    config.write_text(config.read_text().replace("KIOSK-XX-CHANGE-ME-01", "KIOSK-QN-HALONG-07"))
    (root / "opt/kiosk/app/stale-file-from-old-release").write_text("x")
    second = _run("--destdir", str(root), "--no-apt")
    assert second.returncode == 0, second.stderr
    assert "kept as it is" in second.stdout
    assert "KIOSK-QN-HALONG-07" in config.read_text()
    assert not (root / "opt/kiosk/app/stale-file-from-old-release").exists()
    # the example config it installed is valid for the kiosk itself
    from kiosk.config import load_config

    assert load_config(config)["kiosk"]["id"] == "KIOSK-QN-HALONG-07"
    # and systemd accepts the units where the script put them
    prepare_root(root)
    for unit in UNITS:
        out = verify(root, unit)
        assert out.returncode == 0 and not out.stderr.strip(), f"{unit}: {out.stderr}"
