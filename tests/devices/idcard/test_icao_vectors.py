"""ICAO Doc 9303 Part 11 worked examples: Appendix D (BAC + 3DES SM) and Appendix G.1 (PACE ECDH-GM)."""
from __future__ import annotations

from datetime import date

from devices.idcard import bac, crypto, pace
from devices.idcard.apdu import Command, read_binary, select_ef
from devices.idcard.ec import BRAINPOOL_P256R1 as BP
from devices.idcard.mrz import key_seed_info
from devices.idcard.sm import SecureMessaging

H = bytes.fromhex


# --- Appendix D -------------------------------------------------------------------------------
def test_d2_key_derivation_parity_adjusted():
    info = key_seed_info("L898902C", date(1969, 8, 6), date(1994, 6, 23))
    assert info == "L898902C<369080619406236"
    k_enc, k_mac = bac.bac_keys(info)
    assert k_enc == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert k_mac == H("7962D9ECE03D1ACD4C76089DCE131543")


def _d3_session():
    info = "L898902C<369080619406236"
    k_enc, k_mac = bac.bac_keys(info)
    rnd_ic, rnd_ifd, k_ifd = H("4608F91988702212"), H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B")
    return k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd


def test_d3_mutual_authentication_and_session_keys():
    k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd = _d3_session()
    assert bac.mutual_auth_data(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd) == H(
        "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7")
    resp = H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
    sm = bac.session_from_response(k_enc, k_mac, rnd_ic, rnd_ifd, k_ifd, resp)
    assert sm.ks_enc == H("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert sm.ks_mac == H("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert sm.ssc == 0x887022120C06C226


def test_d3_full_bac_through_transmit_with_injected_randomness():
    sent = []
    answers = iter([(H("4608F91988702212"), 0x9000),
                    (H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449"), 0x9000)])

    def transmit(cmd):
        sent.append(cmd.to_bytes())
        return next(answers)

    rng_values = iter([H("781723860C06C226"), H("0B795240CB7049B01C19B33E32804F0B")])
    sm = bac.perform_bac(transmit, "L898902C<369080619406236", rng=lambda n: next(rng_values))
    assert sent[0] == H("0084000008")
    assert sent[1] == H("0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                        "5F1448EEA8AD90A7" "28")
    assert sm.ssc == 0x887022120C06C226


def test_d4_secure_messaging_select_and_read_binary():
    sm = SecureMessaging(H("979EC13B1CBFE9DCD01AB0FED307EAE5"), H("F1CB1F1FB5ADF208806B89DC579DC1F8"),
                         0x887022120C06C226, "3DES")
    assert sm.wrap(select_ef(0x011E)).to_bytes() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    r = sm.unwrap(H("990290008E08FA855A5D4C50A8ED9000"))
    assert (r.data, r.sw) == (b"", 0x9000)
    assert sm.wrap(read_binary(0, 4)).to_bytes() == H("0CB000000D9701048E08ED6705417E96BA5500")
    r = sm.unwrap(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"))
    assert r.data == H("60145F01") and r.ok
    assert sm.wrap(read_binary(4, 0x12)).to_bytes() == H("0CB000040D9701128E082EA28A70F3C7B53500")
    r = sm.unwrap(H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"))
    assert r.data == H("04303130365F36063034303030305C026175")


def test_d4_tampered_response_is_refused():
    import pytest
    from devices.idcard.errors import SecureMessagingError
    sm = SecureMessaging(H("979EC13B1CBFE9DCD01AB0FED307EAE5"), H("F1CB1F1FB5ADF208806B89DC579DC1F8"),
                         0x887022120C06C226, "3DES")
    sm.wrap(select_ef(0x011E))
    sm.unwrap(H("990290008E08FA855A5D4C50A8ED9000"))
    sm.wrap(read_binary(0, 4))
    with pytest.raises(SecureMessagingError):
        sm.unwrap(H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DEE9000"))


# --- Appendix G.1 -----------------------------------------------------------------------------
OID = "0.4.0.127.0.7.2.2.4.2.2"
Z = H("95A3A016522EE98D01E76CB6B98B42C3")
SK_MAP_IFD = H("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
SK_DH_IFD = H("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
PK_MAP_IFD = H("047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
               "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")
PK_MAP_IC = H("04824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
              "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54")
H_PT = H("0460332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
         "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181")
G_HAT = H("048CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
          "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522")
PK_DH_IFD = H("042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
              "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
PK_DH_IC = H("049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
             "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
G_MRZ = "T22000129364081251010318"


def test_g1_password_and_nonce():
    pw = pace.PacePassword.mrz(G_MRZ)
    assert pw.secret == H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
    k_pi = crypto.kdf(pw.secret, crypto.PI, "AES", 16)
    assert k_pi == H("89DED1B26624EC1E634C1989302849DD")
    assert pace.decrypt_nonce("AES", k_pi, Z) == H("3F00C4D39D153F2B2A214A078D899B22")


def test_g1_generic_mapping_and_key_agreement():
    sk_map = int.from_bytes(SK_MAP_IFD, "big")
    assert BP.encode(BP.mul(sk_map, BP.g)) == PK_MAP_IFD
    h = BP.mul(sk_map, BP.decode(PK_MAP_IC))
    assert BP.encode(h) == H_PT
    g_hat = BP.add(BP.mul(0x3F00C4D39D153F2B2A214A078D899B22, BP.g), h)
    assert BP.encode(g_hat) == G_HAT
    sk_dh = int.from_bytes(SK_DH_IFD, "big")
    assert BP.encode(BP.mul(sk_dh, g_hat)) == PK_DH_IFD
    shared = BP.mul(sk_dh, BP.decode(PK_DH_IC))[0].to_bytes(32, "big")
    assert shared == H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    assert crypto.kdf(shared, 1, "AES", 16) == H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    assert crypto.kdf(shared, 2, "AES", 16) == H("FE251C7858B356B24514B3BD5F4297D1")


def test_g1_whole_transcript_byte_for_byte():
    script = [
        ("0022C1A40F800A04007F00070202040202830101", "9000"),
        ("10860000027C0000", "7C128010" + Z.hex() + "9000"),
        ("10860000457C438141" + PK_MAP_IFD.hex() + "00", "7C438241" + PK_MAP_IC.hex() + "9000"),
        ("10860000457C438341" + PK_DH_IFD.hex() + "00", "7C438441" + PK_DH_IC.hex() + "9000"),
        ("008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C089000"),
    ]
    it = iter(script)

    def transmit(cmd: Command):
        want, answer = next(it)
        assert cmd.to_bytes() == H(want)
        raw = H(answer)
        return raw[:-2], int.from_bytes(raw[-2:], "big")

    keys = iter([SK_MAP_IFD, SK_DH_IFD])
    sm = pace.perform_pace(transmit, pace.PacePassword.mrz(G_MRZ), OID, 13, rng=lambda n: next(keys),
                           send_parameter_id=False)
    assert next(it, None) is None
    assert (sm.ks_enc, sm.ks_mac, sm.ssc) == (H("F5F0E35C0D7161EE6724EE513A0D9A7F"), H("FE251C7858B356B24514B3BD5F4297D1"), 0)
    # the first command under the new AES session keys (SSC 0 → 1)
    from devices.idcard.apdu import select_aid
    assert sm.wrap(select_aid()).to_bytes() == H(
        "0CA4040C1D871101752F676B09FAC86A87D632749A49C7CC8E08C18BA1FCE707BD9F00")
    assert sm.unwrap(H("990290008E08BEA7B381C494A0799000")).ok
