"""The TEST ONLY PKI of the virtual cards: a CSCA, a document signer, and SOD building.

The key files are generated once (``python -m devices.idcard.vcard.pki``) and committed, so the
CSCA certificate in ``config/csca/`` stays the same across runs. Nothing here may ever sign a
real document: the keys are public.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devices.idcard import tlv
from devices.idcard.passive import OID_CONTENT_TYPE, OID_LDS_SO, OID_MESSAGE_DIGEST, OID_OF_HASH, OID_SIGNED_DATA

HERE = Path(__file__).resolve().parent
PKI_DIR = HERE / "testpki"
REPO = HERE.parents[2]
CSCA_STORE = REPO / "config" / "csca"
CSCA_CERT_FILE = CSCA_STORE / "vn-test-csca.pem"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST ONLY kiosk virtual card"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def generate(force: bool = False) -> None:
    """Create the CSCA and document signer keys and certificates (once)."""
    if CSCA_CERT_FILE.exists() and (PKI_DIR / "ds.cert.pem").exists() and not force:
        return
    PKI_DIR.mkdir(exist_ok=True)
    CSCA_STORE.mkdir(parents=True, exist_ok=True)
    csca_key = ec.generate_private_key(ec.BrainpoolP384R1())
    ds_key = ec.generate_private_key(ec.BrainpoolP256R1())
    start, end = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2045, 1, 1, tzinfo=dt.timezone.utc)
    csca = (x509.CertificateBuilder().subject_name(_name("TEST CSCA VN")).issuer_name(_name("TEST CSCA VN"))
            .public_key(csca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(csca_key, hashes.SHA384()))
    ds = (x509.CertificateBuilder().subject_name(_name("TEST Document Signer VN 01")).issuer_name(csca.subject)
          .public_key(ds_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc))
          .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
          .sign(csca_key, hashes.SHA384()))
    pem = serialization.Encoding.PEM
    nokey = serialization.NoEncryption()
    pk8 = serialization.PrivateFormat.PKCS8
    warn = b"# TEST ONLY - public test key of the kiosk's virtual ID cards. Never trust it for real documents.\n"
    (PKI_DIR / "csca.key.pem").write_bytes(warn + csca_key.private_bytes(pem, pk8, nokey))
    (PKI_DIR / "ds.key.pem").write_bytes(warn + ds_key.private_bytes(pem, pk8, nokey))
    (PKI_DIR / "ds.cert.pem").write_bytes(ds.public_bytes(pem))
    CSCA_CERT_FILE.write_bytes(csca.public_bytes(pem))


def _load_key(path: Path):
    data = path.read_bytes()
    data = data[data.index(b"-----BEGIN"):]
    return serialization.load_pem_private_key(data, None)


@lru_cache(maxsize=1)
def document_signer():
    # A test that plays a province points the virtual card at its own throwaway PKI (ds.key.pem,
    # ds.cert.pem; testkit/pki.py card_pki): a real reader refuses the shipped test CSCA.
    own = os.environ.get("KIOSK_VCARD_PKI")
    folder = Path(own) if own else PKI_DIR
    if not own:
        generate()
    return _load_key(folder / "ds.key.pem"), x509.load_pem_x509_certificate((folder / "ds.cert.pem").read_bytes())


def aa_key(seed: str) -> ec.EllipticCurvePrivateKey:
    """A deterministic P-256 active-authentication key per card identity."""
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    k = int.from_bytes(hashlib.sha256(b"vn-kiosk test AA key:" + seed.encode()).digest(), "big") % (n - 1) + 1
    return ec.derive_private_key(k, ec.SECP256R1())


def ca_scalar(seed: str) -> int:
    """A deterministic brainpoolP256r1 chip-authentication private key per card identity."""
    from devices.idcard.ec import BRAINPOOL_P256R1
    n = BRAINPOOL_P256R1.n
    return int.from_bytes(hashlib.sha256(b"vn-kiosk test CA key:" + seed.encode()).digest(), "big") % (n - 1) + 1


def _alg(oid: str) -> bytes:
    return tlv.encode(0x30, tlv.encode(0x06, tlv.encode_oid(oid)))


def build_sod(dg_files: dict[int, bytes], hash_alg: str = "sha256") -> bytes:
    """CMS SignedData over an LDS security object holding the hashes of ``dg_files``."""
    key, cert = document_signer()
    so = tlv.encode(0x30, [
        tlv.encode(0x02, b"\x00"), _alg(OID_OF_HASH[hash_alg]),
        tlv.encode(0x30, [tlv.encode(0x30, [tlv.encode(0x02, tlv.encode_int(n)),
                                            tlv.encode(0x04, hashlib.new(hash_alg, raw).digest())])
                          for n, raw in sorted(dg_files.items())]),
    ])
    attrs = [
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_CONTENT_TYPE)),
                          tlv.encode(0x31, tlv.encode(0x06, tlv.encode_oid(OID_LDS_SO)))]),
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_MESSAGE_DIGEST)),
                          tlv.encode(0x31, tlv.encode(0x04, hashlib.new(hash_alg, so).digest()))]),
    ]
    signed_attrs = tlv.encode(0x31, sorted(attrs))
    signature = key.sign(signed_attrs, ec.ECDSA(hashes.SHA256()))
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    sid = tlv.encode(0x30, [cert.issuer.public_bytes(), tlv.encode(0x02, tlv.encode_int(cert.serial_number))])
    signer_info = tlv.encode(0x30, [
        tlv.encode(0x02, b"\x01"), sid, _alg(OID_OF_HASH[hash_alg]),
        b"\xA0" + signed_attrs[1:], _alg("1.2.840.10045.4.3.2"), tlv.encode(0x04, signature),
    ])
    signed_data = tlv.encode(0x30, [
        tlv.encode(0x02, b"\x03"), tlv.encode(0x31, _alg(OID_OF_HASH[hash_alg])),
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_LDS_SO)), tlv.encode(0xA0, tlv.encode(0x04, so))]),
        tlv.encode(0xA0, cert_der), tlv.encode(0x31, signer_info),
    ])
    content_info = tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_SIGNED_DATA)), tlv.encode(0xA0, signed_data)])
    return tlv.encode(0x77, content_info)


if __name__ == "__main__":  # pragma: no cover
    generate()
    print(f"test PKI in {PKI_DIR} and {CSCA_CERT_FILE}")
