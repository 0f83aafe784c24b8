"""Self-made vectors for every defect class the third-party interop corpus exercised, and their
tampered variants, so CI covers each class without that corpus (it lives outside the repository,
tests/devices/idcard/interop/README.md). The vectors are built in this process from our own keys
(tests/devices/idcard/interop/_selfmade.py); each test asserts what the named clause requires.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from asn1crypto import x509 as ax509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec as cec, rsa

from devices.idcard import chipauth, ec, lds, passive, tlv
from devices.idcard.apdu import FID_DG, FID_SOD
from devices.idcard.errors import ParseError
from devices.idcard.reader import AccessKey, CardReader
from devices.idcard.session import ChipSession
from devices.idcard.transport import ReplayTransport, VirtualCardTransport

sys.path.insert(0, str(Path(__file__).resolve().parent / "interop"))
import _selfmade as S  # noqa: E402

OK, FAILED, NOT_CHECKED = passive.OK, passive.FAILED, passive.NOT_CHECKED
PASSIVE = ("hashes", "signature", "chain", "validity")


@pytest.fixture(scope="module")
def v() -> S.Vectors:
    return S.vectors()


def _pa(sod: bytes, trust, files=None):
    return passive.passive_authentication(sod, S.DGS if files is None else files, trust)


def _resign_sod(name: str, **kw) -> bytes:
    """The SOD ``name`` built again with some make_sod keywords changed (``dsc``: another certificate)."""
    sign, dsc, base = S.sod_recipe(name)
    return S.make_sod(S.DGS, sign, kw.pop("dsc", dsc), **(base | kw))


# --- explicit EC domain parameters ----------------------------------------------------------------
# ICAO 9303-12 §4.1.6.3: CSCA and document signer ECDSA keys carry explicit ECParameters (SEC 1 §C.2 /
# RFC 3279 §2.3.5 specifiedCurve). ECDSA verification (SEC 1 §4.1.4) uses the parameters the
# certificate states: equal to a named curve's they are that curve, otherwise they are used as given.
def test_explicit_named_curves_in_document_signer_and_csca_verify(v):
    sod = passive.parse_sod(v.sods["explicit_brainpool_dsc"])
    key, csca_key = sod.signer.public_key(), passive.Certificate(v.certs["csca_explicit"]).public_key()
    assert key.explicit and key.curve is ec.BRAINPOOL_P256R1
    assert csca_key.explicit and csca_key.curve is ec.BRAINPOOL_P384R1
    checks = _pa(v.sods["explicit_brainpool_dsc"], v.trust("csca_explicit"))
    assert {k: checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), checks


def test_explicit_unnamed_curve_document_signer_verifies_on_its_own_curve(v):
    """secp256k1's parameters, which no curve in devices.idcard.ec names: OpenSSL signed, the reader's
    own ECDSA (ec.ecdsa_verify) verifies."""
    key = passive.parse_sod(v.sods["explicit_unnamed_dsc"]).signer.public_key()
    assert key.explicit and key.curve.name == "explicit" and key.curve.oid == "" and key.openssl is None
    assert key.curve.params() == S.SECP256K1_PARAMS.params()
    assert S.point_of(cec.derive_private_key(1, cec.SECP256K1())) == S.SECP256K1_PARAMS.g   # the written G is secp256k1's
    checks = _pa(v.sods["explicit_unnamed_dsc"], v.trust("csca_explicit"))
    assert {k: checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), checks


@pytest.mark.parametrize("sod_name", ["explicit_brainpool_dsc", "explicit_unnamed_dsc"])
def test_explicit_parameter_signatures_refuse_a_changed_byte(v, sod_name):
    """The SOD's last byte (inside the signature) changed: RFC 5652 §5.6, the signature does not verify."""
    sod = v.sods[sod_name]
    checks = _pa(sod[:-1] + bytes([sod[-1] ^ 1]), v.trust("csca_explicit"))
    assert checks["signature"].status == FAILED
    assert checks["chain"].status == OK


