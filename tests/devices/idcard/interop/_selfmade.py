"""Self-made eMRTD test vectors: every defect class the third-party interop corpus exercised, built
at run time from keys generated in this process (``cryptography`` signs, asn1crypto and ``tlv``
encode), so the suite covers those classes without the corpus. Nothing here is stored or read
from disk; every key is TEST ONLY and thrown away with the process.

Classes (what real documents in the corpus showed, README.md beside this file):
- document signer and CSCA keys with **explicit EC domain parameters**: a named curve written out
  (brainpoolP256r1, brainpoolP384r1) and a curve no name in ``devices.idcard.ec`` matches
  (secp256k1's parameters: OpenSSL signs, the reader verifies with its own arithmetic);
- a CSCA whose **signatureAlgorithm carries NULL parameters** after ecdsa-with-SHA256;
- EF.SOD with **eContentType id-data**; EF.SOD in **BER with indefinite lengths** (and a constructed
  eContent OCTET STRING, signed attributes sent in indefinite form); RSASSA-PSS; SHA-1;
- **RSA active authentication**, ISO/IEC 9796-2 scheme 1 signed here;
- **DG14 with an explicit-brainpool chip-authentication key**, and one without ChipAuthenticationInfo.

``bench/bench_idcard.py`` measures these when the corpus is absent.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache

from asn1crypto import algos, core, keys as akeys, x509 as ax509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as cec, padding, rsa

from devices.idcard import ec, tlv
from devices.idcard.chipauth import ID_CA_ECDH, ID_PK_ECDH
from devices.idcard.passive import (OID_CONTENT_TYPE, OID_ID_DATA, OID_LDS_SO, OID_MESSAGE_DIGEST, OID_OF_HASH,
                                    OID_SIGNED_DATA)

OID_ECDSA_SHA1 = "1.2.840.10045.4.1"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_ECDSA_SHA384 = "1.2.840.10045.4.3.3"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"

# SEC 2 secp256k1: a prime-order curve OpenSSL can sign on, deliberately absent from
# devices.idcard.ec.NAMED_CURVES, so its explicit parameters stay an unnamed curve for the reader
SECP256K1_PARAMS = ec.Curve(
    "explicit",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F, a=0, b=7,
    gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
)
_HASH = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384}
NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
NOT_AFTER = dt.datetime(2049, 12, 31, tzinfo=dt.timezone.utc)
# two made-up data groups (no person's data): what the SOD hashes
DGS = {1: tlv.encode(0x61, tlv.encode(0x5F1F, b"I<UTOSELFMADE<<VECTOR<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<")),
       2: tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), tlv.encode(0x5F2E, bytes(range(64)))]))}


# --- keys and domain parameters --------------------------------------------------------------------
def point_of(key: cec.EllipticCurvePrivateKey | cec.EllipticCurvePublicKey) -> tuple[int, int]:
    pub = key.public_key() if hasattr(key, "public_key") else key
    nums = pub.public_numbers()
    return nums.x, nums.y


def explicit_spki(curve: ec.Curve, point: tuple[int, int], *, generator: tuple[int, int] | None = None,
                  b: int | None = None, cofactor: int | None = 1) -> bytes:
    """A SubjectPublicKeyInfo whose ECParameters spell the curve out (ICAO 9303-12 §4.1.6.3 asks for
    exactly this: explicit ECParameters with the cofactor, uncompressed points). ``generator`` / ``b``
    replace the curve's own (tampered variants)."""
    size = curve.size
    domain = {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": core.Integer(curve.p)},
        "curve": {"a": (curve.a % curve.p).to_bytes(size, "big"),
                  "b": ((curve.b if b is None else b) % curve.p).to_bytes(size, "big")},
        "base": curve.encode(generator or curve.g),
        "order": curve.n,
    }
    if cofactor is not None:
        domain["cofactor"] = cofactor
    params = akeys.ECDomainParameters(name="specified", value=akeys.SpecifiedECDomain(domain))
    return akeys.PublicKeyInfo({"algorithm": {"algorithm": "ec", "parameters": params},
                                "public_key": curve.encode(point)}).dump()


