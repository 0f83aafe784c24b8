"""Is a trust store fit for real cards? Passive authentication is only as good as the CSCA
certificates the kiosk trusts.

The repository ships a TEST CSCA (config/csca) for the virtual card, and the private keys that
go with it (devices/idcard/vcard/testpki): anyone who cloned the repository can sign a chip that a
kiosk trusting them would accept as genuine. A real reader must therefore refuse a trust store
that is empty, that holds a certificate whose key is in the repository, or a certificate that
says it is a test certificate. The simulator is the only backend allowed to trust the test PKI.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devices.idcard.passive import load_trust_store

REPO = Path(__file__).resolve().parents[2]
# where the repository keeps test keys and certificates (their public keys are refused)
TEST_MATERIAL = (REPO / "devices" / "idcard" / "vcard" / "testpki", REPO / "config" / "csca")
TEST_WORDS = ("test", "thử nghiệm", "specimen", "sample", "dummy")


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@lru_cache(maxsize=1)
def repository_keys() -> frozenset[bytes]:
    """The public keys (SubjectPublicKeyInfo DER) of every key and certificate the repository ships."""
    keys: set[bytes] = set()
    for folder in TEST_MATERIAL:
        for path in sorted(folder.glob("*.pem")) if folder.is_dir() else ():
            data = path.read_bytes()
            if b"PRIVATE KEY" in data:
                keys.add(_spki(serialization.load_pem_private_key(data, password=None).public_key()))
            elif b"CERTIFICATE" in data:
                keys.update(_spki(c.public_key()) for c in x509.load_pem_x509_certificates(data))
    return frozenset(keys)


def is_test_certificate(cert: x509.Certificate) -> str:
    """Why ``cert`` is a test certificate ("" when it is not)."""
    if _spki(cert.public_key()) in repository_keys():
        return "its private key is published in the repository"
    names = " ".join(a.value for a in cert.subject if isinstance(a.value, str)).lower()
    word = next((w for w in TEST_WORDS if w in names), "")
    return f"its name says {word!r}" if word else ""


def trust_store_problems(folder: str | Path | None) -> list[tuple[str, str]]:
    """(English, Vietnamese) reasons why ``folder`` must not be a real reader's trust store."""
    certs = load_trust_store(folder)
    if not certs:
        where = str(folder) if folder else "(not set)"
        return [(f"the CSCA trust store {where} holds no certificate: chip signatures cannot be checked; "
                 "install the province's CSCA certificates (docs/idcard.md)",
                 f"kho chứng thư CSCA {where} không có chứng thư nào: không kiểm tra được chữ ký của chip; "
                 "cài chứng thư CSCA do tỉnh cấp (docs/idcard.md)")]
    out = []
    for cert in certs:
        why = is_test_certificate(cert)
        if why:
            name = cert.subject.rfc4514_string()
            out.append((f"the trust store {folder} holds the test certificate {name} ({why}): chips signed by "
                        "anyone with the repository would pass; remove it",
                        f"kho chứng thư {folder} có chứng thư thử nghiệm {name}: chip giả ký bằng khóa công khai "
                        "trên mạng cũng được chấp nhận; hãy gỡ bỏ"))
    return out