@pytest.mark.parametrize("sod_name,curve,dsc", [("explicit_brainpool_dsc", ec.BRAINPOOL_P256R1, "dsc_explicit"),
                                                ("explicit_unnamed_dsc", S.SECP256K1_PARAMS, "dsc_unnamed")])
def test_substituted_generator_is_not_silently_replaced_by_the_named_curve(v, sod_name, curve, dsc):
    """The document signer certificate, re-issued by the CSCA, states the same key point with G
    replaced by 2G: the chain holds, but under those parameters the key did not make the signature
    (SEC 1 §4.1.4 with the stated parameters), so the signature fails."""
    point = S.point_of(v.keys[dsc])
    spki = S.explicit_spki(curve, point, generator=curve.mul(2, curve.g))
    forged = S.resign_cert(v.certs[dsc], S.ec_signer(v.keys["csca_explicit"], "sha384"), spki=spki)
    checks = _pa(_resign_sod(sod_name, dsc=forged), v.trust("csca_explicit"))
    assert passive.Certificate(forged).public_key().curve.name == "explicit"
    assert checks["chain"].status == OK
    assert checks["signature"].status == FAILED


def test_explicit_parameters_with_a_base_point_off_the_curve_are_refused(v):
    """b changed: the stated base point is not on the stated curve (SEC 1 §3.1.1.2.1 validation): the
    key is unreadable, the signature check fails with that reason."""
    bp = ec.BRAINPOOL_P256R1
    spki = S.explicit_spki(bp, S.point_of(v.keys["dsc_explicit"]), b=bp.b + 1)
    with pytest.raises(ParseError):
        passive.load_public_key(spki)
    forged = S.resign_cert(v.certs["dsc_explicit"], S.ec_signer(v.keys["csca_explicit"], "sha384"), spki=spki)
    checks = _pa(_resign_sod("explicit_brainpool_dsc", dsc=forged), v.trust("csca_explicit"))
    assert checks["signature"].status == FAILED and "unreadable" in checks["signature"].detail


def test_csca_with_substituted_explicit_parameters_does_not_chain(v):
    """The trusted CSCA's explicit parameters altered (G -> 2G, self-signature made again): the
    document signer's certificate does not verify under it (RFC 5280 §6.1.3 (a)(1))."""
    bp = ec.BRAINPOOL_P384R1
    k = v.keys["csca_explicit"]
    spki = S.explicit_spki(bp, S.point_of(k), generator=bp.mul(2, bp.g))
    altered = S.resign_cert(v.certs["csca_explicit"], S.ec_signer(k, "sha384"), spki=spki)
    checks = _pa(v.sods["explicit_brainpool_dsc"], [passive.Certificate(altered)])
    assert checks["chain"].status == FAILED


# --- NULL parameters after ecdsa-with-SHA256 ------------------------------------------------------
# RFC 5758 §3.2: the ecdsa-with-SHA2 AlgorithmIdentifiers omit the parameters; a CSCA with NULL there
# (seen in issued CSCAs) departs from it, but ECDSA takes no parameters, so the signature over the
# tbsCertificate (RFC 5280 §4.1.1.3) is verified exactly as without them.
def test_csca_with_null_parameters_loads_into_the_trust_store_and_chains(v, tmp_path):
    (tmp_path / "csca-null.der").write_bytes(v.certs["csca_null"])
    trust = passive.load_trust_store(tmp_path)
    assert [c.der for c in trust] == [v.certs["csca_null"]]
    csca = trust[0]
    assert csca.signature_params == b"\x05\x00" and csca.signature_alg == S.OID_ECDSA_SHA256
    passive.verify_issued_by(csca, csca)                       # its own self-signature
    checks = _pa(v.sods["null_params_csca"], trust)
    assert {k: checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), checks


