"""EF.SOD and passive authentication (ICAO 9303 p10 §4.6, p11 §5.1).

Three separate checks, each ``ok``, ``failed`` or ``not_checked`` with a detail, never one boolean:
- ``hashes``: every data group read, hashed as read, equals its value in the LDS security object;
- ``signature``: the CMS SignedData signature (signed attributes, message digest) by the document
  signer certificate inside the SOD;
- ``chain``: the document signer certificate is signed by a CSCA certificate from the trust store;
- ``validity``: the document signer and CSCA certificates are within their validity dates.
Pure except :func:`load_trust_store`, which reads a folder.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from common import clock
from devices.idcard import tlv
from devices.idcard.errors import ParseError

log = logging.getLogger(__name__)

OK, FAILED, NOT_CHECKED = "ok", "failed", "not_checked"

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_LDS_SO = "2.23.136.1.1.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
HASH_OIDS = {
    "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
}
OID_OF_HASH = {v: k for k, v in HASH_OIDS.items()}
SIG_OIDS = {  # signature algorithm OID → (kind, hash or None when given by the digest algorithm)
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"), "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"), "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.113549.1.1.5": ("rsa", "sha1"), "1.2.840.113549.1.1.11": ("rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa", "sha384"), "1.2.840.113549.1.1.13": ("rsa", "sha512"),
    "1.2.840.113549.1.1.1": ("rsa", None), "1.2.840.113549.1.1.10": ("pss", None),
    "1.2.840.10045.2.1": ("ecdsa", None),
}
_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclass(frozen=True)
class Check:
    status: str          # ok | failed | not_checked
    detail: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "detail": self.detail}


@dataclass
class SOD:
    hash_alg: str
    dg_hashes: dict[int, bytes]
    e_content: bytes
    digest_alg: str
    signed_attrs: bytes | None          # DER as signed (SET tag 31)
    signature_alg: str
    signature_params: bytes
    signature: bytes
    certificates: list[x509.Certificate] = field(default_factory=list)


def _seq(node: tlv.TLV, tag: int, what: str) -> list[tlv.TLV]:
    if node.tag != tag:
        raise ParseError(detail=f"SOD: {what}: expected tag {tag:02X}, got {node.tag:02X}")
    return node.parse()


def _alg(node: tlv.TLV) -> tuple[str, bytes]:
    parts = _seq(node, 0x30, "AlgorithmIdentifier")
    if not parts or parts[0].tag != 0x06:
        raise ParseError(detail="SOD: AlgorithmIdentifier without OID")
    return tlv.decode_oid(parts[0].value), parts[1].raw if len(parts) > 1 else b""


def parse_sod(data: bytes) -> SOD:
    outer, _ = tlv.decode_one(data, 0)
    if outer.tag != 0x77:
        raise ParseError(detail="EF.SOD: expected tag 77")
    ci = _seq(outer.parse()[0], 0x30, "ContentInfo")
    if len(ci) < 2 or ci[0].tag != 0x06 or tlv.decode_oid(ci[0].value) != OID_SIGNED_DATA:
        raise ParseError(detail="SOD: not a CMS SignedData")
    sd = _seq(_seq(ci[1], 0xA0, "content")[0], 0x30, "SignedData")
    idx = 1
    idx += 1  # digestAlgorithms SET
    enc = _seq(sd[idx], 0x30, "EncapsulatedContentInfo")
    idx += 1
    if tlv.decode_oid(enc[0].value) != OID_LDS_SO:
        raise ParseError(detail="SOD: content is not an LDS security object")
    octets = _seq(enc[1], 0xA0, "eContent")[0]
    if octets.tag != 0x04:
        raise ParseError(detail="SOD: eContent is not an OCTET STRING")
    e_content_bytes = octets.value
    certs = []
    if sd[idx].tag == 0xA0:
        for c in sd[idx].parse():
            try:
                certs.append(x509.load_der_x509_certificate(c.raw))
            except ValueError:
                raise ParseError(detail="SOD: unreadable certificate") from None
        idx += 1
    if sd[idx].tag == 0xA1:
        idx += 1
    signer_infos = _seq(sd[idx], 0x31, "SignerInfos")
    if not signer_infos:
        raise ParseError(detail="SOD: no SignerInfo")
    si = _seq(signer_infos[0], 0x30, "SignerInfo")
    j = 2
    digest_alg, _ = _alg(si[j])
    j += 1
    signed_attrs = None
    if si[j].tag == 0xA0:
        signed_attrs = b"\x31" + si[j].raw[1:]
        j += 1
    sig_alg, sig_params = _alg(si[j])
    if si[j + 1].tag != 0x04:
        raise ParseError(detail="SOD: signature is not an OCTET STRING")
    signature_bytes = si[j + 1].value
    # LDSSecurityObject
    so = tlv.decode(e_content_bytes).parse()
    hash_alg, _ = _alg(so[1])
    dg_hashes = {}
    for item in _seq(so[2], 0x30, "DataGroupHashValues"):
        parts = _seq(item, 0x30, "DataGroupHash")
        dg_hashes[tlv.decode_int(parts[0].value)] = parts[1].value
    return SOD(HASH_OIDS.get(hash_alg, hash_alg), dg_hashes, e_content_bytes, HASH_OIDS.get(digest_alg, digest_alg),
               signed_attrs, sig_alg, sig_params, signature_bytes, certs)


def _digest(alg: str, data: bytes) -> bytes:
    return hashlib.new(alg, data).digest()


def check_hashes(sod: SOD, files: dict[int, bytes]) -> Check:
    if sod.hash_alg not in _HASHES:
        return Check(NOT_CHECKED, f"unsupported hash algorithm {sod.hash_alg}")
    bad, missing = [], []
    for dg, raw in sorted(files.items()):
        want = sod.dg_hashes.get(dg)
        if want is None:
            missing.append(f"DG{dg}")
        elif not hmac.compare_digest(_digest(sod.hash_alg, raw), want):
            bad.append(f"DG{dg}")
    if bad:
        return Check(FAILED, "hash mismatch: " + ", ".join(bad))
    if missing:
        return Check(FAILED, "not listed in the SOD: " + ", ".join(missing))
    return Check(OK, f"{len(files)} data groups match ({sod.hash_alg})")


def _verify(pub, sig_alg: str, sig_params: bytes, digest_alg: str, signature: bytes, data: bytes) -> None:
    kind, h = SIG_OIDS.get(sig_alg, (None, None))
    h = h or digest_alg
    if kind is None or h not in _HASHES:
        raise ValueError(f"unsupported signature algorithm {sig_alg}")
    if kind == "ecdsa":
        if not isinstance(pub, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        pub.verify(signature, data, ec.ECDSA(_HASHES[h]()))
    elif kind == "rsa":
        if not isinstance(pub, rsa.RSAPublicKey):
            raise InvalidSignature
        pub.verify(signature, data, padding.PKCS1v15(), _HASHES[h]())
    else:  # RSASSA-PSS: the hash is in the parameters; salt length as the hash length is the ICAO profile
        if not isinstance(pub, rsa.RSAPublicKey):
            raise InvalidSignature
        h = digest_alg
        try:
            params = tlv.decode(sig_params).parse()
            if params and params[0].tag == 0xA0:
                h = HASH_OIDS.get(tlv.decode_oid(params[0].parse()[0].parse()[0].value), h)
        except (ParseError, IndexError):
            pass
        pub.verify(signature, data, padding.PSS(padding.MGF1(_HASHES[h]()), _HASHES[h]().digest_size), _HASHES[h]())


def check_signature(sod: SOD) -> Check:
    if not sod.certificates:
        return Check(NOT_CHECKED, "no document signer certificate in the SOD")
    if sod.digest_alg not in _HASHES:
        return Check(NOT_CHECKED, f"unsupported digest algorithm {sod.digest_alg}")
    signed = sod.e_content
    if sod.signed_attrs is not None:
        digest = None
        for attr in tlv.decode(sod.signed_attrs).parse():
            parts = attr.parse()
            if tlv.decode_oid(parts[0].value) == OID_MESSAGE_DIGEST:
                digest = parts[1].parse()[0].value
        if digest is None:
            return Check(FAILED, "signed attributes lack the message digest")
        if not hmac.compare_digest(digest, _digest(sod.digest_alg, sod.e_content)):
            return Check(FAILED, "message digest does not match the security object")
        signed = sod.signed_attrs
    try:
        _verify(sod.certificates[0].public_key(), sod.signature_alg, sod.signature_params, sod.digest_alg,
                sod.signature, signed)
    except InvalidSignature:
        return Check(FAILED, "SOD signature does not verify with the document signer key")
    except ValueError as exc:
        return Check(NOT_CHECKED, str(exc))
    return Check(OK, f"signed by {sod.certificates[0].subject.rfc4514_string()}")


def load_trust_store(folder: str | Path | None) -> list[x509.Certificate]:
    """Every PEM/DER certificate in ``folder`` (unreadable files are skipped with a warning)."""
    out: list[x509.Certificate] = []
    if not folder or not Path(folder).is_dir():
        return out
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der"):
            continue
        data = path.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                out.extend(x509.load_pem_x509_certificates(data))
            else:
                out.append(x509.load_der_x509_certificate(data))
        except ValueError:
            log.warning("trust store: %s is not a certificate, skipped", path.name)
    return out


def check_chain(sod: SOD, trust: list[x509.Certificate]) -> tuple[Check, x509.Certificate | None]:
    if not sod.certificates:
        return Check(NOT_CHECKED, "no document signer certificate in the SOD"), None
    if not trust:
        return Check(NOT_CHECKED, "trust store is empty"), None
    ds = sod.certificates[0]
    issuers = [c for c in trust if c.subject == ds.issuer]
    if not issuers:
        return Check(FAILED, f"no CSCA in the trust store for issuer {ds.issuer.rfc4514_string()}"), None
    for csca in issuers:
        try:
            ds.verify_directly_issued_by(csca)
            return Check(OK, f"chains to {csca.subject.rfc4514_string()}"), csca
        except (InvalidSignature, ValueError, TypeError):
            continue
    return Check(FAILED, "document signer certificate is not signed by the trusted CSCA"), None


def check_validity(sod: SOD, csca: x509.Certificate | None, now: datetime | None = None) -> Check:
    if not sod.certificates:
        return Check(NOT_CHECKED, "no document signer certificate")
    now = now or clock.now_utc()
    problems = []
    for name, cert in (("document signer", sod.certificates[0]), ("CSCA", csca)):
        if cert is None:
            continue
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            problems.append(f"{name} certificate outside {cert.not_valid_before_utc:%Y-%m-%d}…{cert.not_valid_after_utc:%Y-%m-%d}")
    if problems:
        return Check(FAILED, "; ".join(problems))
    return Check(OK, "certificates within their validity dates" + ("" if csca else " (CSCA not found)"))


def passive_authentication(sod_bytes: bytes | None, files: dict[int, bytes], trust: list[x509.Certificate],
                           now: datetime | None = None) -> dict[str, Check]:
    if sod_bytes is None:
        reason = "EF.SOD not read"
        return {k: Check(NOT_CHECKED, reason) for k in ("hashes", "signature", "chain", "validity")}
    try:
        sod = parse_sod(sod_bytes)
    except (ParseError, IndexError) as exc:
        bad = f"EF.SOD malformed: {exc}"
        return {k: Check(FAILED, bad) for k in ("hashes", "signature", "chain", "validity")}
    chain, csca = check_chain(sod, trust)
    return {"hashes": check_hashes(sod, files), "signature": check_signature(sod), "chain": chain,
            "validity": check_validity(sod, csca, now)}
