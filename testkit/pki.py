"""Throwaway keys for tests that configure a kiosk as a province would: a CSCA certificate whose
key exists only in the test's tmp folder (the repository's test CSCA is refused outside the
simulator: devices/idcard/trust.py), and a signed flow bundle with its trusted key."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from common import clock

ROOT = Path(__file__).resolve().parents[1]


def csca(folder: Path, cn: str = "CSCA Viet Nam 04") -> Path:
    """A self-signed CSCA certificate in ``folder`` (what a province installs); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = clock.now_utc()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "csca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder


def signed_bundle(bundle_dir: Path, flow_ids: list[str] | None = None) -> str:
    """Sign the shipped flows (or ``flow_ids`` of them) with a new key, install the bundle in
    ``bundle_dir`` as a kiosk's updater would, and return the public key for ``trusted_keys``."""
    from flows.bundles import BundleStore, build_bundle, generate_key, sign

    pem, public = generate_key()
    key = serialization.load_pem_private_key(pem, password=None)
    files = sorted((ROOT / "flows" / "definitions").glob("*.yaml"))
    if flow_ids:
        files = [f for f in files if f.stem in flow_ids]
    data = sign(build_bundle(files, ROOT / "media"), key)
    store = BundleStore(bundle_dir, [public])
    store.stage(data)
    store.activate_pending()
    return public


def four_eyes_bundle(bundle_dir: Path, flow_ids: list[str] | None = None) -> list[str]:
    """``signed_bundle`` as a real province publishes it: one admin's key submits, a second admin's
    approves (``[flows] min_signatures = 2``, the real-hardware example); installed by a store that
    asks for both. Returns the two public keys for ``trusted_keys``."""
    from flows.bundles import BundleStore, build_bundle, generate_key, sign

    files = sorted((ROOT / "flows" / "definitions").glob("*.yaml"))
    if flow_ids:
        files = [f for f in files if f.stem in flow_ids]
    data = build_bundle(files, ROOT / "media")
    publics = []
    for name, role in (("Nguyễn Thị Lan", "submitted_by"), ("Trần Văn Hùng", "approved_by")):
        pem, public = generate_key()
        data = sign(data, serialization.load_pem_private_key(pem, password=None), name=name, role=role)
        publics.append(public)
    store = BundleStore(bundle_dir, publics, min_signatures=2)
    store.stage(data)
    store.activate_pending()
    return publics


# --- a province's card PKI for the virtual card ---------------------------------------------------
def card_pki(folder: Path) -> Path:
    """A CSCA and a document signer with a province's names, for the virtual card to sign its SOD
    with (``KIOSK_VCARD_PKI=folder``, read by devices/idcard/vcard/pki.py). The kiosk trusts
    ``folder/csca``. Returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    csca_key = ec.generate_private_key(ec.BrainpoolP384R1())
    ds_key = ec.generate_private_key(ec.BrainpoolP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bo Cong an"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "CSCA Viet Nam 05")])
    ds_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Document Signer Viet Nam 0512")])
    start = clock.now_utc() - dt.timedelta(days=30)
    csca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(csca_key.public_key())
                 .serial_number(x509.random_serial_number()).not_valid_before(start)
                 .not_valid_after(start + dt.timedelta(days=5000))
                 .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                 .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                 .sign(csca_key, hashes.SHA384()))
    ds_cert = (x509.CertificateBuilder().subject_name(ds_name).issuer_name(name).public_key(ds_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + dt.timedelta(days=4000))
               .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
               .sign(csca_key, hashes.SHA384()))
    pem, pk8, nokey = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    (folder / "ds.key.pem").write_bytes(ds_key.private_bytes(pem, pk8, nokey))
    (folder / "ds.cert.pem").write_bytes(ds_cert.public_bytes(pem))
    (folder / "csca").mkdir(exist_ok=True)
    (folder / "csca" / "csca.pem").write_bytes(csca_cert.public_bytes(pem))
    return folder


# --- TLS for the central system, and a kiosk's client certificate ---------------------------------
def _cn(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _system_now() -> dt.datetime:
    # TLS checks a certificate's dates against the machine's clock, not the project's (which a test
    # or `make test` under faketime may have moved): these certificates are valid on the real one
    return dt.datetime.now(dt.timezone.utc)  # system clock


def make_ca(cn: str, days: int = 30):
    """A private CA: (key, certificate)."""
    now = _system_now()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_cn(cn)).issuer_name(_cn(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, cn: str, *, server: bool, dns: str | None = None, days: int = 30):
    """A server certificate for 127.0.0.1, or a client certificate named ``cn`` (and the DNS name
    ``dns``, if given), issued by the CA: (key, certificate)."""
    import ipaddress

    now = _system_now()
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(_cn(cn)).issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
         .not_valid_after(now + dt.timedelta(days=days))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
         .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH if server
                                               else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if server:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                            critical=False)
    elif dns:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return key, b.sign(ca_key, hashes.SHA256())


def write_pem(path: Path, key=None, cert=None) -> str:
    """``cert`` then ``key`` (PKCS#8, unencrypted) as PEM in ``path``; returns the path."""
    data = b""
    if cert is not None:
        data += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


def tls(folder: Path, kiosk_id: str) -> dict[str, str]:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate whose CN (and DNS
    name) is ``kiosk_id``; returns the PEM paths (ca, server_cert, server_key, client_cert, client_key)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = make_ca("Province kiosk CA")
    s_key, s_cert = make_leaf(ca_key, ca, "central", server=True)
    c_key, c_cert = make_leaf(ca_key, ca, kiosk_id, server=False, dns=kiosk_id.lower())
    return {"ca": write_pem(folder / "ca.pem", cert=ca),
            "server_cert": write_pem(folder / "server_cert.pem", cert=s_cert),
            "server_key": write_pem(folder / "server_key.pem", key=s_key),
            "client_cert": write_pem(folder / "client_cert.pem", cert=c_cert),
            "client_key": write_pem(folder / "client_key.pem", key=c_key)}


def mtls_set(folder: Path, clients: dict[str, tuple[str, str | None]]) -> dict[str, str]:
    """For mutual-TLS tests: ``ca`` (the CA certificate), ``server`` (certificate and key in one
    file, the form uvicorn's and HAProxy's single-file options take) and, per label of ``clients``,
    a client certificate and key named ``cn`` (and the DNS name ``dns``, if not None)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = make_ca("Province kiosk CA")
    s_key, s_cert = make_leaf(ca_key, ca, "central", server=True)
    out = {"ca": write_pem(folder / "ca.pem", cert=ca), "server": write_pem(folder / "server.pem", key=s_key, cert=s_cert)}
    for label, (cn, dns) in clients.items():
        key, cert = make_leaf(ca_key, ca, cn, server=False, dns=dns)
        out[label] = write_pem(folder / f"{label}.pem", key=key, cert=cert)
    return out
