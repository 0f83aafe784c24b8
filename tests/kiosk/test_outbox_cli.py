"""`kiosk outbox status|retry|export` and `kiosk central register-kiosk|set-status` as a technician runs them."""
import json
import subprocess
import sys

from testkit.central import free_port, sample_dossier, start_central
from kiosk.outbox import Outbox


def kiosk(*args, config):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


def write_config(tmp_path, port, secret="test-kiosk-secret-1234"):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[central]\nurl = "http://127.0.0.1:{port}"\nkiosk_secret = "{secret}"\ndatabase = "central.sqlite3"\ntimeout_s = 3.0\n'
        '[outbox]\npath = "outbox.sqlite3"\nkey_file = "outbox.key"\nretry_base_s = 0.1\n', encoding="utf-8")
    return cfg


def test_status_retry_and_export(tmp_path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    box = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    d1, f1 = sample_dossier()
    d2, f2 = sample_dossier(commune_code="99999")
    box.enqueue(d1, f1)
    box.enqueue(d2, f2)
    box.note_failure(d2["uuid"], "rejected: unknown_unit", hold=True)
    box.close()

    r = kiosk("outbox", "status", config=cfg)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert (st["pending"], st["held"], st["sent"]) == (1, 1, 0)

    r = kiosk("outbox", "export", str(tmp_path / "exp"), config=cfg)
    assert r.returncode == 0 and "exported 2" in r.stdout

    r = kiosk("outbox", "retry", config=cfg)  # central is down
    assert r.returncode == 1 and "offline" in r.stderr

    srv = start_central(str(tmp_path / "central.sqlite3"), port=port)
    try:
        r = kiosk("outbox", "retry", config=cfg)
        assert r.returncode == 1  # the dossier for an unknown commune is refused again and held
        assert srv.central.count_dossiers() == 1
        st = json.loads(kiosk("outbox", "status", config=cfg).stdout)
        assert (st["pending"], st["held"], st["sent"]) == (0, 1, 1)
    finally:
        srv.stop()


def test_central_cli_register_and_set_status(tmp_path):
    cfg = write_config(tmp_path, free_port())
    db = str(tmp_path / "cli-central.sqlite3")
    r = kiosk("central", "register-kiosk", "KIOSK-HN-HONGHA-02", "--province", "01", "--commune", "00097", "--database", db, config=cfg)
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert len(secret) >= 24
    srv = start_central(db)
    try:
        from kiosk.client import CentralClient

        res = CentralClient(srv.url, "KIOSK-HN-HONGHA-02", secret).submit(sample_dossier("KIOSK-HN-HONGHA-02", attachments=0)[0])
    finally:
        srv.stop()
    r = kiosk("central", "set-status", res.dossier_code, "done", "--database", db, config=cfg)
    assert r.returncode == 1 and "cannot move" in r.stderr
    r = kiosk("central", "set-status", res.dossier_code, "processing", "--database", db, config=cfg)
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "processing"
    r = kiosk("central", "register-kiosk", "x", "--province", "1", "--database", db, config=cfg)
    assert r.returncode == 2
