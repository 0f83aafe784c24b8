"""Heartbeats: payload without personal data, sent by the real client to a real HTTP server."""
from __future__ import annotations

import json
import time

import pytest

from common.health import Health, State
from kiosk.diagnostics.result import CheckResult
from kiosk.heartbeat import SCHEMA, HeartbeatWorker, build_payload

from .conftest import PERSONAL, free_port

CentralClient = pytest.importorskip("kiosk.client").CentralClient


def _client(cfg):
    return CentralClient.from_config(cfg)


def test_payload_shape_and_redaction():
    results = [
        CheckResult("printer", "Printer", "Máy in", Health(State.NEEDS_ATTENTION, "paper out", "Load paper", {"status": "12 00"})),
        CheckResult("outbox", "Outbox", "Hồ sơ chờ gửi", Health(State.OK, "2 waiting", "", {"depth": 2, "oldest_age_s": 30.0, "last_error": None, "path": "/x"})),
        CheckResult("disk", "Disk", "Ổ đĩa", Health(State.OK, "card of Trần Thị Ngọc Ánh 001185012345")),
    ]
    p = build_payload("KIOSK-1", results, app_version="1.2.3")
    assert p["schema"] == SCHEMA and p["kiosk_id"] == "KIOSK-1" and p["versions"]["app"] == "1.2.3"
    assert p["state"] == "needs_attention" and p["needs_visit"] == ["printer"]
    assert p["devices"]["printer"] == {"state": "needs_attention", "detail": "paper out", "action": "Load paper"}
    assert p["outbox"] == p["devices"]["outbox"]["facts"] == {"depth": 2, "oldest_age_s": 30.0, "last_error": None}
    text = json.dumps(p, ensure_ascii=False)
    assert all(v not in text for v in PERSONAL)


def test_dossiers_that_need_a_technician_reach_the_payload_by_code_and_reason():
    facts = {"depth": 3, "oldest_age_s": 60.0, "last_error": "rejected: POST /api/v1/dossiers: HTTP 422 invalid_dossier",
             "held": 1, "held_reasons": {"invalid_dossier": 1}, "retrying": 1, "path": "/x",
             "needs_technician": [{"local_code": "TAM-BADINH01-0002", "reason": "invalid_dossier",
                                   "held_at": "2026-11-23T08:15:00+07:00", "attempts": 1}],
             "retrying_dossiers": [{"local_code": "TAM-BADINH01-0003", "failures": 2}]}
    results = [CheckResult("outbox", "Outbox", "Hồ sơ chờ gửi", Health(State.NEEDS_ATTENTION, "3 waiting, 1 need a technician",
                                                                        "kiosk outbox retry", facts))]
    p = build_payload("KIOSK-1", results, app_version="1.2.3")
    assert p["needs_visit"] == ["outbox"]
    assert p["outbox"] == {k: facts[k] for k in ("depth", "oldest_age_s", "last_error", "held", "held_reasons",
                                                  "needs_technician", "retrying")}


def test_worker_sends_to_central_with_device_health_reported_by_the_app(make_cfg, central):
    url, handler, _ = central
    cfg = make_cfg({"central": {"url": url, "embedded": False}})
    worker = HeartbeatWorker(_client(cfg), interval=0.2, cfg=cfg)
    worker.report("printer", Health(State.NEEDS_ATTENTION, "paper out", "Load a new roll"))
    worker.start()
    deadline = time.monotonic() + 20
    while len(handler.heartbeats) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    assert len(handler.heartbeats) >= 2 and worker.sent >= 2 and worker.failures == 0
    beat = handler.heartbeats[0]
    assert beat["path"] == f"/api/v1/kiosks/{cfg['kiosk']['id']}/heartbeat"
    assert beat["auth"].startswith("Basic ")
    body = beat["body"]
    assert body["devices"]["printer"]["state"] == "needs_attention"
    assert "printer" in body["needs_visit"]
    assert {"network", "outbox", "disk", "memory", "temperature", "versions"} <= set(body["devices"])
    assert "idcard" not in body["devices"]  # devices are the app's: not opened behind its back
    assert body["interval_s"] == 0.2  # the fleet page judges silence by the kiosk's own interval


def test_central_down_is_counted_not_raised(make_cfg):
    cfg = make_cfg({"central": {"url": f"http://127.0.0.1:{free_port()}", "embedded": False, "timeout_s": 1.0}})
    worker = HeartbeatWorker(_client(cfg), interval=60, collect=lambda: [])
    assert worker.beat() is False
    assert worker.failures == 1 and worker.last_error


def test_cli_heartbeat(make_cfg, central, capsys):
    from kiosk.tools.cli import main

    url, handler, _ = central
    cfg = make_cfg({"central": {"url": url, "embedded": False}})
    assert main(["--config", str(cfg.sources[-1]), "diag", "heartbeat"]) == 0
    assert json.loads(capsys.readouterr().out)["kiosk_id"] == cfg["kiosk"]["id"]
    assert len(handler.heartbeats) == 1
