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
                     "systemctl enable pcscd.socket kiosk.service kiosk-sync.service kiosk-flows-update.timer",
                     "libtss2-esys-3.0.2-0",
                     'set [outbox] key_source = "credential" in /etc/kiosk/kiosk.toml',
                     "/opt/kiosk/venv/bin/python -m kiosk.outbox_key seal --config /etc/kiosk/kiosk.toml "
                     "--with-key auto --tpm2-pcrs ''"):
        assert expected in text, expected
    # the key is sealed after the app is installed (its venv runs the step) and before the units start
    assert text.index("pip install --quiet --no-deps") < text.index("kiosk.outbox_key seal") < text.index("systemctl enable")


def test_sealing_options_reach_systemd_creds():
    out = _run("--dry-run", "--creds-key", "host+tpm2", "--tpm2-pcrs", "7")
    assert out.returncode == 0, out.stderr
    assert "kiosk.outbox_key seal --config /etc/kiosk/kiosk.toml --with-key host+tpm2 --tpm2-pcrs 7" in out.stdout
    bad = _run("--dry-run", "--creds-key", "fido2")
    assert bad.returncode == 2 and "--creds-key takes" in bad.stderr


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
    assert (root / "opt/kiosk/app/systemd/kiosk-session.py").exists()  # kiosk.service's main process
    # nothing is sealed into a DESTDIR: a key sealed on this machine would open nothing on the kiosk
    assert not (root / "etc/credstore.encrypted").exists()
    assert "+ /opt/kiosk/venv/bin/python -m kiosk.outbox_key seal" in first.stdout
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
    # a new kiosk reads the sealed key; the line is written once, into the installer's own copy
    assert config.read_text().count('key_source = "credential"') == 1
    assert load_config(config)["outbox"]["key_source"] == "credential"
    # and systemd accepts the units where the script put them
    prepare_root(root)
    for unit in UNITS:
        out = verify(root, unit)
        assert out.returncode == 0 and not out.stderr.strip(), f"{unit}: {out.stderr}"
