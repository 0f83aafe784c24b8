"""EF.SOD and passive authentication (ICAO 9303 p10 §4.6, p11 §5.1), and the document's public keys.

Three separate checks, each ``ok``, ``failed`` or ``not_checked`` with a detail, never one boolean:
- ``hashes``: every data group read, hashed as read, equals its value in the LDS security object;
- ``signature``: the CMS SignedData signature (signed attributes, message digest) by the document
  signer certificate inside the SOD;
- ``chain``: the document signer certificate is signed by a CSCA certificate from the trust store;
- ``validity``: the document signer and CSCA certificates are within their validity dates.

asn1crypto parses the CMS SignedData, the LDS security object and the X.509 certificates: it reads
BER (indefinite lengths, constructed OCTET STRINGs) and keeps every encoding as it came, so the
certificates that ``cryptography``/OpenSSL refuse to load (explicit EC domain parameters, NULL
parameters after an ECDSA algorithm OID) are read and still verified: RSA through ``cryptography``,
ECDSA through ``cryptography`` on the named curve the key's parameters equal, else through
:func:`devices.idcard.ec.ecdsa_verify` on the explicit curve. Every parse or verification problem
ends as a :class:`ParseError` or a check with its reason, never another exception.
Pure except :func:`load_trust_store`, which reads a folder.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from asn1crypto import algos, cms, core, keys as akeys, x509 as ax509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as cec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from common import clock
from devices.idcard import ec
from devices.idcard.errors import ParseError

log = logging.getLogger(__name__)

OK, FAILED, NOT_CHECKED = "ok", "failed", "not_checked"

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_LDS_SO = "2.23.136.1.1.1"
OID_ID_DATA = "1.2.840.113549.1.7.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
# eContentType values documents carry for the LDS security object: ICAO's, the older ICAO arc
# (Belgian and French passports), the Dutch SDU one, and id-data (Chinese passports); the content is
# parsed as an LDSSecurityObject whatever the label (ICAO 9303 p10 §4.6.2.2 names only the first)
LDS_SO_CONTENT_TYPES = {OID_LDS_SO: "id-icao-ldsSecurityObject", "1.3.27.1.1.1": "ICAO ldsSecurityObject (legacy OID)",
                        "1.2.528.1.1006.1.20.1": "SDU ldsSecurityObject", OID_ID_DATA: "id-data"}
HASH_OIDS = {
    "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
}
OID_OF_HASH = {v: k for k, v in HASH_OIDS.items()}
SIG_OIDS = {  # signature algorithm OID → (kind, hash or None when given by the digest algorithm)
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"), "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"), "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.113549.1.1.5": ("rsa", "sha1"), "1.2.840.113549.1.1.14": ("rsa", "sha224"),
    "1.2.840.113549.1.1.11": ("rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa", "sha384"), "1.2.840.113549.1.1.13": ("rsa", "sha512"),
    "1.2.840.113549.1.1.1": ("rsa", None), "1.2.840.113549.1.1.10": ("pss", None),
    "1.2.840.10045.2.1": ("ecdsa", None),
    # BSI TR-03111 plain ECDSA (r || s instead of a DER SEQUENCE)
    "0.4.0.127.0.7.1.1.4.1.1": ("ecdsa-plain", "sha1"), "0.4.0.127.0.7.1.1.4.1.2": ("ecdsa-plain", "sha224"),
    "0.4.0.127.0.7.1.1.4.1.3": ("ecdsa-plain", "sha256"), "0.4.0.127.0.7.1.1.4.1.4": ("ecdsa-plain", "sha384"),
    "0.4.0.127.0.7.1.1.4.1.5": ("ecdsa-plain", "sha512"),
}
_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}
OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC = "1.2.840.10045.2.1"
# curves OpenSSL (through cryptography) verifies on; any other named or explicit curve: devices.idcard.ec
_OPENSSL_CURVES = {"secp192r1": cec.SECP192R1, "secp224r1": cec.SECP224R1, "secp256r1": cec.SECP256R1,
                   "secp384r1": cec.SECP384R1, "secp521r1": cec.SECP521R1, "brainpoolP256r1": cec.BrainpoolP256R1,
                   "brainpoolP384r1": cec.BrainpoolP384R1, "brainpoolP512r1": cec.BrainpoolP512R1}


class Unsupported(ValueError):
    """An algorithm or key form the reader does not verify (the check is then ``not_checked``)."""


@dataclass(frozen=True)
class Check:
    status: str          # ok | failed | not_checked
    detail: str = ""

    def as_dict(self) -> dict:
        return {"status": self.status, "detail": self.detail}


# --- public keys ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublicKey:
    """An RSA or EC public key read from a SubjectPublicKeyInfo (certificate, DG15)."""

    kind: str                                   # "rsa" | "ec"
    spki: bytes                                 # the DER as the document carries it
    rsa_key: rsa.RSAPublicKey | None = None
    curve: ec.Curve | None = None
    point: tuple[int, int] | None = None
    explicit: bool = False                      # EC domain parameters spelled out instead of named

    @cached_property
    def openssl(self):
        """The ``cryptography`` key (EC only on a curve OpenSSL knows), or None."""
        if self.kind == "rsa":
            return self.rsa_key
        maker = _OPENSSL_CURVES.get(self.curve.name)
        if maker is None:
            return None
        try:
            return cec.EllipticCurvePublicNumbers(self.point[0], self.point[1], maker()).public_key()
        except (ValueError, TypeError):
            return None

    def public_bytes(self, *_args) -> bytes:
        """The SubjectPublicKeyInfo DER (what ``cryptography``'s ``public_bytes(DER, SPKI)`` gives)."""
        return self.spki

    def describe(self) -> str:
        if self.kind == "rsa":
            return f"RSA-{self.rsa_key.key_size}"
        return f"EC {self.curve.name}" + (" (explicit parameters)" if self.explicit else "")


def _int_bytes(value) -> int:
    return int.from_bytes(bytes(value), "big")


def load_public_key(spki: bytes) -> PublicKey:
    """Read a DER SubjectPublicKeyInfo: RSA, or EC with named or explicit domain parameters."""
    try:
        info = akeys.PublicKeyInfo.load(bytes(spki))
        alg = info["algorithm"]["algorithm"].dotted
        if alg in (OID_RSA, OID_RSA_PSS):
            pk = info["public_key"].parsed
            n, e = pk["modulus"].native, pk["public_exponent"].native
            if n <= 0 or e <= 0:
                raise ParseError(detail="RSA key: bad modulus or exponent")
            return PublicKey("rsa", bytes(spki), rsa_key=rsa.RSAPublicNumbers(e, n).public_key())
        if alg != OID_EC:
            raise Unsupported(f"public key algorithm {alg}")
        params = info["algorithm"]["parameters"]
        explicit = params.name == "specified"
        if params.name == "named":
            oid = params.chosen.dotted
            curve = ec.NAMED_CURVES.get(oid)
            if curve is None:
                raise Unsupported(f"named curve {oid}")
        elif explicit:
            sp = params.chosen
            if sp["field_id"]["field_type"].dotted != "1.2.840.10045.1.1":
                raise Unsupported("EC key over a binary field")
            p = sp["field_id"]["parameters"].native
            a, b = _int_bytes(sp["curve"]["a"].native), _int_bytes(sp["curve"]["b"].native)
            base = bytes(sp["base"].native)
            n = sp["order"].native
            probe = ec.Curve("explicit", p, a % p, b % p, 0, 0, n)
            gx, gy = ec.decode_point(probe, base)
            curve = ec.curve_from_explicit(p, a, b, gx, gy, n)
        else:
            raise Unsupported("EC key with implicitly-CA domain parameters")
        point = ec.decode_point(curve, bytes(info["public_key"].native))
        return PublicKey("ec", bytes(spki), curve=curve, point=point, explicit=explicit)
    except (ParseError, Unsupported):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the bytes, a typed error
        raise ParseError(detail=f"public key: {type(exc).__name__}: {exc}") from None


def _ecdsa_rs(signature: bytes, plain: bool, curve: ec.Curve) -> tuple[int, int]:
    if not plain:
        try:
            seq = algos.DSASignature.load(signature)
            return seq["r"].native, seq["s"].native
        except Exception:  # noqa: BLE001 - some chips send r || s under a DER algorithm OID
            pass
    if not signature or len(signature) % 2:
        raise InvalidSignature
    half = len(signature) // 2
    return int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")


def verify_signature(key: PublicKey, sig_alg: str, sig_params: bytes, digest_alg: str, signature: bytes,
                     data: bytes) -> None:
    """Raise :class:`InvalidSignature` unless ``signature`` over ``data`` verifies; :class:`Unsupported`
    when the algorithm is not one the reader verifies."""
    kind, h = SIG_OIDS.get(sig_alg, (None, None))
    h = h or digest_alg
    if kind is None:
        raise Unsupported(f"signature algorithm {sig_alg}")
    if kind in ("ecdsa", "ecdsa-plain"):
        if key.kind != "ec":
            raise InvalidSignature
        if h not in _HASHES:
            raise Unsupported(f"hash algorithm {h}")
        r, s = _ecdsa_rs(signature, kind == "ecdsa-plain", key.curve)
        digest = hashlib.new(h, data).digest()
        if key.openssl is not None:
            if r <= 0 or s <= 0:
                raise InvalidSignature
            key.openssl.verify(encode_dss_signature(r, s), digest, cec.ECDSA(Prehashed(_HASHES[h]())))
        elif not ec.ecdsa_verify(key.curve, key.point, digest, r, s):
            raise InvalidSignature
        return
    if key.kind != "rsa":
        raise InvalidSignature
    if kind == "rsa":
        if h not in _HASHES:
            raise Unsupported(f"hash algorithm {h}")
        key.rsa_key.verify(signature, data, padding.PKCS1v15(), _HASHES[h]())
        return
    # RSASSA-PSS (RFC 4055): hash, MGF1 hash and salt length from the parameters
    h, mgf_h, salt = "sha1", "sha1", 20
    if sig_params and sig_params not in (b"\x05\x00",):
        try:
            p = algos.RSASSAPSSParams.load(sig_params)
            h = p["hash_algorithm"]["algorithm"].native
            mgf = p["mask_gen_algorithm"]
            if mgf["algorithm"].native != "mgf1":
                raise Unsupported("RSASSA-PSS with a mask generation other than MGF1")
            mgf_h = mgf["parameters"]["algorithm"].native
            salt = p["salt_length"].native
        except Unsupported:
            raise
        except Exception:  # noqa: BLE001
            raise Unsupported("unreadable RSASSA-PSS parameters") from None
    if h not in _HASHES or mgf_h not in _HASHES:
        raise Unsupported(f"RSASSA-PSS with {h}/{mgf_h}")
    key.rsa_key.verify(signature, data, padding.PSS(padding.MGF1(_HASHES[mgf_h]()), salt), _HASHES[h]())


# --- certificates ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NameAttribute:
    oid: str
    value: object


class Name:
    """An X.509 Name: compared as RFC 5280 says (asn1crypto's normalised form), printed as RFC 4514."""

    def __init__(self, name: ax509.Name):
        self._name = name

    def __iter__(self):
        for rdn in self._name.chosen:
            for atv in rdn:
                value = atv["value"].native
                yield NameAttribute(atv["type"].dotted, value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Name) and self._name == other._name

    def __hash__(self) -> int:
        return hash(self._name.hashable)

    def rfc4514_string(self) -> str:
        short = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.7": "L",
                 "2.5.4.8": "ST", "2.5.4.5": "serialNumber"}
        parts = []
        for rdn in reversed(list(self._name.chosen)):
            parts.append("+".join(f"{short.get(atv['type'].dotted, atv['type'].dotted)}="
                                  f"{_rfc4514_escape(str(atv['value'].native))}" for atv in rdn))
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"<Name {self.rfc4514_string()}>"


