"""Network and central-system check against real servers on 127.0.0.1 (HTTP and HTTPS)."""
from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import ThreadingHTTPServer

import pytest

from common.health import State
from kiosk.diagnostics import run
from kiosk.diagnostics.network import clock_skew

from .conftest import CentralStub, free_port


def test_central_up_is_ok_with_timings_and_no_skew(make_cfg, central):
    url, handler, _ = central
    r = run(make_cfg({"central": {"url": url, "embedded": False}}), "network")
    assert r.state is State.OK, r.health
    f = r.health.facts
    assert f["addresses"] == ["127.0.0.1"] and f["http_status"] == 200
    assert abs(f["clock_skew_s"]) <= 2
    assert "dns_ms" in f and "connect_ms" in f


def test_clock_skew_needs_attention_and_says_how_to_fix(make_cfg, central):
    url, handler, _ = central
    handler.date_offset_s = -600  # the server is 10 minutes behind: the kiosk clock is 10 minutes fast
    r = run(make_cfg({"central": {"url": url, "embedded": False}}), "network")
    assert r.state is State.NEEDS_ATTENTION
    assert 590 <= r.health.facts["clock_skew_s"] <= 610
    assert "timedatectl" in r.health.action
    assert r.message_vi == "Đồng hồ máy bị lệch"


def test_server_errors_need_attention(make_cfg, central):
    url, handler, _ = central
    handler.status = 503
    r = run(make_cfg({"central": {"url": url, "embedded": False}}), "network")
    assert r.state is State.NEEDS_ATTENTION
    assert "503" in r.health.detail


def test_central_down_fails_and_says_what_to_do(make_cfg):
    r = run(make_cfg({"central": {"url": f"http://127.0.0.1:{free_port()}", "embedded": False}}), "network")
    assert r.state is State.FAILED
    assert "cannot connect" in r.health.detail
    assert "outbox" in r.health.action  # reassures the technician nothing is lost
    assert r.message_vi == "Không kết nối được hệ thống trung tâm"


def test_embedded_central_not_started_is_only_not_ready(make_cfg):
    r = run(make_cfg({"central": {"url": f"http://127.0.0.1:{free_port()}", "embedded": True}}), "network")
    assert r.state is State.NOT_READY
    assert "kiosk run --embedded-central" in r.health.action


def test_dns_failure_is_named(make_cfg):
    r = run(make_cfg({"central": {"url": "https://central.kiosk-test.invalid", "embedded": False}}), "network")
    assert r.state is State.FAILED
    assert r.health.detail.startswith("DNS:")


def _self_signed(tmp_path, days: int):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "central.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "central.pem", tmp_path / "central.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def https_central(tmp_path):
    servers = []

    def start(days: int = 365):
        cert, key = _self_signed(tmp_path, days)
        server = ThreadingHTTPServer(("127.0.0.1", 0), type("Stub", (CentralStub,), {}))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}", cert

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_tls_with_trusted_ca_is_ok(make_cfg, https_central):
    url, cert = https_central()
    r = run(make_cfg({"central": {"url": url, "embedded": False, "ca_file": str(cert)}}), "network")
    assert r.state is State.OK, r.health
    assert r.health.facts["tls_version"].startswith("TLS")
    assert r.health.facts["cert_days_left"] >= 360


def test_tls_untrusted_certificate_fails(make_cfg, https_central):
    url, _ = https_central()
    r = run(make_cfg({"central": {"url": url, "embedded": False}}), "network")
    assert r.state is State.FAILED
    assert "not trusted" in r.health.detail and "clock" in r.health.action


def test_tls_certificate_about_to_expire_needs_attention(make_cfg, https_central):
    url, cert = https_central(days=10)
    r = run(make_cfg({"central": {"url": url, "embedded": False, "ca_file": str(cert)}}), "network")
    assert r.state is State.NEEDS_ATTENTION
    assert "expires" in r.health.detail


def test_clock_skew_estimate():
    # server stamped 12:00:00 (1 s resolution): the fair estimate is 12:00:00.5
    date = "Mon, 23 Nov 2026 12:00:00 GMT"
    at = dt.datetime(2026, 11, 23, 12, 0, 0, 500000, tzinfo=dt.timezone.utc).timestamp()
    assert clock_skew(date, at - 0.1, at + 0.1) == 0.0
    assert clock_skew(date, at + 120, at + 120) == 120.0
