"""The encrypted durable outbox on real SQLite files (and a real, tiny tmpfs for the full disk)."""
import json
import os
import stat
import subprocess

import pytest

from testkit.central import PERSONAL_STRINGS, sample_dossier
from kiosk.client import SubmitResult
from kiosk.outbox import Outbox, OutboxFull, OutboxKeyError, kiosk_short, load_or_create_key


def raw_bytes(path):
    """Everything SQLite has on disk for this outbox: the database, its WAL and shared memory."""
    out = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = f"{path}{suffix}"
        if os.path.exists(p):
            with open(p, "rb") as fh:
                out += fh.read()
    return out


def leaks(blob: bytes) -> list[str]:
    import unicodedata

    found = []
    for s in PERSONAL_STRINGS:
        for form in ("NFC", "NFD"):
            for enc in ("utf-8", "utf-16-le"):
                if unicodedata.normalize(form, s).encode(enc) in blob:
                    found.append(s)
    return found


@pytest.fixture
def box(tmp_path):
    ob = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    yield ob
    ob.close()


def result_for(code="01.00004-261123-0001"):
    return SubmitResult("created", code, "ABCDEFGH23", "2026-11-26", {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"})


def test_key_file_is_created_0600_and_reused(tmp_path):
    key = load_or_create_key(tmp_path / "k" / "outbox.key")
    mode = stat.S_IMODE(os.stat(tmp_path / "k" / "outbox.key").st_mode)
    assert mode == 0o600 and len(key) == 32
    assert load_or_create_key(tmp_path / "k" / "outbox.key") == key


def test_enqueue_roundtrip_and_local_code(box):
    dossier, files = sample_dossier()
    code = box.enqueue(dossier, files)
    assert code == "TAM-BADINH01-0001"
    assert box.enqueue(dossier, files) == code  # same uuid: no second copy
    [item] = box.pending()
    assert item.dossier == dossier and item.local_code == code and item.state == "pending"
    for sha, data in files.items():
        assert box.attachment(item.uuid, sha) == data
    d2, f2 = sample_dossier()
    assert box.enqueue(d2, f2) == "TAM-BADINH01-0002"
    assert [i.uuid for i in box.pending()] == [dossier["uuid"], d2["uuid"]]


def test_nothing_personal_is_readable_in_the_files(box, tmp_path):
    for _ in range(5):
        box.enqueue(*sample_dossier())
    blob = raw_bytes(tmp_path / "outbox.sqlite3")
    assert len(blob) > 10_000
    assert leaks(blob) == []


def test_mark_sent_deletes_personal_data_and_attachments(box, tmp_path):
    dossier, files = sample_dossier(attachment_size=50_000)
    box.enqueue(dossier, files)
    box.mark_sent(dossier["uuid"], result_for())
    item = box.get(dossier["uuid"])
    assert item.state == "sent" and item.dossier is None and item.attachment_shas == []
    assert item.dossier_code == "01.00004-261123-0001" and item.local_code.startswith("TAM-")
    assert item.submit_result().dossier_code == "01.00004-261123-0001"
    assert box.pending() == []
    with pytest.raises(KeyError):
        box.attachment(dossier["uuid"], next(iter(files)))
    # the row that stays holds no ciphertext either
    conn = __import__("sqlite3").connect(tmp_path / "outbox.sqlite3")
    assert conn.execute("SELECT payload FROM items").fetchone()[0] is None
    assert conn.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 0


def test_only_explicit_answers_mark_sent(box):
    dossier, files = sample_dossier()
    box.enqueue(dossier, files)
    with pytest.raises(ValueError):
        box.mark_sent(dossier["uuid"], {"result": "maybe"})
    assert box.get(dossier["uuid"]).state == "pending"


def test_attachments_must_match_their_hash_and_be_complete(box):
    dossier, files = sample_dossier(attachments=2)
    sha = next(iter(files))
    with pytest.raises(ValueError):
        box.enqueue(dossier, {sha: files[sha]})
    with pytest.raises(ValueError):
        box.enqueue(dossier, {sha: b"other bytes", **{k: v for k, v in files.items() if k != sha}})
    assert box.status()["pending"] == 0


def test_survives_reopen_and_a_different_key_cannot_read(tmp_path):
    ob = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key")
    dossier, files = sample_dossier()
    ob.enqueue(dossier, files)
    ob.close()
    ob = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key")
    assert ob.pending()[0].dossier == dossier
    ob.close()
    load_or_create_key(tmp_path / "other.key")  # a different, existing key (e.g. copied from another kiosk)
    other = Outbox(tmp_path / "o.sqlite3", tmp_path / "other.key")
    with pytest.raises(OutboxKeyError) as exc:
        other.pending()
    assert exc.value.message_vi
    assert other.status()["pending"] == 1  # still there, not dropped


def test_held_items_and_retry(box):
    dossier, files = sample_dossier()
    box.enqueue(dossier, files)
    box.note_failure(dossier["uuid"], "rejected: unknown_unit", hold=True)
    assert box.pending() == [] and box.status()["held"] == 1
    assert box.status()["last_error"]["error"] == "rejected: unknown_unit"
    assert box.retry() == 1
    assert box.pending()[0].attempts == 1


def test_a_held_dossier_keeps_its_reason_and_a_failing_one_its_own_next_try(box):
    from datetime import timedelta

    from common import clock

    held, failing, fine = (sample_dossier()[0] for _ in range(3))
    for d in (held, failing, fine):
        d["attachments"] = []
        box.enqueue(d, {})
    box.note_failure(held["uuid"], "rejected: POST /api/v1/dossiers: HTTP 409 uuid_conflict", hold=True, reason="uuid_conflict")
    at = clock.now() + timedelta(seconds=120)
    box.note_failure(failing["uuid"], "server_error: POST /api/v1/dossiers: HTTP 500 http_500", retry_at=at)
    box.note_failure(failing["uuid"], "server_error: POST /api/v1/dossiers: HTTP 500 http_500", retry_at=at)
    item = box.get(failing["uuid"])
    assert (item.state, item.failures, item.next_attempt_at) == ("pending", 2, at.isoformat(timespec="seconds"))
    h = box.get(held["uuid"])
    assert (h.state, h.hold_reason) == ("held", "uuid_conflict") and h.held_at
    st = box.status()
    assert (st["pending"], st["held"], st["retrying"]) == (2, 1, 1) and st["held_reasons"] == {"uuid_conflict": 1}
    assert st["needs_technician"] == [{"local_code": h.local_code, "reason": "uuid_conflict", "held_at": h.held_at, "attempts": 1}]
    assert st["retrying_dossiers"][0]["local_code"] == item.local_code and st["retrying_dossiers"][0]["failures"] == 2
    assert not leaks(json.dumps(st, ensure_ascii=False).encode())
    assert box.retry() == 1  # the technician's word: held ones back in the queue, own back-offs over
    assert all(i.failures == 0 and i.next_attempt_at is None and i.hold_reason == "" for i in box.pending())
    box.mark_sent(fine["uuid"], SubmitResult("created", "01.00004-261123-0001", "S" * 10, None, {}))
    assert box.by_local_code(box.get(fine["uuid"]).local_code).dossier_code == "01.00004-261123-0001"


def test_an_outbox_from_before_the_own_back_off_opens_and_gains_its_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with Outbox(path, tmp_path / "k.key") as ob:
        dossier = sample_dossier(attachments=0)[0]
        ob.enqueue(dossier, {})
    db = sqlite3.connect(path)
    for col in ("failures", "next_attempt_at", "hold_reason", "held_at"):  # the table as an older kiosk made it
        db.execute(f"ALTER TABLE items DROP COLUMN {col}")
    db.commit()
    db.close()
    with Outbox(path, tmp_path / "k.key") as ob:
        item = ob.pending()[0]
        assert item.dossier == dossier and item.failures == 0 and item.hold_reason == ""
        ob.note_failure(dossier["uuid"], "rejected: HTTP 422 invalid_dossier", hold=True, reason="invalid_dossier")
        assert ob.status()["held_reasons"] == {"invalid_dossier": 1}


def test_export_writes_private_files(box, tmp_path):
    dossier, files = sample_dossier()
    code = box.enqueue(dossier, files)
    n = box.export(tmp_path / "export")
    assert n == 1
    d = tmp_path / "export" / code
    assert json.loads((d / "dossier.json").read_text(encoding="utf-8")) == dossier
    for sha, data in files.items():
        p = d / f"{sha}.bin"
        assert p.read_bytes() == data and stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_kiosk_short():
    assert kiosk_short("KIOSK-HN-BADINH-01") == "BADINH01"
    assert kiosk_short("k1") == "K1"


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB tmpfs: the outbox meets ENOSPC exactly as on a full SD card."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_refuses_cleanly_and_keeps_what_was_saved(tiny_disk, tmp_path):
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"\0" * 300_000)
    ob = Outbox(tiny_disk / "outbox.sqlite3", tmp_path / "outbox.key")
    saved, refused = [], 0
    for _ in range(200):
        dossier, files = sample_dossier(attachment_size=40_000)
        try:
            ob.enqueue(dossier, files)
            saved.append((dossier, files))
        except OutboxFull as exc:
            refused += 1
            assert "đầy" in exc.message_vi
            assert ob.get(dossier["uuid"]) is None  # nothing half-written
            break
    assert refused == 1 and len(saved) >= 3
    items = {i.uuid: i for i in ob.pending()}
    assert set(items) == {d["uuid"] for d, _ in saved}
    for d, files in saved:
        for sha, data in files.items():
            assert ob.attachment(d["uuid"], sha) == data
    # the technician frees space (here: the ballast file) — the outbox keeps working
    ob.close()
    ballast.unlink()
    ob = Outbox(tiny_disk / "outbox.sqlite3", tmp_path / "outbox.key")
    for n, (d, _) in enumerate(saved[:2], 1):
        ob.mark_sent(d["uuid"], result_for(f"01.00004-261123-{n:04d}"))
    assert ob.status()["sent"] == 2
    dossier, files = sample_dossier(attachment_size=40_000)
    assert ob.enqueue(dossier, files).startswith("TAM-")
    assert leaks(raw_bytes(tiny_disk / "outbox.sqlite3")) == []
    ob.close()


def test_a_missing_key_file_is_an_error_not_a_new_key(tmp_path):
    ob = Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key")
    ob.enqueue(*sample_dossier())
    ob.close()
    (tmp_path / "o.key").rename(tmp_path / "o.key.bak")
    with pytest.raises(OutboxKeyError) as exc:
        Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key")
    assert "không xóa" in exc.value.message_vi
    assert not (tmp_path / "o.key").exists()
    (tmp_path / "o.key.bak").rename(tmp_path / "o.key")
    assert Outbox(tmp_path / "o.sqlite3", tmp_path / "o.key").status()["pending"] == 1