def _rfc4514_escape(value: str) -> str:
    value = re.sub(r'([\\,+"<>;])', r"\\\1", value)
    if value[:1] in ("#", " "):
        value = "\\" + value
    return value[:-1] + "\\ " if value.endswith(" ") else value


class Certificate:
    """An X.509 certificate as the document or trust store holds it (asn1crypto keeps every byte).

    Offers the few attributes the reader and :mod:`devices.idcard.trust` use (``subject``, ``issuer``,
    ``public_key()``, ``not_valid_before_utc``/``not_valid_after_utc``), read leniently: NULL
    parameters after an ECDSA OID or explicit EC parameters do not stop it, the signature checks do.
    """

    def __init__(self, der: bytes):
        try:
            self.der = bytes(der)
            self._cert = ax509.Certificate.load(self.der, strict=True)
            tbs = self._cert["tbs_certificate"]
            self.tbs = tbs.dump()
            self.subject = Name(tbs["subject"])
            self.issuer = Name(tbs["issuer"])
            self.serial_number = tbs["serial_number"].native
            validity = tbs["validity"]
            self.not_valid_before_utc = _utc(validity["not_before"].native)
            self.not_valid_after_utc = _utc(validity["not_after"].native)
            self.spki = tbs["subject_public_key_info"].dump()
            sig = self._cert["signature_algorithm"]
            self.signature_alg = sig["algorithm"].dotted
            self.signature_params = sig["parameters"].dump() if sig["parameters"].contents is not None else b""
            self.signature = bytes(self._cert["signature_value"].native)
        except ParseError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the bytes, a typed error
            raise ParseError(detail=f"certificate: {type(exc).__name__}: {exc}") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, Certificate) and self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"<Certificate {self.subject.rfc4514_string()}>"

    @cached_property
    def _public_key(self) -> PublicKey:
        return load_public_key(self.spki)

    def public_key(self) -> PublicKey:
        """The subject's key; raises :class:`ParseError` or :class:`Unsupported` when unreadable."""
        return self._public_key

    def _extension(self, name: str):
        try:
            for ext in self._cert["tbs_certificate"]["extensions"]:
                if ext["extn_id"].native == name:
                    return ext["extn_value"].parsed
        except Exception:  # noqa: BLE001 - a broken extension is as good as none here
            return None
        return None

    @cached_property
    def subject_key_id(self) -> bytes | None:
        v = self._extension("key_identifier")
        return bytes(v.native) if v is not None else None

    @cached_property
    def authority_key_id(self) -> bytes | None:
        v = self._extension("authority_key_identifier")
        try:
            return bytes(v["key_identifier"].native) if v is not None and v["key_identifier"].native else None
        except Exception:  # noqa: BLE001
            return None

    def public_bytes(self, *_args) -> bytes:
        return self.der


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- the LDS security object (ICAO 9303 p10 §4.6.2.3) ------------------------------------------------
class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LDSSecurityObject(core.Sequence):
    _fields = [("version", core.Integer), ("hash_algorithm", algos.DigestAlgorithm),
               ("data_group_hash_values", DataGroupHashValues),
               ("lds_version_info", LDSVersionInfo, {"optional": True})]


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
    certificates: list[Certificate] = field(default_factory=list)
    content_type: str = OID_LDS_SO
    signer: Certificate | None = None   # the certificate the SignerInfo names (else the first)
    signed_attr_values: dict[str, list[bytes]] = field(default_factory=dict)   # attribute OID → DER values
    signed_attrs_alt: bytes | None = None   # the same attributes re-encoded in DER when they came in BER
    lds_version: str = ""
    unicode_version: str = ""


