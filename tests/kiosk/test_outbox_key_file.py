"""The outbox key's configuration and the 0600 file source (real files, real config, real CLI)."""
from __future__ import annotations

import base64
import json
import logging
import os
import uuid

import pytest

from kiosk.tools.cli import main
from kiosk.config import ConfigError, load_config
from kiosk.outbox import Outbox, OutboxError, OutboxKeyError, load_or_create_key
from kiosk.outbox_key import FileKeySource, KeyringKeySource, key_source_from_config


def write(tmp_path, text: str):
    p = tmp_path / "override.toml"
    p.write_text(text, encoding="utf-8")
    return p


def dossier() -> dict:
    return {"schema": "kiosk-dossier/1", "uuid": str(uuid.uuid4()), "kiosk_id": "KIOSK-HN-BADINH-01",
            "applicant": {"full_name": "Trần Thị Ngọc Ánh", "id_number": "001185012345"}, "attachments": []}


# --- configuration ----------------------------------------------------------------------------
def test_default_config_keeps_the_file_source():
    cfg = load_config(None)
    assert cfg["outbox"]["key_source"] == "file"
    assert isinstance(key_source_from_config(cfg["outbox"]), FileKeySource)


def test_keyring_source_from_config(tmp_path):
    cfg = load_config(write(tmp_path, '[outbox]\nkey_source = "keyring"\nkeyring_service = "svc"\n'
                                      'keyring_user = "u1"\nkeyring_timeout_s = 3\npath = "o.sqlite3"\n'))
    src = key_source_from_config(cfg["outbox"])
    assert isinstance(src, KeyringKeySource)
    assert (src.service, src.user, src.timeout_s) == ("svc", "u1", 3.0)
    assert src.lock_file == tmp_path / "o.sqlite3.keylock"
    assert "svc/u1" in src.describe()


@pytest.mark.parametrize("text, names", [
    ('[outbox]\nkey_source = "vault"\n', ["outbox.key_source", "'file'", "'keyring'"]),
    ('[outbox]\nkey_source = "KEYRING"\n', ["outbox.key_source"]),
    ('[outbox]\nkeyring_service = ""\n', ["outbox.keyring_service"]),
    ('[outbox]\nkeyring_user = "a b"\n', ["outbox.keyring_user"]),
    ('[outbox]\nkeyring_timeout_s = 0\n', ["outbox.keyring_timeout_s"]),
])
def test_bad_key_settings_are_config_errors_naming_the_key(tmp_path, text, names):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    for n in names:
        assert n in str(err.value)


def test_config_check_rejects_a_bad_key_source(tmp_path, capsys):
    rc = main(["--config", str(write(tmp_path, '[outbox]\nkey_source = "both"\n')), "config", "check"])
    out = capsys.readouterr()
    assert rc != 0
    assert "outbox.key_source" in out.err + out.out and "'keyring'" in out.err + out.out


def test_unknown_source_in_a_hand_made_section_is_a_typed_error(tmp_path):
    with pytest.raises(OutboxKeyError, match="key_source"):
        key_source_from_config({"key_source": "env", "key_file": str(tmp_path / "k"), "path": ""})


# --- the file source ----------------------------------------------------------------------------
def test_file_source_creates_0600_once_and_reads_it_back(tmp_path):
    src = FileKeySource(tmp_path / "k" / "outbox.key")
    assert src.probe().present is False
    key = src.load(create=True)
    assert len(key) == 32 and (tmp_path / "k" / "outbox.key").stat().st_mode & 0o777 == 0o600
    assert FileKeySource(tmp_path / "k" / "outbox.key").load(create=False) == key
    assert load_or_create_key(tmp_path / "k" / "outbox.key") == key  # the old entry point, same key
    st = src.probe()
    assert (st.source, st.reachable, st.present, st.valid) == ("file", True, True, True)


def test_file_source_never_creates_when_told_not_to(tmp_path):
    with pytest.raises(OutboxKeyError) as exc:
        FileKeySource(tmp_path / "outbox.key").load(create=False)
    assert "không xóa dữ liệu" in exc.value.message_vi and isinstance(exc.value, OutboxError)
    assert not (tmp_path / "outbox.key").exists()


def test_malformed_key_file_is_a_typed_error_and_probe_says_invalid(tmp_path):
    (tmp_path / "outbox.key").write_text("short\n")
    os.chmod(tmp_path / "outbox.key", 0o600)
    with pytest.raises(OutboxKeyError, match="not a 32-byte AES key"):
        FileKeySource(tmp_path / "outbox.key").load(create=True)
    st = FileKeySource(tmp_path / "outbox.key").probe()
    assert st.present and not st.valid and "32-byte" in st.error
    assert (tmp_path / "outbox.key").read_text() == "short\n"


