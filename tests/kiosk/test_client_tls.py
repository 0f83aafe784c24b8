"""Mutual TLS between the client and a real uvicorn server, with a throwaway CA made by `cryptography`."""
import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from central.server import TLSOptions
from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier, start_central
from kiosk.client import AuthError, CentralClient, Offline


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key, ca_cert, cn, *, server):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
         .not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
         .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if server
                                               else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def _write(path, key=None, cert=None):
    data = b""
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = _ca("Test kiosk CA")
    s_key, s_cert = _leaf(ca_key, ca, "central", server=True)
    c_key, c_cert = _leaf(ca_key, ca, KIOSK_ID, server=False)
    rogue_key, rogue_ca = _ca("Rogue CA")
    r_key, r_cert = _leaf(rogue_key, rogue_ca, KIOSK_ID, server=False)
    return {
        "ca": _write(d / "ca.pem", cert=ca), "server_cert": _write(d / "s.pem", cert=s_cert), "server_key": _write(d / "s.key", key=s_key),
        "client_cert": _write(d / "c.pem", cert=c_cert), "client_key": _write(d / "c.key", key=c_key),
        "rogue_ca": _write(d / "rogue.pem", cert=rogue_ca), "rogue_cert": _write(d / "r.pem", cert=r_cert), "rogue_key": _write(d / "r.key", key=r_key),
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
