"""One bad dossier cannot block the kiosk's queue (issue 17, part 3).

The real central system over HTTP (testkit.central.start_central, SQLite), real outbox files, the
real client and sync worker. The central system no longer answers 500 to any input (issue 17,
part 2), so where a test needs a dossier that always gets a 500 (a "poison" dossier: a central bug
that only this dossier triggers), a small real HTTP proxy in the test answers 500 for that one
dossier UUID and passes every other request to the real central system; the same proxy plays a
rate limit (429 with Retry-After) and an intake that fails on every dossier. Refusals (422, 413,
409 ``uuid_conflict``) come from the real central system itself.
"""
from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
import requests

from kiosk.client import CentralClient
from kiosk.config import load_config
from kiosk.diagnostics import run
from kiosk.heartbeat import HeartbeatWorker
from kiosk.outbox import Outbox
from kiosk.sync import SERVER_ERROR_STREAK, SyncWorker
from kiosk.tools.cli import main
from testkit.central import KIOSK_ID, KIOSK_SECRET, PERSONAL_STRINGS, sample_dossier, start_central, wait_until

from common.health import State


@pytest.fixture
def central(tmp_path):
    srv = start_central(str(tmp_path / "central.sqlite3"))
    yield srv
    srv.stop()


@pytest.fixture
def box(tmp_path):
    ob = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    yield ob
    ob.close()


