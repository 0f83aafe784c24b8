"""Mutual TLS between the client and a real uvicorn server, with a throwaway CA made by `cryptography`."""
import pytest

from central.server import TLSOptions
from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier, start_central
from testkit.pki import make_ca, make_leaf, write_pem
from kiosk.client import AuthError, CentralClient, Offline


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_ca("Test kiosk CA", days=1)
    s_key, s_cert = make_leaf(ca_key, ca, "central", server=True, days=1)
    c_key, c_cert = make_leaf(ca_key, ca, KIOSK_ID, server=False, days=1)
    rogue_key, rogue_ca = make_ca("Rogue CA", days=1)
    r_key, r_cert = make_leaf(rogue_key, rogue_ca, KIOSK_ID, server=False, days=1)
    return {
        "ca": write_pem(d / "ca.pem", cert=ca), "server_cert": write_pem(d / "s.pem", cert=s_cert), "server_key": write_pem(d / "s.key", key=s_key),
        "client_cert": write_pem(d / "c.pem", cert=c_cert), "client_key": write_pem(d / "c.key", key=c_key),
        "rogue_ca": write_pem(d / "rogue.pem", cert=rogue_ca), "rogue_cert": write_pem(d / "r.pem", cert=r_cert), "rogue_key": write_pem(d / "r.key", key=r_key),
        "dir": d,
    }


@pytest.fixture(scope="module")
def mtls_central(pki):
    srv = start_central(str(pki["dir"] / "c.sqlite3"), tls=TLSOptions(pki["server_cert"], pki["server_key"], client_ca=pki["ca"]))
    yield srv
    srv.stop()


def test_mutual_tls_with_a_kiosk_certificate_submits(pki, mtls_central):
    assert mtls_central.url.startswith("https://")
    c = CentralClient(mtls_central.url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["ca"],
                      client_cert=pki["client_cert"], client_key=pki["client_key"], timeout=5)
    d, _ = sample_dossier(attachments=0)
    assert c.submit(d).result == "created"


def test_without_a_client_certificate_the_handshake_is_refused(pki, mtls_central):
    c = CentralClient(mtls_central.url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["ca"], timeout=5)
    with pytest.raises((AuthError, Offline)):
        c.submit(sample_dossier(attachments=0)[0])
    assert mtls_central.central.count_dossiers() <= 1


def test_a_certificate_from_another_ca_is_refused(pki, mtls_central):
    before = mtls_central.central.count_dossiers()
    c = CentralClient(mtls_central.url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["ca"],
                      client_cert=pki["rogue_cert"], client_key=pki["rogue_key"], timeout=5)
    with pytest.raises((AuthError, Offline)):
        c.submit(sample_dossier(attachments=0)[0])
    assert mtls_central.central.count_dossiers() == before


def test_an_untrusted_server_certificate_is_an_auth_error(pki, mtls_central):
    c = CentralClient(mtls_central.url, KIOSK_ID, KIOSK_SECRET, ca_file=pki["rogue_ca"],
                      client_cert=pki["client_cert"], client_key=pki["client_key"], timeout=5)
    with pytest.raises(AuthError) as exc:
        c.submit(sample_dossier(attachments=0)[0])
    assert exc.value.code == "tls"
