"""CentralClient against a real central system on 127.0.0.1, and against real misbehaving HTTP servers."""
import http.server
import threading
import time

import pytest

from testkit.central import KIOSK_ID, KIOSK_SECRET, free_port, sample_dossier, start_central
from kiosk.client import AuthError, CentralClient, MissingAttachments, Offline, Rejected, SubmitResult


@pytest.fixture(scope="module")
def central(tmp_path_factory):
    srv = start_central(str(tmp_path_factory.mktemp("central") / "c.sqlite3"))
    yield srv
    srv.stop()


@pytest.fixture
def client(central):
    c = CentralClient(central.url, KIOSK_ID, KIOSK_SECRET, timeout=5)
    yield c
    c.close()


def test_submit_after_uploads_returns_a_real_code_and_replays_are_already(client):
    dossier, files = sample_dossier()
    for sha, data in files.items():
        assert client.upload_attachment(sha, data) == "stored"
        assert client.upload_attachment(sha, data) == "already"
    first = client.submit(dossier)
    assert isinstance(first, SubmitResult) and first.result == "created"
    assert first.handling_unit["commune_code"] == "00004"
    again = client.submit(dossier)
    assert again.result == "already" and again.dossier_code == first.dossier_code and again.lookup_secret == first.lookup_secret
    status = client.status(first.dossier_code, first.lookup_secret)
    assert status["status"] == "received"
    assert client.status(first.dossier_code, "WRONGWRONG") is None


def test_missing_attachments_raise_a_typed_error(client):
    dossier, files = sample_dossier(attachments=2)
    with pytest.raises(MissingAttachments) as exc:
        client.submit(dossier)
    assert sorted(exc.value.missing) == sorted(files)


def test_wrong_secret_is_an_auth_error_not_retryable(central):
    c = CentralClient(central.url, KIOSK_ID, "not-the-secret")
    with pytest.raises(AuthError) as exc:
        c.submit(sample_dossier(attachments=0)[0])
    assert not exc.value.retryable and "kỹ thuật" in exc.value.message_vi


def test_refused_dossier_is_rejected_with_the_servers_vietnamese_message(client):
    dossier, _ = sample_dossier(attachments=0, commune_code="99999")
    with pytest.raises(Rejected) as exc:
        client.submit(dossier)
    assert exc.value.status == 422 and exc.value.code == "unknown_unit"
    assert "xã, phường" in exc.value.message_vi


def test_heartbeat_and_flows_index(client):
    assert client.heartbeat({"devices": {}, "outbox": {"pending": 0}, "versions": {}})["result"] == "accepted"
    assert client.flows_index()["flows"] == []


def test_nothing_listening_is_offline():
    c = CentralClient(f"http://127.0.0.1:{free_port()}", KIOSK_ID, KIOSK_SECRET, timeout=2)
    with pytest.raises(Offline) as exc:
        c.submit(sample_dossier(attachments=0)[0])
    assert exc.value.retryable


class _Misbehaving(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers like a broken network: set ``mode`` on the server."""

    def log_message(self, *a):
        pass

    def _answer(self):
        mode = self.server.mode
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if mode == "slow":
            time.sleep(3)
        if mode in ("500", "503", "502"):
            body = b'{"detail": "Internal Server Error"}'
            self.send_response(int(mode))
            self.send_header("Content-Type", "application/json")
        elif mode == "portal":
            body = "<html><body>Đăng nhập Wi-Fi miễn phí</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        elif mode == "json-without-result":
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:  # slow, or anything else: an empty 200
            body = b""
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_GET = _answer


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client hanging up on the "slow" answer is the point of that test


@pytest.fixture(scope="module")
def bad_server():
    srv = _QuietServer(("127.0.0.1", 0), _Misbehaving)
    srv.daemon_threads = True
    srv.mode = "500"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("mode", ["500", "502", "503", "portal", "json-without-result", "slow"])
def test_misbehaving_central_is_offline_never_success(bad_server, mode):
    bad_server.mode = mode
    c = CentralClient(f"http://127.0.0.1:{bad_server.server_address[1]}", KIOSK_ID, KIOSK_SECRET, timeout=1)
    dossier, files = sample_dossier()
    with pytest.raises(Offline):
        c.submit(dossier)
    sha, data = next(iter(files.items()))
    with pytest.raises(Offline):
        c.upload_attachment(sha, data)
    with pytest.raises(Offline):
        c.heartbeat({})


def test_tls_verification_cannot_be_switched_off(central):
    c = CentralClient(central.url.replace("http://", "https://"), KIOSK_ID, KIOSK_SECRET, timeout=2)
    assert c._session.verify is True
    with pytest.raises((Offline, AuthError)):  # plain HTTP on a TLS client: never a success
        c.submit(sample_dossier(attachments=0)[0])
