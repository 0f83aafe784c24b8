"""The outbox key sealed to the machine with the real `systemd-creds` (host key; no TPM needed).

systemd-creds encrypts and decrypts without systemd as PID 1. ``SYSTEMD_CREDENTIAL_SECRET`` names
the host key file it uses instead of /var/lib/systemd/credential.secret, which makes "this
machine" and "another machine" two files in tmp_path; nothing here touches the real host key.
What PID 1 does with ``LoadCredentialEncrypted=`` (decrypt into $CREDENTIALS_DIRECTORY before the
service starts) is done the same way, by ``systemd-creds decrypt`` into a 0700 folder.
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.outbox import Outbox, OutboxKeyError
from kiosk.outbox_key import (CREDENTIAL_NAME, CREDENTIAL_UNSET, CREDENTIAL_UNITS, SEALED_FILE,
                              CredentialKeySource, FileKeySource, decrypt_sealed, key_source_from_config,
                              provision_sealed_key, seal_key)

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("systemd-creds") is None, reason="systemd-creds is not installed")


def dossier() -> dict:
    return {"schema": "kiosk-dossier/1", "uuid": str(uuid.uuid4()), "kiosk_id": "KIOSK-HN-BADINH-01",
            "applicant": {"full_name": "Trần Thị Ngọc Ánh", "id_number": "001185012345"}, "attachments": []}


def creds(*args: str, secret: Path, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-creds", *args], input=data, capture_output=True, timeout=60,
                          env={**os.environ, "SYSTEMD_CREDENTIAL_SECRET": str(secret)})


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """This machine: its own host key (made by `systemd-creds setup`), no unit credentials around."""
    secret = tmp_path / "this-machine" / "credential.secret"
    secret.parent.mkdir()
    assert creds("setup", secret=secret).returncode == 0
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(secret))
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    return secret


def source(tmp_path, **kw) -> CredentialKeySource:
    # run_dir in tmp_path: the build machine's /run/credentials has nothing of ours
    return CredentialKeySource(tmp_path / "credstore.encrypted" / "kiosk-outbox-key",
                               run_dir=tmp_path / "run-credentials", **kw)


def unit_start(sealed: Path, where: Path, name: str = CREDENTIAL_NAME) -> Path:
    """What PID 1 does for LoadCredentialEncrypted=NAME:SEALED before the service starts."""
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    out = subprocess.run(["systemd-creds", "decrypt", f"--name={name}", str(sealed), str(where / name)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return where


# --- sealing --------------------------------------------------------------------------------------
def test_sealed_key_opens_the_outbox_and_the_file_on_disk_holds_no_key(tmp_path, machine):
    src = source(tmp_path)
    assert src.probe().present is False
    box = Outbox(tmp_path / "outbox.sqlite3", src)  # empty outbox: the key is made and sealed
    d = dossier()
    box.enqueue(d)
    box.close()
    sealed = src.sealed_file
    assert sealed.stat().st_mode & 0o777 == 0o600 and sealed.parent.stat().st_mode & 0o777 == 0o700
    key = decrypt_sealed(sealed)
    ciphertext = sealed.read_bytes()
    assert key not in ciphertext and base64.b64encode(key) not in ciphertext
    assert key not in base64.b64decode(b"".join(ciphertext.split()))  # the file is base64 text of ciphertext
    assert not list(sealed.parent.glob("*.new"))
    # a technician's command as root: decrypted by systemd-creds
    again = Outbox(tmp_path / "outbox.sqlite3", source(tmp_path))
    assert again.get(d["uuid"]).dossier["applicant"]["full_name"] == "Trần Thị Ngọc Ánh"
    again.close()
    st = src.probe()
    assert (st.source, st.reachable, st.present, st.valid) == ("credential", True, True, True)
    assert str(sealed) in st.where


def test_under_the_unit_the_key_comes_from_the_credentials_directory(tmp_path, machine, monkeypatch):
    src = source(tmp_path)
    box = Outbox(tmp_path / "outbox.sqlite3", src)
    d = dossier()
    box.enqueue(d)
    box.close()
    creds_dir = unit_start(src.sealed_file, tmp_path / "run" / "credentials" / "kiosk-sync.service")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds_dir))
    # the service cannot read the sealed file (root's) nor the host key: only its credential
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(tmp_path / "no-such-host-key"))
    src.sealed_file.chmod(0)
    try:
        under_unit = source(tmp_path)
        with Outbox(tmp_path / "outbox.sqlite3", under_unit) as box:
            assert box.get(d["uuid"]).dossier["uuid"] == d["uuid"]
        assert under_unit.probe().valid
    finally:
        src.sealed_file.chmod(0o600)


def test_user_kiosk_reads_the_key_a_running_unit_was_handed(tmp_path, machine, monkeypatch):
    src = source(tmp_path)
    key = src.load(create=True)
    run_dir = tmp_path / "run-credentials"
    unit_start(src.sealed_file, run_dir / "kiosk-sync.service")
    # the sealed file and the host key are root's; /run/credentials/kiosk-sync.service is kiosk's
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(tmp_path / "no-such-host-key"))
    assert CredentialKeySource(tmp_path / "unreadable" / "x", run_dir=run_dir).load(create=False) == key
    assert CREDENTIAL_UNITS == ("kiosk-sync.service", "kiosk.service")


def test_a_copy_on_another_machine_does_not_decrypt(tmp_path, machine, monkeypatch):
    src = source(tmp_path)
    box = Outbox(tmp_path / "outbox.sqlite3", src)
    box.enqueue(dossier())
    box.close()
    # the disk (sealed file + outbox) taken to another machine, with a host key of its own
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    shutil.copy(src.sealed_file, stolen / "kiosk-outbox-key")
    shutil.copy(tmp_path / "outbox.sqlite3", stolen / "outbox.sqlite3")
    other = tmp_path / "other-machine" / "credential.secret"
    other.parent.mkdir()
    assert creds("setup", secret=other).returncode == 0
    assert other.read_bytes() != machine.read_bytes()
    out = creds("decrypt", f"--name={CREDENTIAL_NAME}", str(stolen / "kiosk-outbox-key"), "-", secret=other)
    assert out.returncode != 0 and out.stdout == b"" and b"Decryption failed" in out.stderr
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(other))
    thief = CredentialKeySource(stolen / "kiosk-outbox-key", run_dir=tmp_path / "none")
    with pytest.raises(OutboxKeyError) as err:
        Outbox(stolen / "outbox.sqlite3", thief)
    assert "cannot decrypt it here" in str(err.value) and "TPM" in err.value.message_vi
    st = thief.probe()
    assert (st.reachable, st.present, st.valid) == (False, True, False) and "cannot decrypt" in st.error
    # and the machine without a host key at all (a reinstalled disk) neither makes one nor decrypts
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(tmp_path / "reinstalled" / "credential.secret"))
    with pytest.raises(OutboxKeyError, match="cannot decrypt"):
        thief.load(create=False)
    assert not (tmp_path / "reinstalled" / "credential.secret").exists()  # decrypting never makes a host key


def test_a_missing_sealed_key_with_waiting_dossiers_is_an_error_and_none_is_made(tmp_path, machine):
    src = source(tmp_path)
    box = Outbox(tmp_path / "outbox.sqlite3", src)
    box.enqueue(dossier())
    box.close()
    src.sealed_file.rename(tmp_path / "moved-away")
    with pytest.raises(OutboxKeyError) as err:
        Outbox(tmp_path / "outbox.sqlite3", source(tmp_path))
    assert "restore the key" in str(err.value) and "không xóa dữ liệu" in err.value.message_vi
    assert not src.sealed_file.exists()
    with pytest.raises(OutboxKeyError, match="holds encrypted dossiers"):
        provision_sealed_key(src.sealed_file, outbox=tmp_path / "outbox.sqlite3")
    assert not src.sealed_file.exists()


def test_the_units_placeholder_means_no_key(tmp_path, machine, monkeypatch):
    """The units carry SetCredential=outbox-key:<CREDENTIAL_UNSET> as the fallback for a missing sealed
    file; the source reads it as 'no key', never as a key."""
    creds_dir = tmp_path / "creds"
    creds_dir.mkdir()
    (creds_dir / CREDENTIAL_NAME).write_bytes(CREDENTIAL_UNSET)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds_dir))
    src = source(tmp_path)
    assert src.probe().present is False
    with pytest.raises(OutboxKeyError, match="no sealed key"):
        src.load(create=False)


def test_the_units_load_the_credential_the_source_reads():
    for unit in ("kiosk.service", "kiosk-sync.service"):
        text = (REPO / "systemd" / unit).read_text()
        lines = [ln for ln in text.splitlines() if ln.startswith(("LoadCredentialEncrypted=", "SetCredential="))]
        assert lines == [f"LoadCredentialEncrypted={CREDENTIAL_NAME}:{SEALED_FILE}",
                         f"SetCredential={CREDENTIAL_NAME}:{CREDENTIAL_UNSET.decode()}"], unit
        assert unit in CREDENTIAL_UNITS
    # the flow updater never touches the outbox: no key for it
    assert "Credential" not in "\n".join(ln for ln in (REPO / "systemd/kiosk-flows-update.service").read_text().splitlines()
                                         if not ln.startswith("#"))


def test_a_malformed_credential_is_present_but_invalid(tmp_path, machine, monkeypatch):
    creds_dir = tmp_path / "creds"
    creds_dir.mkdir()
    (creds_dir / CREDENTIAL_NAME).write_bytes(b"not a key\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds_dir))
    st = source(tmp_path).probe()
    assert (st.reachable, st.present, st.valid) == (True, True, False) and "32-byte" in st.error


# --- migration from the plain key file ----------------------------------------------------------------
def test_migration_seals_the_existing_key_and_the_old_dossiers_stay_readable(tmp_path, machine):
    key_file = tmp_path / "outbox" / "outbox.key"
    box = Outbox(tmp_path / "outbox" / "outbox.sqlite3", FileKeySource(key_file))
    d = dossier()
    box.enqueue(d)
    box.close()
    old_key = FileKeySource(key_file).load(create=False)
    sealed = tmp_path / "credstore.encrypted" / "kiosk-outbox-key"
    # the kiosk still reads the file: sealed, the plain file stays
    assert provision_sealed_key(sealed, key_file=key_file, outbox=tmp_path / "outbox" / "outbox.sqlite3") == "migrated"
    assert key_file.exists() and decrypt_sealed(sealed) == old_key
    # run again once the config says "credential": kept, and the plain file goes
    assert provision_sealed_key(sealed, key_file=key_file, remove_key_file=True) == "kept, plain key file removed"
    assert not key_file.exists()
    with Outbox(tmp_path / "outbox" / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "x")) as box:
        assert box.get(d["uuid"]).dossier["applicant"]["id_number"] == "001185012345"
    assert provision_sealed_key(sealed, key_file=key_file) == "kept"  # idempotent


def test_migration_refuses_two_different_keys(tmp_path, machine):
    sealed = tmp_path / "sealed"
    seal_key(os.urandom(32), sealed)
    key_file = tmp_path / "outbox.key"
    FileKeySource(key_file).load(create=True)
    before = (sealed.read_bytes(), key_file.read_bytes())
    with pytest.raises(OutboxKeyError, match="two different keys"):
        provision_sealed_key(sealed, key_file=key_file, remove_key_file=True)
    assert (sealed.read_bytes(), key_file.read_bytes()) == before


def test_the_installer_step_from_the_config(tmp_path, machine):
    """`python -m kiosk.outbox_key seal --config …`, as scripts/install-kiosk.sh runs it."""
    data = tmp_path / "var"
    cfg = tmp_path / "kiosk.toml"

    def write(source: str):
        cfg.write_text(f'[outbox]\npath = "{data}/outbox.sqlite3"\nkey_file = "{data}/outbox.key"\n'
                       f'key_source = "{source}"\n', encoding="utf-8")

    write("file")
    box = Outbox.from_config(load_config(cfg))
    d = dossier()
    box.enqueue(d)
    box.close()
    sealed = tmp_path / "credstore.encrypted" / "kiosk-outbox-key"

    def seal(*extra):
        return subprocess.run([sys.executable, "-m", "kiosk.outbox_key", "seal", "--config", str(cfg),
                               "--sealed-file", str(sealed), *extra], capture_output=True, text=True, timeout=120,
                              cwd=REPO)

    out = seal()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Khóa hộp hồ sơ chờ gửi") and "outbox key: migrated" in out.stdout
    assert 'key_source = "credential"' in out.stdout and (data / "outbox.key").exists()
    write("credential")
    out = seal()
    assert out.returncode == 0 and "kept, plain key file removed" in out.stdout, out.stderr
    assert not (data / "outbox.key").exists()
    src = key_source_from_config(load_config(cfg)["outbox"])
    assert isinstance(src, CredentialKeySource) and src.sealed_file == Path(SEALED_FILE)
    src.sealed_file = sealed  # the test's credstore, not /etc's
    with Outbox(data / "outbox.sqlite3", src) as box:
        assert box.get(d["uuid"]).dossier["uuid"] == d["uuid"]
    # sealed on another machine: exit 1 with both languages, nothing changed
    other = tmp_path / "other.secret"
    assert creds("setup", secret=other).returncode == 0
    out = subprocess.run([sys.executable, "-m", "kiosk.outbox_key", "seal", "--config", str(cfg), "--sealed-file",
                          str(sealed)], capture_output=True, text=True, timeout=120, cwd=REPO,
                         env={**os.environ, "SYSTEMD_CREDENTIAL_SECRET": str(other)})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.splitlines()[0].startswith("Không giải mã được") and "cannot decrypt it here" in out.stderr


def test_the_key_is_never_printed_or_logged(tmp_path, machine, caplog, capsys):
    src = source(tmp_path)
    with caplog.at_level("DEBUG"):
        key = src.load(create=True)
        src.probe()
    text = caplog.text + "".join(capsys.readouterr())
    for form in (key, base64.b64encode(key)):
        assert form.decode("latin-1") not in text


def test_config_accepts_the_credential_source(tmp_path):
    cfg = tmp_path / "o.toml"
    cfg.write_text('[outbox]\nkey_source = "credential"\n', encoding="utf-8")
    src = key_source_from_config(load_config(cfg)["outbox"])
    assert isinstance(src, CredentialKeySource) and "sealed" in src.describe()


def test_the_installer_step_leaves_a_keyring_kiosk_alone(tmp_path, machine):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[outbox]\npath = "{tmp_path}/o.sqlite3"\nkey_file = "{tmp_path}/k"\nkey_source = "keyring"\n',
                   encoding="utf-8")
    sealed = tmp_path / "sealed"
    out = subprocess.run([sys.executable, "-m", "kiosk.outbox_key", "seal", "--config", str(cfg), "--sealed-file",
                          str(sealed)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0 and "nothing sealed" in out.stdout and not sealed.exists()


# --- the recovery procedure of docs/technician-guide.md ('The outbox key'), step by step -------------
def _kiosk_on_this_machine(tmp_path):
    data = tmp_path / "var" / "lib" / "kiosk" / "outbox"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[outbox]\npath = "{data}/outbox.sqlite3"\nkey_file = "{data}/outbox.key"\n'
                   'key_source = "credential"\n', encoding="utf-8")
    sealed = tmp_path / "etc" / "credstore.encrypted" / "kiosk-outbox-key"
    d = dossier()
    with Outbox(data / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "none")) as box:
        code = box.enqueue(d)
    return cfg, data, sealed, d, code


def _seal(cfg, sealed, *extra):
    return subprocess.run([sys.executable, "-m", "kiosk.outbox_key", "seal", "--config", str(cfg), "--sealed-file",
                           str(sealed), *extra], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_recovery_with_the_backup_after_the_host_key_changed(tmp_path, machine, monkeypatch):
    cfg, data, sealed, d, _code = _kiosk_on_this_machine(tmp_path)
    # the backup, as the guide makes it: systemd-creds decrypt into a file on the USB stick
    usb = tmp_path / "usb" / "KIOSK-ID-outbox.key"
    usb.parent.mkdir()
    out = subprocess.run(["systemd-creds", "decrypt", f"--name={CREDENTIAL_NAME}", str(sealed), str(usb)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # the disk is reinstalled: a new host key (systemd-creds makes one when it first seals)
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(tmp_path / "reinstalled" / "credential.secret"))
    with pytest.raises(OutboxKeyError, match="cannot decrypt it here"):
        Outbox(data / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "none"))
    # 1. keep the old sealed file; 2. copy the backup in and seal it to the machine as it is now
    sealed.rename(tmp_path / "kiosk-outbox-key.old")
    restored = tmp_path / "root" / "outbox.key"
    restored.parent.mkdir()
    shutil.copy(usb, restored)
    restored.chmod(0o600)
    out = _seal(cfg, sealed, "--key-file", str(restored), "--remove-key-file", "yes")
    assert out.returncode == 0, out.stderr
    assert "migrated, plain key file removed" in out.stdout and not restored.exists()
    assert (tmp_path / "reinstalled" / "credential.secret").exists()
    with Outbox(data / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "none")) as box:
        assert box.get(d["uuid"]).dossier["applicant"]["full_name"] == "Trần Thị Ngọc Ánh"


def test_recovery_without_a_backup_keeps_the_outbox_and_lists_its_receipt_codes(tmp_path, machine, monkeypatch):
    cfg, data, sealed, _d, code = _kiosk_on_this_machine(tmp_path)
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(tmp_path / "new-board" / "credential.secret"))
    sealed.rename(tmp_path / "kiosk-outbox-key.old")
    # with the unreadable outbox still in place no new key is made: it would orphan those dossiers
    out = _seal(cfg, sealed)
    assert out.returncode == 1 and "holds encrypted dossiers" in out.stderr and not sealed.exists()
    aside = data.with_name("outbox.unreadable")
    data.rename(aside)
    listing = subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute("
         "\"SELECT local_code, created_at FROM items WHERE state != 'sent'\")]", str(aside / "outbox.sqlite3")],
        capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and listing.stdout.split()[0] == code
    assert "Trần" not in listing.stdout and "001185012345" not in listing.stdout
    out = _seal(cfg, sealed)
    assert out.returncode == 0 and "outbox key: created" in out.stdout, out.stderr
    with Outbox(data / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "none")) as box:
        assert box.status()["pending"] == 0