def test_null_parameter_certificates_refuse_changes(v):
    csca = passive.Certificate(v.certs["csca_null"])
    changed = passive.Certificate(S.flip(v.certs["csca_null"], len(v.certs["csca_null"]) - 90))   # a byte in the TBS
    with pytest.raises(InvalidSignature):
        passive.verify_issued_by(changed, csca)
    # a document signer certificate whose signature was changed: the chain fails
    dsc = v.certs["dsc_null"]
    forged_dsc = dsc[:-1] + bytes([dsc[-1] ^ 1])
    checks = _pa(_resign_sod("null_params_csca", dsc=forged_dsc), v.trust("csca_null"))
    assert checks["chain"].status == FAILED and checks["signature"].status == OK
    # another CSCA with the same name (NULL parameters too) but another key: not the issuer
    other = cec.generate_private_key(cec.SECP256R1())
    impostor = S.make_cert("TEST CSCA NULL parameters", "TEST CSCA NULL parameters", S.named_spki(other),
                           S.ec_signer(other), null_params=True, ca=True)
    checks = _pa(v.sods["null_params_csca"], [passive.Certificate(impostor)])
    assert checks["chain"].status == FAILED


# --- eContentType id-data ---------------------------------------------------------------------------
# ICAO 9303-10 §4.6.2.2 names id-icao-mrtd-security-ldsSecurityObject; documents labelled id-data exist.
# RFC 5652 §5.6: the signature is over the signed attributes, whose message digest covers the eContent,
# whatever its label; §11.1: the content-type attribute MUST equal the eContentType. So: verified, the
# label named in the detail; a content-type attribute that differs fails.
def test_id_data_econtent_type_verifies_and_is_named(v):
    assert passive.parse_sod(v.sods["id_data"]).content_type == passive.OID_ID_DATA
    checks = _pa(v.sods["id_data"], v.trust("csca_null"))
    assert {k: checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), checks
    assert "id-data" in checks["signature"].detail


def test_id_data_tampered_variants_are_refused(v):
    trust = v.trust("csca_null")
    mismatch = _pa(_resign_sod("id_data", attr_content_type=passive.OID_LDS_SO), trust)
    assert mismatch["signature"].status == FAILED and "content-type" in mismatch["signature"].detail
    foreign = _pa(_resign_sod("id_data", content_type="1.2.840.113549.1.7.5"), trust)   # id-digestedData
    assert {c.status for c in foreign.values()} == {FAILED} and "malformed" in foreign["signature"].detail
    sod = v.sods["id_data"]
    assert _pa(sod[:-1] + bytes([sod[-1] ^ 1]), trust)["signature"].status == FAILED


# --- BER indefinite lengths ---------------------------------------------------------------------------
# RFC 5652 §1: CMS values are BER encoded; §5.3/§5.4: the message digest is over the eContent OCTET
# STRING's value (the segments' contents of a constructed one), the signature over the DER of the
# signed attributes even when they are sent otherwise.
def test_ber_indefinite_sod_verifies(v):
    sod = v.sods["ber_indefinite"]
    assert tlv.decode(sod).value[:2] == b"\x30\x80"                            # ContentInfo, indefinite
    assert b"\x24\x80\x04\x40" in sod and b"\xA0\x80\x30" in sod             # constructed eContent, BER signed attrs
    checks = _pa(sod, v.trust("csca_explicit"))
    assert {k: checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), checks


def test_ber_indefinite_sod_tampered_variants_are_refused(v):
    sod = v.sods["ber_indefinite"]
    trust = v.trust("csca_explicit")
    dg1_hash = passive.parse_sod(sod).dg_hashes[1]
    i = sod.index(dg1_hash[:8])                                             # inside the first eContent segment
    changed = _pa(S.flip(sod, i), trust, {1: S.DGS[1]})
    assert changed["signature"].status == FAILED and "message digest" in changed["signature"].detail
    assert changed["hashes"].status == FAILED
    unterminated = tlv.encode(0x77, tlv.decode(sod).value[:-2])              # the ContentInfo's end-of-contents cut
    with pytest.raises(ParseError):
        passive.parse_sod(unterminated)
    assert {c.status for c in _pa(unterminated, trust).values()} == {FAILED}


