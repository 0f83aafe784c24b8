"""CentralClient against a real central system on 127.0.0.1, and against real misbehaving HTTP servers."""
import http.server
import threading
import time

import pytest

from testkit.central import KIOSK_ID, KIOSK_SECRET, free_port, sample_dossier, start_central
from kiosk.client import (AuthError, CentralClient, CentralClientError, MissingAttachments, Offline, RateLimited, Refused, Rejected,
                          ServerError, SubmitResult)


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
    with pytest.raises(Refused) as exc:
        client.submit(dossier)
    assert exc.value.status == 422 and exc.value.code == "unknown_unit"
    assert "xã, phường" in exc.value.message_vi


def test_the_real_central_refusals_for_good_are_refused(client):
    """What the sync worker holds for a technician (issue 17): a malformed dossier, an oversize one,
    a uuid central holds with other content (409 without the other dossier's code or secret)."""
    bad, _ = sample_dossier(attachments=0)
    bad["procedure"] = "x"
    big, _ = sample_dossier(attachments=0)
    big["answers"]["note"] = "x" * 600_000
    taken, _ = sample_dossier(attachments=0)
    first = client.submit(taken)
    taken["answers"]["child_full_name"] = "Trần Minh Khang"
    for doc, status, code in ((bad, 422, "invalid_dossier"), (big, 413, "too_large"), (taken, 409, "uuid_conflict")):
        with pytest.raises(Refused) as exc:
            client.submit(doc)
        assert (exc.value.status, exc.value.code) == (status, code) and not exc.value.retryable
        assert first.lookup_secret not in str(exc.value) and first.dossier_code not in str(exc.value)


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


class _Answers(http.server.BaseHTTPRequestHandler):
    """A real HTTP server answering ``server.answer`` = (status, content type, body, headers)."""

    def log_message(self, *a):
        pass

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, ctype, body, headers = self.server.answer
        self.send_response_only(status)  # no Date of its own: a test gives the one Retry-After is read against
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_GET = _answer


def _refusal(error, **extra) -> bytes:
    import json

    return json.dumps({"result": "rejected", "error": error, "message_vi": "Từ chối.", "message_en": "no", **extra}).encode()


JSON, HTML = "application/json", "text/html; charset=utf-8"
NGINX_413 = b"<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413</h1></center></body></html>"


@pytest.mark.parametrize("answer, kind, code, extra", [
    ((400, JSON, _refusal("invalid_json"), {}), Refused, "invalid_json", {}),
    ((409, JSON, _refusal("uuid_conflict"), {}), Refused, "uuid_conflict", {}),
    ((413, HTML, NGINX_413, {}), Refused, "http_413", {}),  # a proxy's page, not central's body: the same verdict
    ((422, JSON, _refusal("invalid_dossier", fields=["procedure"]), {}), Refused, "invalid_dossier", {}),
    ((422, JSON, _refusal("hash_mismatch"), {}), ServerError, "hash_mismatch", {}),  # damaged on the way: send again
    ((422, JSON, _refusal("Trần Thị Ngọc Ánh 001185012345"), {}), Refused, "http_422", {}),  # never free text as a reason
    ((401, HTML, b"<html>login</html>", {}), AuthError, "http_401", {}),
    ((403, JSON, _refusal("certificate_mismatch"), {}), AuthError, "certificate_mismatch", {}),
    ((429, JSON, _refusal("rate_limited", retry_after=9), {"Retry-After": "7"}), RateLimited, "rate_limited", {"retry_after": 7}),
    ((429, JSON, _refusal("rate_limited", retry_after=3), {}), RateLimited, "rate_limited", {"retry_after": 3}),
    ((429, HTML, b"slow down", {"Retry-After": "Fri, 04 Dec 2026 10:00:30 GMT", "Date": "Fri, 04 Dec 2026 10:00:00 GMT"}),
     RateLimited, "rate_limited", {"retry_after": 30}),
    ((429, HTML, b"slow down", {"Retry-After": "999999"}), RateLimited, "rate_limited", {"retry_after": 3600}),
    ((500, "text/plain", b"Internal Server Error", {}), ServerError, "http_500", {}),
    ((503, JSON, _refusal("unavailable"), {}), ServerError, "unavailable", {}),
    ((511, HTML, b"<html>Wi-Fi login</html>", {}), Offline, "", {}),  # a captive portal: the network, not central
    ((404, JSON, _refusal("not_found"), {}), Rejected, "not_found", {}),
    ((404, HTML, b"<html>no</html>", {}), Offline, "", {}),
])
def test_each_answer_maps_to_what_the_queue_must_do(answer, kind, code, extra):
    """Refused: hold this dossier; ServerError: retry it on its own back-off; RateLimited: pause
    everything; AuthError: credentials; Offline: the network; Rejected: another 4xx."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    srv.daemon_threads = True
    srv.answer = answer
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        c = CentralClient(f"http://127.0.0.1:{srv.server_address[1]}", KIOSK_ID, KIOSK_SECRET, timeout=3)
        with pytest.raises(CentralClientError) as exc:
            c.submit(sample_dossier(attachments=0)[0])
        assert type(exc.value) is kind and exc.value.code == code and exc.value.status == answer[0]
        for name, value in extra.items():
            assert getattr(exc.value, name) == value
        assert isinstance(exc.value, Offline) == (kind in (Offline, ServerError, RateLimited))
        assert "001185012345" not in str(exc.value)
    finally:
        srv.shutdown()
        srv.server_close()


def test_tls_verification_cannot_be_switched_off(central):
    c = CentralClient(central.url.replace("http://", "https://"), KIOSK_ID, KIOSK_SECRET, timeout=2)
    assert c._session.verify is True
    with pytest.raises((Offline, AuthError)):  # plain HTTP on a TLS client: never a success
        c.submit(sample_dossier(attachments=0)[0])