def _unwrap_77(data: bytes) -> bytes:
    outer = core.Asn1Value.load(bytes(data), strict=False)
    if outer.class_ != 1 or outer.tag != 23:
        raise ParseError(detail="EF.SOD: expected tag 77")
    return outer.contents


def parse_sod(data: bytes) -> SOD:
    """Parse EF.SOD (tag 77 around a CMS ContentInfo). BER is read (indefinite lengths included);
    any malformation raises :class:`ParseError`."""
    try:
        return _parse_sod(bytes(data))
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily and raises many kinds
        raise ParseError(detail=f"SOD: {type(exc).__name__}: {exc}") from None


def _parse_sod(data: bytes) -> SOD:
    if not data:
        raise ParseError(detail="EF.SOD: empty")
    ci = cms.ContentInfo.load(_unwrap_77(data), strict=False)
    if ci["content_type"].dotted != OID_SIGNED_DATA:
        raise ParseError(detail="SOD: not a CMS SignedData")
    sd = ci["content"]
    encap = sd["encap_content_info"]
    content_type = encap["content_type"].dotted
    if content_type not in LDS_SO_CONTENT_TYPES:
        raise ParseError(detail=f"SOD: content {content_type} is not an LDS security object")
    content = encap["content"]
    if content is None or isinstance(content, core.Void) or content.contents is None:
        raise ParseError(detail="SOD: no eContent")
    if isinstance(content, core.ParsableOctetString):
        e_content = bytes(content.__bytes__())
    else:
        e_content = bytes(content.native)
    so = LDSSecurityObject.load(e_content, strict=False)
    hash_oid = so["hash_algorithm"]["algorithm"].dotted
    dg_hashes = {}
    for item in so["data_group_hash_values"]:
        dg_hashes[int(item["data_group_number"].native)] = bytes(item["data_group_hash_value"].native)
    lds_version = unicode_version = ""
    if so["lds_version_info"].native is not None:
        lds_version = so["lds_version_info"]["lds_version"].native or ""
        unicode_version = so["lds_version_info"]["unicode_version"].native or ""
    certs: list[Certificate] = []
    for choice in sd["certificates"] or []:
        if choice.name == "certificate":
            certs.append(Certificate(choice.chosen.dump()))
    signer_infos = sd["signer_infos"]
    if not len(signer_infos):
        raise ParseError(detail="SOD: no SignerInfo")
    si = signer_infos[0]
    digest_alg = si["digest_algorithm"]["algorithm"].dotted
    signed_attrs = alt = None
    attr_values: dict[str, list[bytes]] = {}
    if si["signed_attrs"].contents is not None and len(si["signed_attrs"]):
        contents = si["signed_attrs"].contents
        signed_attrs = b"\x31" + _der_length(len(contents)) + contents
        reencoded = cms.CMSAttributes.load(signed_attrs).untag().dump(force=True)
        reencoded = b"\x31" + reencoded[1:]
        alt = reencoded if reencoded != signed_attrs else None
        for attr in si["signed_attrs"]:
            attr_values.setdefault(attr["type"].dotted, []).extend(v.dump() for v in attr["values"])
    sig_alg = si["signature_algorithm"]
    sig_params = sig_alg["parameters"].dump() if sig_alg["parameters"].contents is not None else b""
    signer = _find_signer(si["sid"], certs)
    return SOD(HASH_OIDS.get(hash_oid, hash_oid), dg_hashes, e_content, HASH_OIDS.get(digest_alg, digest_alg),
               signed_attrs, sig_alg["algorithm"].dotted, sig_params, bytes(si["signature"].native), certs,
               content_type, signer, attr_values, alt, lds_version, unicode_version)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _find_signer(sid, certs: list[Certificate]) -> Certificate | None:
    try:
        if sid.name == "issuer_and_serial_number":
            issuer = Name(sid.chosen["issuer"])
            serial = sid.chosen["serial_number"].native
            for c in certs:
                if c.serial_number == serial and c.issuer == issuer:
                    return c
        elif sid.name == "subject_key_identifier":
            ski = bytes(sid.chosen.native)
            for c in certs:
                if c.subject_key_id == ski:
                    return c
    except Exception:  # noqa: BLE001 - an unreadable SignerIdentifier: fall back to the only certificate
        pass
    return certs[0] if certs else None


