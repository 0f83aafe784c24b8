"""The virtual chip: an ISO 7816 / ICAO 9303 applet state machine over raw APDU bytes.

Enforces access control: data groups, EF.COM and EF.SOD are readable only under secure messaging
established by BAC or PACE; EF.CardAccess is readable in the clear; SELECT MF answers 6D00 like
the real Vietnamese cards. Any SM error drops the session (ICAO 9303 p11 §9.8.6).
"""
from __future__ import annotations

import hmac
import os
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from devices.idcard import bac as bac_mod, crypto, pace as pace_mod, tlv
from devices.idcard.apdu import AID_EMRTD, SFI, Command, parse_command
from devices.idcard.chipauth import CA_ECDH
from devices.idcard.ec import BRAINPOOL_P256R1, PARAMETER_IDS
from devices.idcard.errors import ParseError, SecureMessagingError
from devices.idcard.securityinfo import PACE_ECDH_GM
from devices.idcard.sm import SecureMessaging
from devices.idcard.vcard import pki
from devices.idcard.vcard.datasets import DATASETS, build_files

ATR = bytes.fromhex("3B8880014241434B564E3031B4")   # T=1 contactless-style ATR ("BACKVN01")
SHORT_MAX = 256
EAC_FILES = frozenset({0x0103, 0x0104})   # DG3, DG4: readable only after terminal authentication (EAC)


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


