"""Outbox check on a real encrypted outbox (kiosk.outbox) in a temp folder."""
from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest

from common.health import State
from kiosk.diagnostics import run
from kiosk.diagnostics.outbox import outbox_health

Outbox = pytest.importorskip("kiosk.outbox").Outbox


def _dossier():
    return {"schema": "kiosk-dossier/1", "uuid": str(uuid.uuid4()), "kiosk_id": "KIOSK-HN-BADINH-01",
            "applicant": {"full_name": "Trần Thị Ngọc Ánh", "id_number": "001185012345"}, "attachments": []}


def test_no_outbox_yet_is_ok_and_creates_nothing(make_cfg):
    cfg = make_cfg()
    r = run(cfg, "outbox")
    assert r.state is State.OK and r.health.facts["depth"] == 0
    from pathlib import Path
    assert not Path(cfg["outbox"]["path"]).exists() and not Path(cfg["outbox"]["key_file"]).exists()


def test_waiting_dossiers_are_counted_without_personal_data(make_cfg):
    cfg = make_cfg()
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    box.enqueue(_dossier())
    box.enqueue(_dossier())
    box.close()
    r = run(cfg, "outbox")
    assert r.state is State.OK
    assert r.health.facts["depth"] == 2 and r.health.facts["oldest_age_s"] < 600
    assert "Ngọc Ánh" not in repr(r.as_dict()) and "001185012345" not in repr(r.as_dict())


def test_stale_dossier_needs_attention(make_cfg):
    cfg = make_cfg()
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    d = _dossier()
    box.enqueue(d)
    box.note_failure(d["uuid"], "offline: connection refused")
    box.close()
    two_hours_ago = (dt.datetime.now().astimezone() - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    with sqlite3.connect(cfg["outbox"]["path"]) as db:  # age the item as if the network had been down since
        db.execute("UPDATE items SET created_at = ?", (two_hours_ago,))
    r = run(cfg, "outbox")
    assert r.state is State.NEEDS_ATTENTION
    assert r.health.facts["oldest_age_s"] >= 7000
    assert "connection refused" in r.health.detail and "kiosk-sync" in r.health.action


def test_held_dossier_needs_attention_and_names_retry(make_cfg):
    cfg = make_cfg()
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    d = _dossier()
    box.enqueue(d)
    box.note_failure(d["uuid"], "rejected: unknown flow version", hold=True)
    box.close()
    r = run(cfg, "outbox")
    assert r.state is State.NEEDS_ATTENTION and r.health.facts["held"] == 1
    assert "kiosk outbox retry" in r.health.action


def test_missing_key_file_fails_without_making_a_new_key(make_cfg):
    cfg = make_cfg()
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    box.enqueue(_dossier())
    box.close()
    from pathlib import Path
    Path(cfg["outbox"]["key_file"]).unlink()
    r = run(cfg, "outbox")
    assert r.state is State.FAILED and "key file" in r.health.detail
    assert not Path(cfg["outbox"]["key_file"]).exists()


def test_pure_status_mapping():
    assert outbox_health({"pending": 0, "held": 0})[0].state is State.OK
    h, vi = outbox_health({"pending": 3, "held": 0, "oldest_unsent_at": "2000-01-01T00:00:00+00:00",
                           "last_error": {"local_code": "TAM-X-0001", "error": "offline: timeout", "at": "…"}})
    assert h.state is State.NEEDS_ATTENTION and "offline: timeout" in h.detail and vi == "Có hồ sơ chưa gửi được"


def test_dossiers_that_need_a_technician_show_their_reasons_and_retried_ones_are_counted(make_cfg):
    from datetime import timedelta

    from common import clock

    cfg = make_cfg()
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    refused, failing, waiting = _dossier(), _dossier(), _dossier()
    for d in (refused, failing, waiting):
        box.enqueue(d)
    box.note_failure(refused["uuid"], "rejected: POST /api/v1/dossiers: HTTP 409 uuid_conflict", hold=True, reason="uuid_conflict")
    box.note_failure(failing["uuid"], "server_error: POST /api/v1/dossiers: HTTP 500 http_500",
                     retry_at=clock.now() + timedelta(minutes=2))
    code = box.get(refused["uuid"]).local_code
    box.close()
    r = run(cfg, "outbox")
    assert r.state is State.NEEDS_ATTENTION and r.message_vi == "Có hồ sơ cần cán bộ kỹ thuật xử lý"
    assert "1 need a technician (refused by the central system: uuid_conflict ×1)" in r.health.detail
    assert "1 retried on their own after server errors" in r.health.detail
    assert "kiosk outbox retry" in r.health.action and "kiosk outbox status" in r.health.action
    facts = r.health.facts
    assert facts["held_reasons"] == {"uuid_conflict": 1} and facts["retrying"] == 1
    assert [(e["local_code"], e["reason"]) for e in facts["needs_technician"]] == [(code, "uuid_conflict")]
    assert "Ngọc Ánh" not in repr(r.as_dict()) and "001185012345" not in repr(r.as_dict())