# --- the checks -----------------------------------------------------------------------------------
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
    """Kept for callers of the old name: ``pub`` is a :class:`PublicKey` or DER SubjectPublicKeyInfo."""
    key = pub if isinstance(pub, PublicKey) else load_public_key(pub)
    verify_signature(key, sig_alg, sig_params, digest_alg, signature, data)


def check_signature(sod: SOD) -> Check:
    try:
        return _check_signature(sod)
    except Exception as exc:  # noqa: BLE001 - a check reports, it never raises
        log.warning("SOD signature check: %s", type(exc).__name__)
        return Check(NOT_CHECKED, f"signature not verifiable: {type(exc).__name__}: {exc}")


def _check_signature(sod: SOD) -> Check:
    signer = sod.signer or (sod.certificates[0] if sod.certificates else None)
    if signer is None:
        return Check(NOT_CHECKED, "no document signer certificate in the SOD")
    if sod.digest_alg not in _HASHES:
        return Check(NOT_CHECKED, f"unsupported digest algorithm {sod.digest_alg}")
    candidates = [sod.e_content]
    if sod.signed_attrs is not None:
        digests = sod.signed_attr_values.get(OID_MESSAGE_DIGEST, [])
        if len(digests) != 1:
            return Check(FAILED, "signed attributes lack the message digest")
        digest = bytes(core.OctetString.load(digests[0]).native)
        if not hmac.compare_digest(digest, _digest(sod.digest_alg, sod.e_content)):
            return Check(FAILED, "message digest does not match the security object")
        types = sod.signed_attr_values.get(OID_CONTENT_TYPE, [])
        if types and core.ObjectIdentifier.load(types[0]).dotted != sod.content_type:
            return Check(FAILED, "the signed content-type attribute differs from the eContentType")
        candidates = [sod.signed_attrs] + ([sod.signed_attrs_alt] if sod.signed_attrs_alt else [])
    try:
        key = signer.public_key()
    except Unsupported as exc:
        return Check(NOT_CHECKED, f"document signer key not supported: {exc}")
    except ParseError as exc:
        return Check(FAILED, f"document signer key unreadable: {exc.detail}")
    for data in candidates:
        try:
            verify_signature(key, sod.signature_alg, sod.signature_params, sod.digest_alg, sod.signature, data)
            break
        except InvalidSignature:
            continue
        except Unsupported as exc:
            return Check(NOT_CHECKED, str(exc))
    else:
        return Check(FAILED, "SOD signature does not verify with the document signer key")
    note = "" if sod.content_type == OID_LDS_SO else f"; eContentType {LDS_SO_CONTENT_TYPES[sod.content_type]}"
    return Check(OK, f"signed by {signer.subject.rfc4514_string()} ({key.describe()}){note}")