def test_outbox_accepts_a_source_object_or_a_path(tmp_path):
    with Outbox(tmp_path / "o.sqlite3", FileKeySource(tmp_path / "o.key")) as box:
        box.enqueue(dossier())
    with Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key") as box:
        assert box.status()["pending"] == 1 and isinstance(box.key_source, FileKeySource)


def test_the_key_is_not_logged(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    key_file = tmp_path / "o.key"
    key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    os.chmod(key_file, 0o644)  # provokes the "permissions reset" warning: it must not carry the key
    with Outbox(tmp_path / "o.sqlite3", key_file) as box:
        box.enqueue(dossier())
    key_b64 = key_file.read_text().strip()
    assert "permissions reset" in caplog.text
    assert key_b64 not in caplog.text and base64.b64decode(key_b64).hex() not in caplog.text


# --- kiosk diag outbox with the file source ------------------------------------------------------
def _diag(tmp_path, capsys, extra: str = "") -> tuple[int, dict]:
    conf = write(tmp_path, f'[outbox]\npath = "o.sqlite3"\nkey_file = "o.key"\n{extra}')
    rc = main(["--config", str(conf), "diag", "outbox", "--json"])
    return rc, json.loads(capsys.readouterr().out)["checks"][0]


def test_diag_names_the_file_source_without_printing_the_key(tmp_path, capsys):
    rc, check = _diag(tmp_path, capsys)
    assert rc == 0 and check["facts"]["key_source"] == "file" and check["facts"]["key_present"] is False
    assert not (tmp_path / "o.key").exists()  # diagnostics never create a key
    with Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key") as box:
        box.enqueue(dossier())
    rc, check = _diag(tmp_path, capsys)
    assert rc == 0 and check["facts"]["key_reachable"] and check["facts"]["key_present"]
    assert "key: file" in check["detail"]
    key_b64 = (tmp_path / "o.key").read_text().strip()
    assert key_b64 not in json.dumps(check)


def test_diag_fails_on_a_missing_key_only_when_dossiers_wait(tmp_path, capsys):
    Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key").close()  # an outbox with nothing encrypted
    (tmp_path / "o.key").unlink()
    rc, check = _diag(tmp_path, capsys)
    assert rc == 0 and check["state"] == "ok"
    with Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key") as box:
        box.enqueue(dossier())
    (tmp_path / "o.key").unlink()
    rc, check = _diag(tmp_path, capsys)
    assert check["state"] == "failed" and "key file" in check["detail"] and "Do not delete" in check["action"]
    assert not (tmp_path / "o.key").exists()


def test_diag_fails_on_a_malformed_key_file(tmp_path, capsys):
    (tmp_path / "o.key").write_text("garbage\n")
    rc, check = _diag(tmp_path, capsys)
    assert check["state"] == "failed" and check["facts"]["key_valid"] is False


def test_uncreatable_key_file_is_a_typed_error(tmp_path):
    # a folder that is really a file: the key cannot be created, even by root (who ignores
    # permission bits, so a read-only folder would prove nothing here)
    not_a_folder = tmp_path / "ro"
    not_a_folder.write_text("")
    with pytest.raises(OutboxKeyError, match="cannot read or create"):
        FileKeySource(not_a_folder / "outbox.key").load(create=True)


def test_a_key_path_that_is_a_folder_is_a_typed_error(tmp_path):
    (tmp_path / "outbox.key").mkdir()  # works for root too: reading a folder is EISDIR
    with pytest.raises(OutboxKeyError, match="cannot read or create"):
        FileKeySource(tmp_path / "outbox.key").load(create=True)
    assert FileKeySource(tmp_path / "outbox.key").probe().reachable is False


def test_outbox_errors_are_bilingual_errors_for_the_screens():
    from common.errors import BilingualError, user_message

    exc = OutboxKeyError(detail="/var/lib/kiosk/outbox.key is missing")
    assert isinstance(exc, BilingualError) and isinstance(exc, OutboxError)
    assert "khóa mã hóa" in user_message(exc, "vi").lower()
    # the technician's detail is str(); the English screen gets a plain sentence without paths
    assert "/var/lib/kiosk" in str(exc) and "/var/lib" not in user_message(exc, "en")