class _Proxy(http.server.BaseHTTPRequestHandler):
    """In front of the real central: ``server.poison`` uuids get 500 on POST /api/v1/dossiers;
    ``server.mode`` "429" answers every request 429 (Retry-After: ``server.retry_after``),
    "500" answers every dossier 500; anything else is forwarded as it is."""

    def log_message(self, *a):
        pass

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        srv = self.server
        uid = None
        if self.command == "POST" and self.path == "/api/v1/dossiers":
            try:
                uid = json.loads(body).get("uuid")
            except ValueError:
                pass
        if srv.mode == "429" and self.path != "/api/v1/health":
            srv.log.append(("429", uid, time.monotonic()))
            refusal = {"result": "rate_limited", "error": "rate_limited", "message_vi": "Chờ.", "message_en": "wait",
                       "retry_after": srv.retry_after}
            return self._send(429, "application/json", json.dumps(refusal).encode(), {"Retry-After": str(srv.retry_after)})
        if uid is not None and (uid in srv.poison or srv.mode == "500"):
            srv.log.append(("500", uid, time.monotonic()))
            return self._send(500, "text/plain; charset=utf-8", b"Internal Server Error")  # what Starlette answers
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
        r = requests.request(self.command, srv.central + self.path, data=body, headers=headers, timeout=10)
        if uid is not None:
            srv.log.append((str(r.status_code), uid, time.monotonic()))
        self._send(r.status_code, r.headers.get("Content-Type", ""), r.content)

    def _send(self, status, ctype, data, extra=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    do_GET = do_PUT = do_POST = _handle


@pytest.fixture
def proxy(central):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.daemon_threads = True
    server.central, server.poison, server.mode, server.retry_after, server.log = central.url, set(), "forward", 1, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def hits(proxy, uid, status=None) -> list[float]:
    return [t for s, u, t in list(proxy.log) if u == uid and (status is None or s == status)]


def test_poison_dossier_between_good_ones_holds_none_back_and_waits_on_its_own(box, central, proxy):
    """The issue's queue: a dossier central fails on (500), good ones before and behind it. One
    pass confirms every good one; the poison one waits for its own next try, kept across a restart."""
    worker = SyncWorker(box, CentralClient(proxy.url, KIOSK_ID, KIOSK_SECRET, timeout=5), base_delay=5, max_delay=60)
    good0, poison, good1, good2 = (sample_dossier() for _ in range(4))
    proxy.poison.add(poison[0]["uuid"])
    for d, f in (good0, poison, good1, good2):
        box.enqueue(d, f)
    report = worker.drain_once(due_only=True)
    assert report.sent == [good0[0]["uuid"], good1[0]["uuid"], good2[0]["uuid"]]
    assert report.deferred == [poison[0]["uuid"]] and report.held == [] and report.stopped_by is None
    assert central.central.count_dossiers() == 3
    item = box.get(poison[0]["uuid"])
    assert item.state == "pending" and item.failures == 1 and item.next_attempt_at and "HTTP 500" in item.last_error
    st = box.status()
    assert (st["pending"], st["held"], st["sent"], st["retrying"]) == (1, 0, 3, 1)
    assert st["retrying_dossiers"][0]["local_code"] == item.local_code and st["retrying_dossiers"][0]["failures"] == 1
    assert worker.last_error is None  # cleared by the good ones sent after it; the outbox keeps the dossier's error

    # its own back-off holds in the next pass, and in a new worker (kiosk-sync restarted): no second try yet
    again = worker.drain_once(due_only=True)
    assert again.sent == [] and again.deferred == [] and 3 < again.next_due_in <= 5
    restarted = SyncWorker(box, CentralClient(proxy.url, KIOSK_ID, KIOSK_SECRET, timeout=5), base_delay=5, max_delay=60)
    assert restarted.drain_once(due_only=True).next_due_in > 2
    assert len(hits(proxy, poison[0]["uuid"])) == 1

    # a technician's `kiosk sync` / `kiosk outbox retry` tries it at once; it stays queued, never lost
    assert worker.drain_once().deferred == [poison[0]["uuid"]]
    assert box.get(poison[0]["uuid"]).failures == 2 and box.get(poison[0]["uuid"]).dossier == poison[0]


def test_poison_dossier_is_retried_on_a_growing_back_off_while_new_dossiers_go(box, central, proxy):
    """The running worker: the good ones behind the poison are confirmed at once, citizens who come
    later get real codes, and the poison dossier is tried again after 0.25, 0.5, 1, 2 s (its own
    doubling; no jitter here so the intervals can be checked)."""
    worker = SyncWorker(box, CentralClient(proxy.url, KIOSK_ID, KIOSK_SECRET, timeout=5),
                        base_delay=0.25, max_delay=2.0, jitter=0, probe_interval=0.1)
    try:
        poison, good1, good2 = (sample_dossier() for _ in range(3))
        uid = poison[0]["uuid"]
        proxy.poison.add(uid)
        for d, f in (poison, good1, good2):
            box.enqueue(d, f)
        # queued first, then the worker: its opening pass takes all three. (Started first, its opening
        # pass could catch the poison one just queued and a wake() right after would try it again at
        # once — wake ignores the dossiers' own back-offs by design — spoiling the measured intervals.)
        worker.start()
        assert wait_until(lambda: box.status()["sent"] == 2, timeout=5), (box.status(), worker.status())
        assert box.get(good1[0]["uuid"]).dossier_code and box.get(good2[0]["uuid"]).dossier_code
        # citizens keep getting their real dossier code while the poison one waits
        for _ in range(2):
            d, f = sample_dossier()
            box.enqueue(d, f)
            result = worker.submit_now(d["uuid"], timeout=5)
            assert result is not None and result.dossier_code.startswith("01.00004-")
            time.sleep(0.4)
        assert wait_until(lambda: len(hits(proxy, uid)) >= 5, timeout=10), hits(proxy, uid)
        times = hits(proxy, uid)[:5]
        gaps = [b - a for a, b in zip(times, times[1:])]
        print("poison retried after", [round(g, 2) for g in gaps], "s")
        for gap, expected in zip(gaps, (0.25, 0.5, 1.0, 2.0)):
            assert expected - 0.05 <= gap <= expected + 0.6, gaps
        assert gaps[3] > 3 * gaps[0]
        assert wait_until(lambda: box.get(uid).failures >= 5, timeout=5)
        item = box.get(uid)
        assert item.state == "pending" and item.dossier == poison[0]
        assert central.central.count_dossiers() == 4 and box.status()["sent"] == 4
        assert worker.status()["dossiers_backing_off"] == 1
    finally:
        worker.stop()


def _kiosk_config(tmp_path, url: str):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[central]\nurl = "{url}"\nkiosk_secret = "{KIOSK_SECRET}"\nembedded = false\ntimeout_s = 5.0\n'
        f'[outbox]\npath = "{tmp_path / "outbox.sqlite3"}"\nkey_file = "{tmp_path / "outbox.key"}"\n'
        f'[logging]\nfile = ""\n[paths]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    return cfg


def test_refused_dossiers_are_held_with_their_reason_shown_everywhere_and_released_by_retry(box, central, tmp_path, capsys):
    """Central refuses three dossiers for good (422 invalid, 413 too large, 409 a uuid it holds
    with other content): each is held, "needs a technician", with central's reason code; the good
    ones around them are sent in the same pass. `kiosk outbox status`, `kiosk diag outbox` and the
    heartbeat central receives show it without personal data; `kiosk outbox retry` releases it."""
    client = CentralClient(central.url, KIOSK_ID, KIOSK_SECRET, timeout=10)
    good1, good2 = sample_dossier(), sample_dossier()
    invalid = sample_dossier(attachments=0)
    invalid[0]["procedure"] = "x"
    too_big = sample_dossier(attachments=0)
    too_big[0]["answers"]["note"] = "x" * 600_000
    taken = sample_dossier(attachments=0)
    first = client.submit(taken[0])  # central holds this uuid already ...
    taken[0]["answers"]["child_full_name"] = "Trần Minh Khang"  # ... and the kiosk's copy differs
    for d, f in (good1, invalid, too_big, taken, good2):
        box.enqueue(d, f)

    report = SyncWorker(box, client, base_delay=5, max_delay=60).drain_once()
    assert report.sent == [good1[0]["uuid"], good2[0]["uuid"]] and report.stopped_by is None
    assert report.held == [invalid[0]["uuid"], too_big[0]["uuid"], taken[0]["uuid"]]
    reasons = {uid: box.get(uid).hold_reason for uid in report.held}
    assert reasons == {invalid[0]["uuid"]: "invalid_dossier", too_big[0]["uuid"]: "too_large",
                       taken[0]["uuid"]: "uuid_conflict"}
    assert central.central.count_dossiers() == 3  # the two good ones and the one sent directly
    assert "uuid_conflict" in box.get(taken[0]["uuid"]).last_error and box.get(taken[0]["uuid"]).dossier == taken[0]
    assert first.dossier_code not in json.dumps(box.status())  # the 409 carries no code or secret

    cfg_path = _kiosk_config(tmp_path, central.url)
    assert main(["--config", str(cfg_path), "outbox", "status"]) == 0
    out, err = capsys.readouterr()
    status = json.loads(out)
    assert (status["pending"], status["held"], status["sent"]) == (0, 3, 2)
    assert status["held_reasons"] == {"invalid_dossier": 1, "too_large": 1, "uuid_conflict": 1}
    listed = {e["local_code"]: e["reason"] for e in status["needs_technician"]}
    assert listed == {box.get(uid).local_code: reason for uid, reason in reasons.items()}
    assert "3 dossier(s) need a technician" in err and "kiosk outbox retry" in err

    cfg = load_config(cfg_path)
    diag = run(cfg, "outbox")
    assert diag.state is State.NEEDS_ATTENTION and "3 need a technician" in diag.health.detail
    assert "uuid_conflict ×1" in diag.health.detail and "kiosk outbox retry" in diag.health.action

    beat = HeartbeatWorker(client, cfg=cfg, collect=lambda: [run(cfg, "outbox")])
    assert beat.beat(), beat.last_error
    stored = central.central.list_kiosks()[0]["last_heartbeat"]
    assert stored["outbox"]["held"] == 3 and stored["outbox"]["held_reasons"] == status["held_reasons"]
    assert {e["reason"] for e in stored["outbox"]["needs_technician"]} == {"invalid_dossier", "too_large", "uuid_conflict"}
    assert stored["devices"]["outbox"]["state"] == "needs_attention" and "outbox" in stored["needs_visit"]
    for text in (out, err, json.dumps(stored, ensure_ascii=False), diag.health.detail):
        assert not any(s in text for s in PERSONAL_STRINGS)

    # the technician fixed the cause of one (here: nothing to fix, so central refuses it again)
    code = box.get(invalid[0]["uuid"]).local_code
    assert main(["--config", str(cfg_path), "outbox", "retry", "--no-send", "--local-code", code]) == 0
    assert "released 1 held dossier(s)" in capsys.readouterr().out
    st = box.status()
    assert (st["pending"], st["held"]) == (1, 2) and box.get(invalid[0]["uuid"]).hold_reason == ""
    assert main(["--config", str(cfg_path), "outbox", "retry"]) == 1  # all three sent again, refused again
    out, err = capsys.readouterr()
    assert "released 2 held dossier(s)" in out and "3 dossier(s) refused again and held" in err
    assert box.status()["held"] == 3 and central.central.count_dossiers() == 3


def test_rate_limit_pauses_every_dossier_for_retry_after(box, central, proxy):
    """429 blames no dossier: the whole queue waits Retry-After (1 s here), then everything goes."""
    worker = SyncWorker(box, CentralClient(proxy.url, KIOSK_ID, KIOSK_SECRET, timeout=5),
                        base_delay=0.05, max_delay=0.2, probe_interval=0.05)
    for _ in range(2):
        box.enqueue(*sample_dossier(attachments=0))
    proxy.mode = "429"
    report = worker.drain_once()
    limited_at = time.monotonic()
    assert report.stopped_by == "rate_limited" and report.sent == [] and report.deferred == []
    assert len(proxy.log) == 1  # the pass stopped at the first answer
    assert 0.8 <= worker.status()["next_try_in_s"] <= 1.0 and not worker.status()["probing"]
    assert all(i.failures == 0 and i.next_attempt_at is None for i in box.pending())
    proxy.mode = "forward"
    worker.start()
    try:
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=10), worker.status()
        first_after = min(t for s, _, t in proxy.log if s != "429")
        assert first_after - limited_at >= 0.9  # nothing was sent during the pause
        assert central.central.count_dossiers() == 2
    finally:
        worker.stop()


def test_an_intake_failing_on_every_dossier_stops_the_pass_as_a_whole(box, central, proxy):
    """500 on every dossier is central's intake down, not poison: after SERVER_ERROR_STREAK of
    them the pass stops and the queue backs off as a whole (and the probe watches), instead of
    sending every queued dossier into the error."""
    worker = SyncWorker(box, CentralClient(proxy.url, KIOSK_ID, KIOSK_SECRET, timeout=5), base_delay=5, max_delay=60)
    for _ in range(6):
        box.enqueue(*sample_dossier(attachments=0))
    proxy.mode = "500"
    report = worker.drain_once()
    assert report.stopped_by == "server_error" and len(report.deferred) == SERVER_ERROR_STREAK == len(proxy.log)
    assert worker.last_error["kind"] == "server_error" and worker.failures == 1 and worker.status()["next_try_in_s"] > 3
    proxy.mode = "forward"
    worker.wake()  # as on central's return (the probe) or a technician's word: the dossiers' own back-offs end too
    worker.start()
    try:
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=10), worker.status()
        assert central.central.count_dossiers() == 6
    finally:
        worker.stop()