_PEM_RX = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----", re.S)


def load_certificates(data: bytes) -> list[Certificate]:
    """Every certificate of a PEM or DER file (raises :class:`ParseError` when there is none readable)."""
    if b"-----BEGIN" in data:
        blocks = _PEM_RX.findall(data)
        if not blocks:
            raise ParseError(detail="no PEM certificate")
        out = []
        for block in blocks:
            try:
                der = base64.b64decode(b"".join(block.split()), validate=False)
            except ValueError:
                raise ParseError(detail="bad base64 in a PEM certificate") from None
            out.append(Certificate(der))
        return out
    return [Certificate(data)]


def load_trust_store(folder: str | Path | None) -> list[Certificate]:
    """Every PEM/DER certificate in ``folder`` (unreadable files are skipped with a warning)."""
    out: list[Certificate] = []
    if not folder or not Path(folder).is_dir():
        return out
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der"):
            continue
        try:
            out.extend(load_certificates(path.read_bytes()))
        except (ParseError, OSError) as exc:
            log.warning("trust store: %s is not a certificate (%s), skipped", path.name,
                        getattr(exc, "detail", "") or type(exc).__name__)
    return out


def verify_issued_by(cert: Certificate, issuer: Certificate) -> None:
    """Raise :class:`InvalidSignature` unless ``issuer``'s key signed ``cert`` (or :class:`Unsupported`)."""
    verify_signature(issuer.public_key(), cert.signature_alg, cert.signature_params, "", cert.signature, cert.tbs)