def named_spki(key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    pub = key.public_key() if hasattr(key, "private_numbers") else key
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ec_signer(key: cec.EllipticCurvePrivateKey, hash_name: str = "sha256"):
    return lambda data: key.sign(data, cec.ECDSA(_HASH[hash_name]()))


def pss_params(hash_name: str = "sha256", salt: int = 32) -> bytes:
    return algos.RSASSAPSSParams({"hash_algorithm": {"algorithm": hash_name},
                                  "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_name}},
                                  "salt_length": salt}).dump()


# --- certificates ----------------------------------------------------------------------------------
def name(cn: str) -> ax509.Name:
    return ax509.Name.build({"country_name": "UT", "organization_name": "TEST ONLY kiosk self-made eMRTD vectors",
                             "common_name": cn})


def make_cert(subject: str, issuer: str, spki: bytes, sign, *, sig_oid: str = OID_ECDSA_SHA256,
              null_params: bool = False, ca: bool = False, serial: int | None = None) -> bytes:
    """An X.509 v3 certificate (DER) for ``spki``, its TBS signed by ``sign`` (bytes -> signature)."""
    alg = {"algorithm": sig_oid}
    if null_params:
        alg["parameters"] = core.Null()
    exts = [{"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True, "path_len_constraint": 0}},
            {"extn_id": "key_usage", "critical": True, "extn_value": {"key_cert_sign", "crl_sign"}}] if ca else [
        {"extn_id": "key_usage", "critical": True, "extn_value": {"digital_signature"}}]
    tbs = ax509.TbsCertificate({
        "version": "v3", "serial_number": serial or int.from_bytes(os.urandom(8), "big") | 1 << 62,
        "signature": alg, "issuer": name(issuer),
        "validity": {"not_before": ax509.Time(name="utc_time", value=NOT_BEFORE),
                     "not_after": ax509.Time(name="utc_time", value=NOT_AFTER)},
        "subject": name(subject), "subject_public_key_info": akeys.PublicKeyInfo.load(spki),
        "extensions": exts,
    })
    return ax509.Certificate({"tbs_certificate": tbs, "signature_algorithm": alg,
                              "signature_value": sign(tbs.dump())}).dump()


def resign_cert(der: bytes, sign, *, spki: bytes | None = None) -> bytes:
    """``der`` with another SubjectPublicKeyInfo and/or re-signed (keeps the rest as it is)."""
    cert = ax509.Certificate.load(der)
    tbs = cert["tbs_certificate"].copy()
    if spki is not None:
        tbs["subject_public_key_info"] = akeys.PublicKeyInfo.load(spki)
    return ax509.Certificate({"tbs_certificate": tbs, "signature_algorithm": cert["signature_algorithm"],
                              "signature_value": sign(tbs.dump())}).dump()


# --- EF.SOD ----------------------------------------------------------------------------------------
def _alg(oid: str, params: bytes = b"") -> bytes:
    return tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(oid)), params])


def _c(tag: int, parts, ber: bool) -> bytes:
    """A constructed TLV: definite (DER) or BER indefinite length (tag 80 … 00 00)."""
    body = b"".join(parts) if isinstance(parts, (list, tuple)) else parts
    return tlv.encode_tag(tag) + b"\x80" + body + b"\x00\x00" if ber else tlv.encode(tag, body)


def lds_security_object(dgs: dict[int, bytes], hash_alg: str = "sha256") -> bytes:
    """LDSSecurityObject (ICAO 9303-10 §4.6.2.3), version 0, DER."""
    return tlv.encode(0x30, [
        tlv.encode(0x02, b"\x00"), _alg(OID_OF_HASH[hash_alg]),
        tlv.encode(0x30, [tlv.encode(0x30, [tlv.encode(0x02, tlv.encode_int(n)),
                                            tlv.encode(0x04, hashlib.new(hash_alg, raw).digest())])
                          for n, raw in sorted(dgs.items())])])


