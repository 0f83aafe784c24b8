"""SyncWorker with a real central system on 127.0.0.1, real outbox files, short retry delays."""
import random
import time

import pytest

from testkit.central import KIOSK_ID, KIOSK_SECRET, free_port, sample_dossier, start_central, wait_until
from kiosk.client import CentralClient
from kiosk.outbox import Outbox
from kiosk.sync import SyncWorker, backoff_delay


@pytest.fixture
def box(tmp_path):
    ob = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    yield ob
    ob.close()


def test_backoff_doubles_from_the_base_is_capped_and_jittered():
    rng = random.Random(1)
    no_jitter = [backoff_delay(n, 60, 300, jitter=0) for n in range(1, 7)]
    assert no_jitter == [60, 120, 240, 300, 300, 300]
    samples = [backoff_delay(3, 60, 300, jitter=0.2, rng=rng) for _ in range(200)]
    assert all(192 <= s <= 240 for s in samples) and len(set(samples)) > 100
    assert max(backoff_delay(20, 60, 300, rng=rng) for _ in range(100)) <= 300


def test_submit_now_online_gives_the_real_code(box, tmp_path):
    srv = start_central(str(tmp_path / "c.sqlite3"))
    try:
        worker = SyncWorker(box, CentralClient(srv.url, KIOSK_ID, KIOSK_SECRET, timeout=5), base_delay=0.05, max_delay=0.2).start()
        dossier, files = sample_dossier(attachments=2)
        box.enqueue(dossier, files)
        result = worker.submit_now(dossier["uuid"], timeout=10)
        assert result is not None and result.result == "created"
        assert result.dossier_code.startswith("01.00004-")
        item = box.get(dossier["uuid"])
        assert item.state == "sent" and item.dossier is None and item.dossier_code == result.dossier_code
        for sha, data in files.items():
            assert srv.central.attachment(sha) == data
        # asking again answers from the outbox, no new dossier
        assert worker.submit_now(dossier["uuid"], timeout=1).dossier_code == result.dossier_code
        assert srv.central.count_dossiers() == 1
        worker.stop()
    finally:
        srv.stop()


def test_dossier_typed_while_central_is_down_arrives_when_it_is_back(box, tmp_path):
    port = free_port()
    client = CentralClient(f"http://127.0.0.1:{port}", KIOSK_ID, KIOSK_SECRET, timeout=2)
    worker = SyncWorker(box, client, base_delay=0.05, max_delay=0.3).start()
    dossiers = []
    for _ in range(3):
        d, f = sample_dossier()
        code = box.enqueue(d, f)
        assert code.startswith("TAM-")
        assert worker.submit_now(d["uuid"], timeout=5) is None  # provisional receipt
        dossiers.append(d)
    assert worker.status()["last_error"]["kind"] == "offline"
    assert worker.failures >= 1
    srv = start_central(str(tmp_path / "c.sqlite3"), port=port)
    try:
        # no wake(), no citizen action: the backoff timer alone brings them in
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=30)
        assert srv.central.count_dossiers() == 3
        assert worker.status()["last_error"] is None
        for d in dossiers:
            assert box.get(d["uuid"]).dossier_code
    finally:
        worker.stop()
        srv.stop()


def test_auth_error_stops_the_batch_and_is_shown(box, tmp_path):
    srv = start_central(str(tmp_path / "c.sqlite3"))
    try:
        worker = SyncWorker(box, CentralClient(srv.url, KIOSK_ID, "wrong-secret-123", timeout=5), base_delay=0.05, max_delay=60)
        for _ in range(3):
            box.enqueue(*sample_dossier())
        report = worker.drain_once()
        assert report.stopped_by == "auth" and report.sent == []
        assert worker.last_error["kind"] == "auth" and "kỹ thuật" in worker.last_error["message_vi"]
        attempts = [i.attempts for i in box.pending()]
        assert attempts == [1, 0, 0]  # the batch stopped at the first dossier
        assert worker.status()["next_try_in_s"] > 30  # waits for the cap, not the base
        assert srv.central.count_dossiers() == 0
    finally:
        srv.stop()


def test_rejected_dossier_is_held_and_the_rest_go_on_in_the_same_pass(box, tmp_path):
    srv = start_central(str(tmp_path / "c.sqlite3"))
    try:
        worker = SyncWorker(box, CentralClient(srv.url, KIOSK_ID, KIOSK_SECRET, timeout=5), base_delay=0.05, max_delay=0.2)
        bad, bad_files = sample_dossier(commune_code="99999")
        box.enqueue(bad, bad_files)
        good, good_files = sample_dossier()
        box.enqueue(good, good_files)
        first = worker.drain_once()
        assert first.stopped_by is None and first.held == [bad["uuid"]] and first.sent == [good["uuid"]]
        held = box.get(bad["uuid"])
        assert held.state == "held" and held.hold_reason == "unknown_unit"
        assert worker.last_error["kind"] == "rejected" and worker.last_error["reason"] == "unknown_unit"
        second = worker.drain_once()
        assert second.sent == [] and second.held == []  # held until `kiosk outbox retry`
        assert box.status() == {**box.status(), "pending": 0, "held": 1, "sent": 1}
        assert box.get(bad["uuid"]).dossier == bad  # kept for the technician, not lost
    finally:
        srv.stop()


def test_wake_skips_the_backoff(box, tmp_path):
    port = free_port()
    # no health probe: this is about wake() alone (the probe has its own tests in test_sync_wake.py)
    worker = SyncWorker(box, CentralClient(f"http://127.0.0.1:{port}", KIOSK_ID, KIOSK_SECRET, timeout=2),
                        base_delay=3600, max_delay=3600, probe_interval=0).start()
    d, f = sample_dossier()
    box.enqueue(d, f)
    assert worker.submit_now(d["uuid"], timeout=5) is None
    assert worker.status()["next_try_in_s"] > 1000
    srv = start_central(str(tmp_path / "c.sqlite3"), port=port)
    try:
        time.sleep(0.3)
        assert box.status()["pending"] == 1  # still waiting out the backoff
        worker.wake()
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=15)
    finally:
        worker.stop()
        srv.stop()