def check_chain(sod: SOD, trust: list[Certificate]) -> tuple[Check, Certificate | None]:
    try:
        return _check_chain(sod, trust)
    except Exception as exc:  # noqa: BLE001 - a check reports, it never raises
        log.warning("chain check: %s", type(exc).__name__)
        return Check(NOT_CHECKED, f"chain not verifiable: {type(exc).__name__}: {exc}"), None


def _check_chain(sod: SOD, trust: list[Certificate]) -> tuple[Check, Certificate | None]:
    ds = sod.signer or (sod.certificates[0] if sod.certificates else None)
    if ds is None:
        return Check(NOT_CHECKED, "no document signer certificate in the SOD"), None
    if not trust:
        return Check(NOT_CHECKED, "trust store is empty"), None
    issuers = [c for c in trust if c.subject == ds.issuer]
    if ds.authority_key_id:
        issuers += [c for c in trust if c not in issuers and c.subject_key_id == ds.authority_key_id]
    if not issuers:
        return Check(FAILED, f"no CSCA in the trust store for issuer {ds.issuer.rfc4514_string()}"), None
    unsupported = ""
    for csca in issuers:
        try:
            verify_issued_by(ds, csca)
            return Check(OK, f"chains to {csca.subject.rfc4514_string()}"), csca
        except InvalidSignature:
            continue
        except (Unsupported, ParseError) as exc:
            unsupported = getattr(exc, "detail", "") or str(exc)
    if unsupported:
        return Check(NOT_CHECKED, f"document signer certificate not verifiable: {unsupported}"), None
    return Check(FAILED, "document signer certificate is not signed by the trusted CSCA"), None