def make_sod(dgs: dict[int, bytes], sign, dsc: bytes, *, hash_alg: str = "sha256", sig_oid: str = OID_ECDSA_SHA256,
             sig_params: bytes = b"", content_type: str = OID_LDS_SO, attr_content_type: str | None = None,
             ber: bool = False, with_signer_info: bool = True, so: bytes | None = None) -> bytes:
    """EF.SOD: tag 77 around a CMS ContentInfo / SignedData (RFC 5652) over an LDS security object,
    signed by ``sign`` with signed attributes (content type, message digest). ``ber``: every
    constructed value with an indefinite length, the eContent a constructed OCTET STRING in 64-byte
    segments, the signed attributes sent as [0] 80 … 00 00 (the signature is still over their DER,
    RFC 5652 §5.4)."""
    so = so if so is not None else lds_security_object(dgs, hash_alg)
    if ber:
        econtent = b"\x24\x80" + b"".join(tlv.encode(0x04, so[i:i + 64]) for i in range(0, len(so), 64)) + b"\x00\x00"
    else:
        econtent = tlv.encode(0x04, so)
    encap = _c(0x30, [tlv.encode(0x06, tlv.encode_oid(content_type)), _c(0xA0, econtent, ber)], ber)
    attrs = sorted([
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_CONTENT_TYPE)),
                          tlv.encode(0x31, tlv.encode(0x06, tlv.encode_oid(attr_content_type or content_type)))]),
        tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_MESSAGE_DIGEST)),
                          tlv.encode(0x31, tlv.encode(0x04, hashlib.new(hash_alg, so).digest()))]),
    ])
    signed_attrs = tlv.encode(0x31, attrs)                     # what is signed: the DER SET OF
    signature = sign(signed_attrs)
    cert = ax509.Certificate.load(dsc)
    sid = tlv.encode(0x30, [cert.issuer.dump(), tlv.encode(0x02, tlv.encode_int(cert.serial_number))])
    signer_info = _c(0x30, [tlv.encode(0x02, b"\x01"), sid, _alg(OID_OF_HASH[hash_alg]), _c(0xA0, attrs, ber),
                            _alg(sig_oid, sig_params), tlv.encode(0x04, signature)], ber)
    signed_data = _c(0x30, [tlv.encode(0x02, b"\x03"), tlv.encode(0x31, _alg(OID_OF_HASH[hash_alg])), encap,
                            _c(0xA0, dsc, ber), _c(0x31, signer_info if with_signer_info else b"", ber)], ber)
    content_info = _c(0x30, [tlv.encode(0x06, tlv.encode_oid(OID_SIGNED_DATA)), _c(0xA0, signed_data, ber)], ber)
    return tlv.encode(0x77, content_info)


def flip(data: bytes, index: int, mask: int = 1) -> bytes:
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


# --- RSA active authentication (ISO/IEC 9796-2 scheme 1, ICAO 9303-11 §6.1) --------------------------
_TRAILER = {"sha1": b"\xBC", "sha224": b"\x38\xCC", "sha256": b"\x34\xCC", "sha384": b"\x36\xCC", "sha512": b"\x35\xCC"}


def iso9796_2_sign(key: rsa.RSAPrivateKey, challenge: bytes, hash_name: str = "sha1", *, header: int = 0x6A,
                   m1: bytes | None = None, bad_hash: bool = False) -> bytes:
    """What a chip answers INTERNAL AUTHENTICATE with: F = header || M1 || H(M1 || challenge) || trailer,
    F as long as the modulus (its first byte 6A keeps it below n), signed with the private exponent.
    M1 is the chip's nonce (the recoverable part), the challenge M2 is not sent back."""
    nums = key.private_numbers()
    n, d = nums.public_numbers.n, nums.d
    k = (n.bit_length() + 7) // 8
    trailer = _TRAILER[hash_name]
    h_len = hashlib.new(hash_name).digest_size
    m1 = m1 if m1 is not None else os.urandom(k - 1 - h_len - len(trailer))
    digest = hashlib.new(hash_name, m1 + challenge).digest()
    if bad_hash:
        digest = flip(digest, 0)
    f = bytes([header]) + m1 + digest + trailer
    assert len(f) == k and int.from_bytes(f, "big") < n
    return pow(int.from_bytes(f, "big"), d, n).to_bytes(k, "big")


def dg15(spki: bytes) -> bytes:
    return tlv.encode(0x6F, spki)


# --- DG14 (chip authentication, ICAO 9303-11 §6.2 / BSI TR-03110-3 A.1.1.2) ---------------------------
def dg14(spki: bytes, *, protocol: str | None = ID_CA_ECDH + ".2", key_id: int | None = None) -> bytes:
    """DG14 with a ChipAuthenticationPublicKeyInfo holding ``spki`` (named or explicit parameters) and,
    unless ``protocol`` is None, a ChipAuthenticationInfo (version 1, ``key_id`` in both)."""
    kid = [tlv.encode(0x02, tlv.encode_int(key_id))] if key_id is not None else []
    infos = [tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(ID_PK_ECDH)), spki] + kid)]
    if protocol is not None:
        infos.insert(0, tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid(protocol)), tlv.encode(0x02, b"\x01")] + kid))
    return tlv.encode(0x6E, tlv.encode(0x31, infos))


# --- the set -------------------------------------------------------------------------------------
@dataclass
class Vectors:
    certs: dict[str, bytes] = field(default_factory=dict)     # name -> DER
    sods: dict[str, bytes] = field(default_factory=dict)      # name -> EF.SOD
    keys: dict[str, object] = field(default_factory=dict)     # name -> cryptography private key
    issuer_of: dict[str, str] = field(default_factory=dict)   # SOD name -> CSCA name

    def trust(self, *names: str):
        from devices.idcard import passive
        return [passive.Certificate(self.certs[n]) for n in (names or ("csca_explicit", "csca_null"))]


