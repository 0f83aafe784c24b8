"""The sync worker notices the network's return (issue 14): a dossier that waits after an Offline
failure leaves within 10 s of the central system answering again, with the production backoff
(60 s base, 300 s cap) left as it is. Real central system over HTTP, real outbox files; the
network goes away by stopping central (connection refused) or by a proxy that goes silent."""
from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest

from kiosk.client import CentralClient
from kiosk.config import load_config
from kiosk.outbox import Outbox
from kiosk.sync import SyncWorker
from testkit.central import KIOSK_ID, KIOSK_SECRET, free_port, sample_dossier, start_central, wait_until


@pytest.fixture
def box(tmp_path):
    ob = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "outbox.key")
    yield ob
    ob.close()


def production_worker(box, url: str, timeout: float = 3.0) -> SyncWorker:
    """The worker exactly as the kiosk and kiosk-sync.service build it, from the shipped defaults."""
    cfg = load_config()
    assert cfg["outbox"]["retry_base_s"] == 60 and cfg["outbox"]["retry_max_s"] == 300
    return SyncWorker.from_config(box, CentralClient(url, KIOSK_ID, KIOSK_SECRET, timeout=timeout), cfg)


def _kill(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in another thread; close() alone does not
    except OSError:
        pass
    sock.close()


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 whose link can be cut and restored. Cut: open connections are
    closed and new ones are accepted but hear nothing (a dead uplink behind the kiosk's router:
    requests time out rather than being refused)."""

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.up = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self.up = False
            socks, self._open = list(self._open), set()
        for s in socks:
            _kill(s)

    def restore(self) -> None:
        with self._lock:
            self.up = True
            held, self._held = self._held, []
        for s in held:
            _kill(s)

    def close(self) -> None:
        self.cut()
        self.restore()
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                if not self.up:
                    self._held.append(client)
                    continue
                self._open.add(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _kill(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if not self.up:
                _kill(upstream)
                return
            self._open.add(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        _kill(src)
        _kill(dst)


def test_probe_interval_is_a_declared_key_and_zero_turns_the_probe_off(tmp_path, box):
    assert load_config()["outbox"]["probe_interval_s"] == 4.0
    override = tmp_path / "k.toml"
    override.write_text("[outbox]\nprobe_interval_s = 0\n", encoding="utf-8")
    worker = SyncWorker.from_config(box, None, load_config(override))
    assert worker.probe_interval == 0 and worker.max_delay == 300


def test_dossier_queued_while_central_is_down_leaves_within_10_s_of_its_return(box, tmp_path):
    port = free_port()
    worker = production_worker(box, f"http://127.0.0.1:{port}").start()
    srv = None
    try:
        d, f = sample_dossier()
        box.enqueue(d, f)
        assert worker.submit_now(d["uuid"], timeout=5) is None  # provisional receipt: nobody listens
        assert worker.status()["next_try_in_s"] > 40            # the backoff alone would wait ~1 min
        time.sleep(2)
        assert box.status()["pending"] == 1
        srv = start_central(str(tmp_path / "c.sqlite3"), port=port)
        back = time.monotonic()
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=10), worker.status()
        print(f"confirmed {time.monotonic() - back:.1f} s after central came back")
        assert srv.central.count_dossiers() == 1 and box.get(d["uuid"]).dossier_code
        assert worker.status()["last_error"] is None and not worker.status()["probing"]
    finally:
        worker.stop()
        if srv is not None:
            srv.stop()


def test_network_that_goes_silent_and_comes_back(box, tmp_path):
    srv = start_central(str(tmp_path / "c.sqlite3"))
    proxy = CuttableProxy(srv.port)
    worker = production_worker(box, f"http://127.0.0.1:{proxy.port}").start()
    try:
        first, files = sample_dossier()
        box.enqueue(first, files)
        assert worker.submit_now(first["uuid"], timeout=10) is not None  # online: a real code at once
        proxy.cut()
        d, f = sample_dossier()
        box.enqueue(d, f)
        assert worker.submit_now(d["uuid"], timeout=8) is None  # the send timed out: provisional receipt
        # a timeout is not proof that nobody is there: the dossier leaves once a probe has seen
        # the silence and a later one an answer
        time.sleep(7)
        assert box.status()["pending"] == 1
        proxy.restore()
        back = time.monotonic()
        assert wait_until(lambda: box.status()["pending"] == 0, timeout=10), worker.status()
        print(f"confirmed {time.monotonic() - back:.1f} s after the network came back")
        assert srv.central.count_dossiers() == 2
    finally:
        worker.stop()
        proxy.close()
        srv.stop()


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A central stand-in: health answers as told, every other request gets ``fail`` (status, body)."""

    health_ok = True
    fail = (503, {"result": "error", "error": "unavailable"})
    hits: dict[str, int] = {}

    def log_message(self, *a):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        kind = "health" if self.path == "/api/v1/health" else "send"
        type(self).hits[kind] = type(self).hits.get(kind, 0) + 1
        if kind == "health":
            status, body = (200, {"result": "ok"}) if type(self).health_ok else (503, {"result": "error"})
        else:
            status, body = type(self).fail
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = _answer


@pytest.fixture
def gateway():
    handler = type("Gateway", (_Gateway,), {"hits": {}, "health_ok": True})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _citizen_failed_then_worker(box, url) -> SyncWorker:
    """A dossier queued and tried at once by its citizen (central answers 5xx: no code), then the
    worker started. In that order: a worker started before the dossier was queued could pick it up
    in its opening pass too, and the test would count a send it did not mean."""
    worker = SyncWorker(box, CentralClient(url, KIOSK_ID, KIOSK_SECRET, timeout=3), probe_interval=0.1)
    d, f = sample_dossier()
    box.enqueue(d, f)
    assert worker.submit_now(d["uuid"], timeout=5) is None
    return worker.start()


def test_central_answering_while_sends_fail_leaves_the_pace_to_the_backoff(box, gateway):
    """Health says ok but intake answers 503 (an overloaded central after a province-wide outage):
    probing goes on, real sends do not; one probe seeing central gone and the next seeing it back
    is a return, and brings exactly one early try."""
    handler, url = gateway
    worker = _citizen_failed_then_worker(box, url)
    try:
        assert wait_until(lambda: handler.hits.get("health", 0) >= 10, timeout=10)
        assert handler.hits["send"] == 1 and worker.status()["next_try_in_s"] > 40
        handler.health_ok = False
        probes = handler.hits["health"]
        assert wait_until(lambda: handler.hits["health"] >= probes + 3, timeout=10)
        handler.health_ok = True
        assert wait_until(lambda: handler.hits["send"] == 2, timeout=10)
        probes = handler.hits["health"]
        assert wait_until(lambda: handler.hits["health"] >= probes + 10, timeout=10)
        assert handler.hits["send"] == 2 and box.status()["pending"] == 1
        assert worker.failures == 2 and worker.status()["next_try_in_s"] > 80  # the backoff grew as before
    finally:
        worker.stop()


@pytest.mark.parametrize("status, error, kind", [(401, "unauthorized", "auth"), (422, "invalid_dossier", "rejected")])
def test_no_probe_after_auth_error_or_rejection(box, gateway, status, error, kind):
    """Central answered: a person must fix credentials or the dossier, the network is not the cause.
    Bad credentials stop the queue; a refused dossier is held and the next one is sent (issue 17),
    each once."""
    handler, url = gateway
    handler.fail = (status, {"result": "error", "error": error, "message_vi": "Từ chối."})
    worker = SyncWorker(box, CentralClient(url, KIOSK_ID, KIOSK_SECRET, timeout=3), probe_interval=0.05)
    try:
        for _ in range(2):
            box.enqueue(*sample_dossier())
        first = box.pending()[0].uuid
        # the citizen's try, then the worker (started first, its opening pass could race the try)
        assert worker.submit_now(first, timeout=5) is None
        worker.start()
        assert worker.status()["last_error"]["kind"] == kind
        time.sleep(1)
        assert handler.hits.get("health", 0) == 0 and not worker.status()["probing"]
        if kind == "auth":
            assert handler.hits["send"] == 1 and worker.status()["next_try_in_s"] > 200
        else:
            assert handler.hits["send"] == 2 and box.status()["held"] == 2 and box.status()["pending"] == 0
    finally:
        worker.stop()


def test_a_citizens_try_that_central_does_not_confirm_does_not_stop_the_probe(box, gateway):
    """Intake is down for everyone (5xx), the worker probes; a second citizen's dossier sent at once
    also gets a 5xx. That try says nothing new about the queue: the probe must go on (before, the
    citizen's pass ended the probing and the queue slept the whole backoff)."""
    handler, url = gateway
    worker = _citizen_failed_then_worker(box, url)
    try:
        assert wait_until(lambda: worker.status()["probing"], timeout=10)
        d2, f2 = sample_dossier()
        box.enqueue(d2, f2)
        assert worker.submit_now(d2["uuid"], timeout=5) is None
        probes = handler.hits.get("health", 0)
        assert wait_until(lambda: handler.hits.get("health", 0) >= probes + 5, timeout=10)
        assert worker.status()["probing"]
    finally:
        worker.stop()