class VirtualCard:
    def __init__(self, dataset: str = "default", rng: Callable[[int], bytes] = os.urandom):
        if dataset not in DATASETS:
            raise KeyError(f"unknown data set {dataset!r}; known: {', '.join(DATASETS)}")
        self.dataset = DATASETS[dataset]
        self.content = build_files(dataset)
        self.rng = rng
        self.aa_key = pki.aa_key(self.content.aa_key_seed)
        self.ca_key = pki.ca_scalar(self.content.aa_key_seed)
        self.apdu_count = 0
        self.reset()

    @property
    def atr(self) -> bytes:
        return ATR

    def reset(self) -> None:
        self.app_selected = False
        self.current: int | None = None
        self.sm: SecureMessaging | None = None
        self.challenge: bytes | None = None
        self.pace: dict | None = None
        self.ca_protocol: str | None = None
        self.next_sm: SecureMessaging | None = None

    # --- dispatch ----------------------------------------------------------------------------
    def process(self, raw: bytes) -> bytes:
        self.apdu_count += 1
        try:
            cmd = parse_command(raw)
        except ParseError:
            return _sw(0x6700)
        if cmd.cla & 0x0C == 0x0C:
            if self.sm is None:
                return _sw(0x6882)       # secure messaging not supported (no session)
            extended_cmd = cmd.extended
            try:
                inner = self.sm.unwrap_command(cmd)
            except (SecureMessagingError, ParseError):
                self.sm = None
                return _sw(0x6988)
            data, sw = self._handle(inner, protected=True, extended=extended_cmd)
            if self.sm is None:          # the command ended the session
                return _sw(sw)
            if data and self.sm.response_size(len(data)) - 2 > (65536 if extended_cmd else SHORT_MAX):
                data, sw = b"", 0x6700
            out = self.sm.wrap_response(data, sw)
            if self.next_sm is not None:  # chip authentication: the answer goes under the old keys
                self.sm, self.next_sm = self.next_sm, None
            return out
        if self.sm is not None and cmd.ins not in (0x22, 0x86, 0x84, 0x82):
            # a plain command inside a session aborts it
            self.sm = None
            return _sw(0x6987)
        data, sw = self._handle(cmd, protected=False, extended=cmd.extended)
        return _sw(sw, data)

    def _handle(self, cmd: Command, protected: bool, extended: bool) -> tuple[bytes, int]:
        if extended and not self.dataset.extended_length:
            return b"", 0x6700
        if cmd.cla & 0x10 and cmd.ins != 0x86:
            return b"", 0x6884
        ins = cmd.ins
        if ins == 0xA4:
            return self._select(cmd, protected)
        if ins in (0xB0, 0xB1):
            return self._read_binary(cmd, protected)
        if ins == 0x84:
            return self._get_challenge(cmd)
        if ins == 0x82:
            return self._mutual_auth(cmd)
        if ins == 0x22:
            return self._mse_set_at(cmd)
        if ins == 0x86:
            return self._general_auth(cmd)
        if ins == 0x88:
            return self._internal_auth(cmd, protected)
        return b"", 0x6D00

    # --- files -------------------------------------------------------------------------------
    def _select(self, cmd: Command, protected: bool) -> tuple[bytes, int]:
        if cmd.le is not None and cmd.p2 & 0x0C == 0x0C:
            return b"", 0x6700
        if cmd.p1 == 0x04:
            if cmd.data == AID_EMRTD:
                self.app_selected = True
                self.current = None
                return b"", 0x9000
            return b"", 0x6A82
        if cmd.p1 == 0x00 and cmd.data in (b"", b"\x3F\x00"):
            return b"", 0x6D00            # like the CCCD: no SELECT MF
        if cmd.p1 in (0x02, 0x00) and len(cmd.data) == 2:
            fid = int.from_bytes(cmd.data, "big")
            if fid == 0x011C:
                if fid not in self.content.files:
                    return b"", 0x6A82
                self.current = fid
                return b"", 0x9000
            if not self.app_selected or fid not in self.content.files:
                return b"", 0x6A82
            if not protected or fid in EAC_FILES:
                return b"", 0x6982      # as the CCCD answers SELECT DG3 under BAC/PACE
            self.current = fid
            return b"", 0x9000
        return b"", 0x6A86

    def _read_binary(self, cmd: Command, protected: bool) -> tuple[bytes, int]:
        if cmd.ins == 0xB1:
            try:
                off_do = tlv.decode_all(cmd.data)[0]
            except (ParseError, IndexError):
                return b"", 0x6A80
            offset = int.from_bytes(off_do.value, "big")
            fid = self.current
        elif cmd.p1 & 0x80:
            sfi = cmd.p1 & 0x1F
            fid = next((f for f in self.content.files if SFI.get(f) == sfi), None)
            if fid is None:
                return b"", 0x6A82
            if (fid != 0x011C and not protected) or fid in EAC_FILES:
                return b"", 0x6982
            self.current = fid
            offset = cmd.p2
        else:
            fid = self.current
            offset = (cmd.p1 << 8) | cmd.p2
        if fid is None:
            return b"", 0x6986
        if fid != 0x011C and not protected:
            return b"", 0x6982
        data = self.content.files[fid]
        if (cmd.le or 0) > self.dataset.max_le:
            return b"", 0x6700
        if offset > len(data):
            return b"", 0x6B00
        le = cmd.le or 0
        chunk = data[offset:offset + le]
        if len(chunk) < le:
            return chunk, 0x6282 if not chunk else 0x9000
        return chunk, 0x9000

    # --- BAC ---------------------------------------------------------------------------------
    def _get_challenge(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.le != 8:
            return b"", 0x6700
        self.challenge = self.rng(8)
        return self.challenge, 0x9000

    def _mutual_auth(self, cmd: Command) -> tuple[bytes, int]:
        if not self.dataset.bac:
            return b"", 0x6D00
        if self.challenge is None or len(cmd.data) != 40 or not self.app_selected:
            return b"", 0x6985
        k_enc, k_mac = bac_mod.bac_keys(self.content.mrz_info_key)
        e_ifd, m_ifd = cmd.data[:32], cmd.data[32:]
        rnd_ic, self.challenge = self.challenge, None
        if not hmac.compare_digest(crypto.retail_mac(k_mac, crypto.pad(e_ifd)), m_ifd):
            return b"", 0x6300
        plain = crypto.des3_decrypt(k_enc, e_ifd)
        rnd_ifd, got_ic, k_ifd = plain[:8], plain[8:16], plain[16:]
        if got_ic != rnd_ic:
            return b"", 0x6300
        k_ic = self.rng(16)
        e_ic = crypto.des3_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        resp = e_ic + crypto.retail_mac(k_mac, crypto.pad(e_ic))
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic))
        self.sm = SecureMessaging(crypto.kdf(seed, 1), crypto.kdf(seed, 2),
                                  int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big"), "3DES")
        return resp, 0x9000

    # --- PACE --------------------------------------------------------------------------------
    def _mse_set_at(self, cmd: Command) -> tuple[bytes, int]:
        if cmd.p1 == 0x41 and cmd.p2 == 0xA4:      # chip authentication (AES): remember the protocol
            try:
                dos = {d.tag: d.value for d in tlv.decode_all(cmd.data)}
                self.ca_protocol = tlv.decode_oid(dos[0x80])
            except (ParseError, KeyError):
                return b"", 0x6A80
            return (b"", 0x9000) if self.sm is not None and self.ca_protocol in CA_ECDH else (b"", 0x6A80)
        if (cmd.p1, cmd.p2) != (0xC1, 0xA4) or not self.dataset.pace:
            return b"", 0x6A80
        try:
            dos = {d.tag: d.value for d in tlv.decode_all(cmd.data)}
            oid = tlv.decode_oid(dos[0x80])
            ref = dos[0x83][0]
        except (ParseError, KeyError, IndexError):
            return b"", 0x6A80
        param = dos.get(0x84, b"\x0D")[0] if dos.get(0x84) else 13
        if oid not in PACE_ECDH_GM or param not in PARAMETER_IDS or ref not in (1, 2):
            return b"", 0x6A80
        secret = (pace_mod.PacePassword.can(self.content.can) if ref == 2
                  else pace_mod.PacePassword.mrz(self.content.mrz_info_key)).secret
        self.sm = None
        self.pace = {"oid": oid, "curve": PARAMETER_IDS[param], "secret": secret, "step": 1}
        return b"", 0x9000

    def _chip_auth(self, cmd: Command) -> tuple[bytes, int]:
        try:
            dyn = tlv.decode(cmd.data)
            pk = BRAINPOOL_P256R1.decode(dyn.find(0x80).value)
        except (ParseError, AttributeError):
            return b"", 0x6A80
        cipher, key_len = CA_ECDH[self.ca_protocol]
        k = BRAINPOOL_P256R1.mul(self.ca_key, pk)[0].to_bytes(32, "big")
        self.ca_protocol = None
        self.next_sm = SecureMessaging(crypto.kdf(k, 1, cipher, key_len), crypto.kdf(k, 2, cipher, key_len), 0, cipher)
        return tlv.encode(0x7C, b""), 0x9000

    def _general_auth(self, cmd: Command) -> tuple[bytes, int]:
        if self.ca_protocol is not None and self.sm is not None and self.pace is None:
            return self._chip_auth(cmd)
        p = self.pace
        if p is None:
            return b"", 0x6985
        try:
            dyn = tlv.decode(cmd.data)
            if dyn.tag != 0x7C:
                raise ParseError(detail="no 7C")
            items = {d.tag: d.value for d in dyn.parse()}
        except ParseError:
            self.pace = None
            return b"", 0x6A80
        cipher, key_len = PACE_ECDH_GM[p["oid"]]
        curve = p["curve"]
        step = p["step"]
        try:
            if step == 1 and not items:
                s = self.rng(16 if cipher == "AES" else 8)
                p["s"] = int.from_bytes(s, "big")
                k_pi = crypto.kdf(p["secret"], crypto.PI, cipher, key_len)
                z = crypto.aes_encrypt(k_pi, s) if cipher == "AES" else crypto.des3_encrypt(k_pi, s)
                p["step"] = 2
                return tlv.encode(0x7C, tlv.encode(0x80, z)), 0x9000
            if step == 2 and 0x81 in items:
                pk_ifd = curve.decode(items[0x81])
                sk = pace_mod.random_scalar(curve, self.rng)
                h = curve.mul(sk, pk_ifd)
                p["g"] = curve.add(curve.mul(p["s"], curve.g), h)
                p["step"] = 3
                return tlv.encode(0x7C, tlv.encode(0x82, curve.encode(curve.mul(sk, curve.g)))), 0x9000
            if step == 3 and 0x83 in items:
                pk_ifd = curve.decode(items[0x83])
                sk = pace_mod.random_scalar(curve, self.rng)
                pk_ic = curve.mul(sk, p["g"])
                k = curve.mul(sk, pk_ifd)[0].to_bytes(curve.size, "big")
                p.update(pk_ifd=pk_ifd, pk_ic=pk_ic, step=4,
                         ks_enc=crypto.kdf(k, 1, cipher, key_len), ks_mac=crypto.kdf(k, 2, cipher, key_len))
                return tlv.encode(0x7C, tlv.encode(0x84, curve.encode(pk_ic))), 0x9000
            if step == 4 and 0x85 in items and not cmd.cla & 0x10:
                want = pace_mod.auth_token(cipher, p["ks_mac"], p["oid"], curve, p["pk_ic"])
                self.pace = None
                if not hmac.compare_digest(items[0x85], want):
                    return b"", 0x6300
                t_ic = pace_mod.auth_token(cipher, p["ks_mac"], p["oid"], curve, p["pk_ifd"])
                self.sm = SecureMessaging(p["ks_enc"], p["ks_mac"], 0, cipher)
                return tlv.encode(0x7C, tlv.encode(0x86, t_ic)), 0x9000
        except ParseError:
            self.pace = None
            return b"", 0x6A80
        self.pace = None
        return b"", 0x6985

    # --- active authentication ---------------------------------------------------------------
    def _internal_auth(self, cmd: Command, protected: bool) -> tuple[bytes, int]:
        if not protected:
            return b"", 0x6982
        if len(cmd.data) != 8:
            return b"", 0x6700
        r, s = decode_dss_signature(self.aa_key.sign(cmd.data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big"), 0x9000