# --- RSASSA-PSS and SHA-1 (document signers seen in issued SODs) ------------------------------------------
def test_rsassa_pss_and_sha1_sods_verify_and_refuse_changes(v):
    # RFC 4055 §3.1: hash, MGF1 hash and salt length come from RSASSA-PSS-params
    pss = _pa(v.sods["rsassa_pss"], v.trust("csca_explicit"))
    assert {k: pss[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), pss
    wrong_salt = _resign_sod("rsassa_pss", sig_params=S.pss_params(salt=20))     # signed with salt 32
    assert _pa(wrong_salt, v.trust("csca_explicit"))["signature"].status == FAILED
    sha1 = _pa(v.sods["sha1"], v.trust("csca_null"))
    assert {k: sha1[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), sha1
    assert passive.parse_sod(v.sods["sha1"]).hash_alg == "sha1"
    sod = v.sods["sha1"]
    assert _pa(sod[:-1] + bytes([sod[-1] ^ 1]), v.trust("csca_null"))["signature"].status == FAILED


# --- structure: ICAO 9303-11 §5.1 passive authentication ---------------------------------------------------
def test_signed_data_without_signer_info_is_malformed(v):
    """RFC 5652 §5.1: nothing to verify without a SignerInfo; every passive check fails."""
    checks = _pa(_resign_sod("null_params_csca", with_signer_info=False), v.trust("csca_null"))
    assert {c.status for c in checks.values()} == {FAILED}


@pytest.mark.parametrize("data", [b"", b"\x30\x00", b"\x77\x04\x30\x80\x06\x09", b"\x77\x03\x02\x01\x00",
                                  b"\x77\x82\x10\x00\x30"], ids=["empty", "no-77", "truncated", "not-contentinfo", "short"])
def test_malformed_sods_are_parse_errors(data):
    with pytest.raises(ParseError):
        passive.parse_sod(data)


def test_a_data_group_the_sod_does_not_list_fails_and_an_empty_trust_store_proves_nothing(v):
    """ICAO 9303-11 §5.1: every read data group is compared with its hash in the SOD (one not listed
    cannot be trusted), and the document signer is verified with a trusted CSCA (none: not proven)."""
    injected = _pa(v.sods["explicit_brainpool_dsc"], v.trust("csca_explicit"), S.DGS | {13: b"\x6D\x02\x01\x00"})
    assert injected["hashes"].status == FAILED and "DG13" in injected["hashes"].detail
    empty = _pa(v.sods["explicit_brainpool_dsc"], [])
    assert empty["chain"].status == NOT_CHECKED and empty["signature"].status == OK


# --- RSA active authentication: ISO/IEC 9796-2 scheme 1 (ICAO 9303-11 §6.1) -----------------------------
@pytest.fixture(scope="module")
def aa_key():
    return rsa.generate_private_key(65537, 1024)


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_rsa_active_authentication_iso9796_2_verifies(aa_key, hash_name):
    """Partial message recovery: F = 6A || M1 || H(M1 || challenge) || trailer (BC for SHA-1 implicit,
    else the ISO/IEC 10118-3 hash identifier and CC); the reader recovers F with the DG15 key."""
    key = passive.load_public_key(lds.parse_dg15(S.dg15(S.named_spki(aa_key))))
    challenge = b"\x01\x23\x45\x67\x89\xAB\xCD\xEF"
    check = passive.verify_active_authentication(key, challenge, S.iso9796_2_sign(aa_key, challenge, hash_name))
    assert check.status == OK and check.detail.endswith(f"ISO 9796-2/{hash_name}"), check


def test_rsa_active_authentication_through_the_reader(aa_key):
    """The reader sends INTERNAL AUTHENTICATE with its 8-byte challenge (00 88 00 00 08 … 00) and
    verifies the answer against DG15."""
    challenge = bytes(range(8))
    answer = S.iso9796_2_sign(aa_key, challenge, "sha256") + b"\x90\x00"
    transport = ReplayTransport([(b"\x00\x88\x00\x00\x08" + challenge + b"\x00", answer)])
    reader = CardReader(transport, rng=lambda n: challenge[:n])
    check = reader._active_auth(ChipSession(transport), {15: S.dg15(S.named_spki(aa_key))})
    assert check.status == OK, check


@pytest.mark.parametrize("variant", ["other-challenge", "signature-byte", "full-recovery-header", "wrong-hash",
                                     "not-below-n", "other-key"])
def test_rsa_active_authentication_refusals(aa_key, variant):
    """A chip that does not hold the DG15 key, or answers anything else, fails (a possible clone)."""
    key = passive.load_public_key(S.named_spki(aa_key))
    challenge = b"\x10" * 8
    sig = S.iso9796_2_sign(aa_key, challenge, "sha1")
    if variant == "other-challenge":
        challenge = b"\x11" * 8
    elif variant == "signature-byte":
        sig = S.flip(sig, 40)
    elif variant == "full-recovery-header":
        sig = S.iso9796_2_sign(aa_key, challenge, "sha1", header=0x4A)
    elif variant == "wrong-hash":
        sig = S.iso9796_2_sign(aa_key, challenge, "sha1", bad_hash=True)
    elif variant == "not-below-n":
        sig = aa_key.public_key().public_numbers().n.to_bytes(128, "big")
    else:
        sig = S.iso9796_2_sign(rsa.generate_private_key(65537, 1024), challenge, "sha1")
    assert passive.verify_active_authentication(key, challenge, sig).status == FAILED


# --- DG14: chip authentication key with explicit brainpool parameters (ICAO 9303-11 §6.2) ---------------------
# BSI TR-03110-3 A.1.1.2: ChipAuthenticationPublicKeyInfo holds a SubjectPublicKeyInfo, its domain
# parameters standardized or explicit; the ChipAuthenticationInfo (protocol, key id) may be absent for
# version 1, and then 3DES is meant.
def _card_files():
    from devices.idcard.vcard.datasets import build_files
    from devices.idcard.vcard.pki import ca_scalar
    content = build_files("default")
    return content, ca_scalar(content.aa_key_seed)


def test_dg14_explicit_brainpool_key_is_parsed_as_brainpool():
    bp = ec.BRAINPOOL_P256R1
    point = bp.mul(12345, bp.g)
    key = chipauth.parse_ca_key(lds._outer(S.dg14(S.explicit_spki(bp, point)), 0x6E, "DG14").value)
    assert key.curve is bp and key.point == point and key.protocol == chipauth.ID_CA_ECDH + ".2"
    assert len(lds.parse_dg14(S.dg14(S.explicit_spki(bp, point)))) == 2


def test_dg14_without_chip_authentication_info_means_3des_and_the_key_reference_is_its_octets():
    bp = ec.BRAINPOOL_P256R1
    point = bp.mul(777, bp.g)
    v1 = chipauth.parse_ca_key(lds._outer(S.dg14(S.explicit_spki(bp, point), protocol=None), 0x6E, "DG14").value)
    assert v1.protocol == chipauth.ID_CA_ECDH + ".1"                       # 3DES
    (kat,) = chipauth.ca_commands(v1, bp.encode(point))
    assert kat.to_bytes()[:4] == b"\x00\x22\x41\xA6" and kat.data[0] == 0x91   # MSE:Set KAT (ICAO 9303-11 §6.2)
    aes = chipauth.parse_ca_key(lds._outer(S.dg14(S.explicit_spki(bp, point), key_id=195), 0x6E, "DG14").value)
    mse = chipauth.ca_commands(aes, bp.encode(point))[0]
    assert mse.data.endswith(b"\x84\x01\xC3")                               # key reference = keyId 195's octets


def _read_card(files: dict[int, bytes], trust_dir: str):
    transport = VirtualCardTransport("default")
    transport.card.content.files = files
    return CardReader(transport, trust_store=trust_dir).read(AccessKey.from_can("012345"), groups=("DG1", "DG13"))


def _with_sod(files: dict[int, bytes], build) -> dict[int, bytes]:
    """``files`` with EF.SOD rebuilt by ``build({dg: bytes})`` over the data groups the card's SOD lists."""
    listed = passive.parse_sod(files[FID_SOD]).dg_hashes
    return files | {FID_SOD: build({n: files[FID_DG[n]] for n in listed})}


def test_chip_authentication_with_an_explicit_brainpool_dg14_through_the_whole_reader():
    """The virtual card's own CA key written with explicit parameters in DG14 (SOD rebuilt): chip
    authentication succeeds on brainpoolP256r1 and the card is verified."""
    from devices.idcard.vcard.pki import CSCA_STORE, build_sod
    content, sk = _card_files()
    bp = ec.BRAINPOOL_P256R1
    files = _with_sod(content.files | {FID_DG[14]: S.dg14(S.explicit_spki(bp, bp.mul(sk, bp.g)), key_id=1)}, build_sod)
    result = _read_card(files, str(CSCA_STORE))
    assert result.checks["chip_authentication"].status == OK, result.checks["chip_authentication"]
    assert "brainpoolP256r1" in result.checks["chip_authentication"].detail
    assert result.verified


@pytest.mark.parametrize("variant", ["another-key", "curve-b-changed", "not-in-sod"])
def test_chip_authentication_refuses_tampered_explicit_dg14(variant):
    """Another key than the chip's (a copied chip cannot answer under it), parameters that do not hold
    the key, or a DG14 the SOD does not hash: never verified."""
    from devices.idcard.vcard.pki import CSCA_STORE, build_sod
    content, sk = _card_files()
    bp = ec.BRAINPOOL_P256R1
    if variant == "another-key":
        dg14 = S.dg14(S.explicit_spki(bp, bp.mul(sk + 1, bp.g)))
    elif variant == "curve-b-changed":
        dg14 = S.dg14(S.explicit_spki(bp, bp.mul(sk, bp.g), b=bp.b + 1))
    else:
        dg14 = S.dg14(S.explicit_spki(bp, bp.mul(sk, bp.g)))
    files = content.files | {FID_DG[14]: dg14}
    if variant != "not-in-sod":
        files = _with_sod(files, build_sod)
    result = _read_card(files, str(CSCA_STORE))
    if variant == "not-in-sod":
        assert result.checks["hashes"].status == FAILED
    else:
        assert result.checks["chip_authentication"].status == FAILED, result.checks["chip_authentication"]
        assert result.clone_check.status == FAILED
    assert not result.verified


# --- the whole reader on a card signed by each self-made document signer ----------------------------------------
@pytest.mark.parametrize("sod_name", ["explicit_brainpool_dsc", "explicit_unnamed_dsc", "null_params_csca", "id_data",
                                      "ber_indefinite", "rsassa_pss"])
def test_the_whole_reader_verifies_a_card_signed_by_each_class(v, sod_name, tmp_path):
    """The virtual card's data groups under an EF.SOD of each class, the class's CSCA in the trust store
    folder: read through the applet, verified."""
    sign, dsc, kw = S.sod_recipe(sod_name)
    (tmp_path / "csca.der").write_bytes(v.certs[v.issuer_of[sod_name]])
    content, _ = _card_files()
    files = _with_sod(content.files, lambda dgs: S.make_sod(dgs, sign, dsc, **kw))
    result = _read_card(files, str(tmp_path))
    assert {k: result.checks[k].status for k in PASSIVE} == dict.fromkeys(PASSIVE, OK), result.checks
    assert result.verified
    issuer = ax509.Certificate.load(dsc).issuer.native["common_name"]
    assert issuer in result.checks["chain"].detail