@lru_cache(maxsize=1)
def vectors() -> Vectors:
    """Keys, CSCAs, document signers and SODs of every class (built once per process)."""
    v = Vectors()
    bp256, bp384 = ec.BRAINPOOL_P256R1, ec.BRAINPOOL_P384R1
    # CSCA 1: brainpoolP384r1 written out explicitly, ecdsa-with-SHA384 without parameters
    k = v.keys["csca_explicit"] = cec.generate_private_key(cec.BrainpoolP384R1())
    v.certs["csca_explicit"] = make_cert("TEST CSCA explicit brainpoolP384r1", "TEST CSCA explicit brainpoolP384r1",
                                         explicit_spki(bp384, point_of(k)), ec_signer(k, "sha384"),
                                         sig_oid=OID_ECDSA_SHA384, ca=True)
    # CSCA 2: named P-256 key, ecdsa-with-SHA256 followed by NULL parameters (RFC 5758 §3.2 says omit)
    k = v.keys["csca_null"] = cec.generate_private_key(cec.SECP256R1())
    v.certs["csca_null"] = make_cert("TEST CSCA NULL parameters", "TEST CSCA NULL parameters", named_spki(k),
                                     ec_signer(k), null_params=True, ca=True)
    by_explicit = ec_signer(v.keys["csca_explicit"], "sha384")
    # document signers
    k = v.keys["dsc_explicit"] = cec.generate_private_key(cec.BrainpoolP256R1())
    v.certs["dsc_explicit"] = make_cert("TEST DS explicit brainpoolP256r1", "TEST CSCA explicit brainpoolP384r1",
                                        explicit_spki(bp256, point_of(k)), by_explicit, sig_oid=OID_ECDSA_SHA384)
    k = v.keys["dsc_unnamed"] = cec.generate_private_key(cec.SECP256K1())
    v.certs["dsc_unnamed"] = make_cert("TEST DS explicit unnamed curve", "TEST CSCA explicit brainpoolP384r1",
                                       explicit_spki(SECP256K1_PARAMS, point_of(k)), by_explicit, sig_oid=OID_ECDSA_SHA384)
    k = v.keys["dsc_null"] = cec.generate_private_key(cec.SECP256R1())
    v.certs["dsc_null"] = make_cert("TEST DS under NULL-parameter CSCA", "TEST CSCA NULL parameters", named_spki(k),
                                    ec_signer(v.keys["csca_null"]), null_params=True)
    k = v.keys["dsc_rsa"] = rsa.generate_private_key(65537, 2048)
    v.certs["dsc_rsa"] = make_cert("TEST DS RSA", "TEST CSCA explicit brainpoolP384r1", named_spki(k), by_explicit,
                                   sig_oid=OID_ECDSA_SHA384)
    # the SODs (over DGS)
    for sod_name in SOD_PLAN:
        sign, dsc, kw = sod_recipe(sod_name, v)
        v.sods[sod_name] = make_sod(DGS, sign, dsc, **kw)
        v.issuer_of[sod_name] = "csca_null" if SOD_PLAN[sod_name][0] == "dsc_null" else "csca_explicit"
    return v


# SOD name -> (document signer, make_sod keywords)
SOD_PLAN = {
    "explicit_brainpool_dsc": ("dsc_explicit", {}),
    "explicit_unnamed_dsc": ("dsc_unnamed", {}),
    "null_params_csca": ("dsc_null", {}),
    "id_data": ("dsc_null", {"content_type": OID_ID_DATA}),
    "ber_indefinite": ("dsc_explicit", {"ber": True}),
    "rsassa_pss": ("dsc_rsa", {"sig_oid": OID_RSA_PSS, "sig_params": pss_params()}),
    "sha1": ("dsc_null", {"hash_alg": "sha1", "sig_oid": OID_ECDSA_SHA1}),
}


def pss_signer(key: rsa.RSAPrivateKey, hash_name: str = "sha256", salt: int = 32):
    h = _HASH[hash_name]
    return lambda data: key.sign(data, padding.PSS(padding.MGF1(h()), salt), h())


def sod_recipe(sod_name: str, v: Vectors | None = None):
    """(sign, document signer DER, make_sod keywords) of the SOD ``sod_name``: to build it over other
    data groups or with one keyword changed (tampered variants)."""
    v = v or vectors()
    dsc, kw = SOD_PLAN[sod_name]
    key = v.keys[dsc]
    sign = pss_signer(key) if dsc == "dsc_rsa" else ec_signer(key, kw.get("hash_alg", "sha256"))
    return sign, v.certs[dsc], dict(kw)