def check_validity(sod: SOD, csca: Certificate | None, now: datetime | None = None) -> Check:
    ds = sod.signer or (sod.certificates[0] if sod.certificates else None)
    if ds is None:
        return Check(NOT_CHECKED, "no document signer certificate")
    now = now or clock.now_utc()
    problems = []
    for name, cert in (("document signer", ds), ("CSCA", csca)):
        if cert is None:
            continue
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            problems.append(f"{name} certificate outside {cert.not_valid_before_utc:%Y-%m-%d}…{cert.not_valid_after_utc:%Y-%m-%d}")
    if problems:
        return Check(FAILED, "; ".join(problems))
    return Check(OK, "certificates within their validity dates" + ("" if csca else " (CSCA not found)"))


def passive_authentication(sod_bytes: bytes | None, files: dict[int, bytes], trust: list[Certificate],
                           now: datetime | None = None) -> dict[str, Check]:
    names = ("hashes", "signature", "chain", "validity")
    if sod_bytes is None:
        return {k: Check(NOT_CHECKED, "EF.SOD not read") for k in names}
    try:
        sod = parse_sod(sod_bytes)
    except ParseError as exc:
        bad = f"EF.SOD malformed: {exc.detail or exc}"
        return {k: Check(FAILED, bad) for k in names}
    try:
        chain, csca = check_chain(sod, trust)
        return {"hashes": check_hashes(sod, files), "signature": check_signature(sod), "chain": chain,
                "validity": check_validity(sod, csca, now)}
    except Exception as exc:  # noqa: BLE001 - never a traceback from verification
        log.warning("passive authentication: %s", type(exc).__name__)
        bad = f"verification error: {type(exc).__name__}"
        return {k: Check(NOT_CHECKED, bad) for k in names}


# --- active authentication (ICAO 9303 p11 §6.1) -----------------------------------------------------
_AA_HASH_BY_SIZE = {20: "sha1", 24: "sha224", 28: "sha224", 32: "sha256", 40: "sha384", 48: "sha384", 64: "sha512", 66: "sha512"}


def verify_active_authentication(key: PublicKey, challenge: bytes, response: bytes, hash_name: str | None = None) -> Check:
    """The chip's INTERNAL AUTHENTICATE answer to ``challenge`` checked against the DG15 key: RSA with
    ISO/IEC 9796-2 scheme 1, ECDSA (plain r || s as BSI TR-03111 says, or DER as some chips send) with
    the hash DG14's ActiveAuthenticationInfo names (``hash_name``; without it the hash that fits the
    curve size, then SHA-256). Never raises."""
    from devices.idcard import crypto

    try:
        if key.kind == "rsa":
            nums = key.rsa_key.public_numbers()
            try:
                name = crypto.iso9796_2_verify(nums.n, nums.e, response, challenge)
            except ValueError as exc:
                return Check(FAILED, f"the chip could not prove it holds the DG15 key: possible clone ({exc})")
            return Check(OK, f"active authentication RSA-{key.rsa_key.key_size} ISO 9796-2/{name}")
        names = [hash_name] if hash_name else list(dict.fromkeys(
            [_AA_HASH_BY_SIZE.get(key.curve.size, "sha256"), "sha256"]))
        for name in names:
            if name not in _HASHES:
                return Check(NOT_CHECKED, f"unsupported active-authentication hash {name}")
            for plain in (True, False):
                try:
                    r, s = _ecdsa_rs(response, plain, key.curve)
                except InvalidSignature:
                    continue
                digest = hashlib.new(name, challenge).digest()
                if key.openssl is not None:
                    try:
                        if r > 0 and s > 0:
                            key.openssl.verify(encode_dss_signature(r, s), digest, cec.ECDSA(Prehashed(_HASHES[name]())))
                            return Check(OK, f"active authentication ECDSA/{name} ({key.describe()})")
                    except InvalidSignature:
                        continue
                elif ec.ecdsa_verify(key.curve, key.point, digest, r, s):
                    return Check(OK, f"active authentication ECDSA/{name} ({key.describe()})")
        return Check(FAILED, "the chip could not prove it holds the DG15 key: possible clone")
    except Exception as exc:  # noqa: BLE001 - a check reports, it never raises
        return Check(NOT_CHECKED, f"active authentication not verifiable: {type(exc).__name__}")
