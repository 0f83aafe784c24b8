"""Secure messaging (ICAO 9303 p11 §9.8): 3DES after BAC, AES after PACE.

Terminal side (``wrap`` / ``unwrap``) and chip side (``unwrap_command`` / ``wrap_response``, used by
the virtual card) share the same key schedule and send-sequence counter rules, so one object
per direction of use. Every protected response has its MAC checked before anything is decrypted;
a mismatch raises :class:`SecureMessagingError` and the session must be dropped.
"""
from __future__ import annotations

import hmac

from devices.idcard import crypto, tlv
from devices.idcard.apdu import Command, Response, parse_response
from devices.idcard.errors import ParseError, SecureMessagingError


class SecureMessaging:
    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: int, cipher: str):
        if cipher not in ("3DES", "AES"):
            raise ValueError(cipher)
        self.ks_enc, self.ks_mac, self.ssc, self.cipher = ks_enc, ks_mac, ssc, cipher
        self.bs = 8 if cipher == "3DES" else 16

    # --- primitives --------------------------------------------------------------------------
    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.bs, "big")

    def _iv(self) -> bytes:
        if self.cipher == "3DES":
            return b"\x00" * 8
        return crypto.aes_ecb(self.ks_enc, self._ssc_bytes())

    def _encrypt(self, data: bytes) -> bytes:
        padded = crypto.pad(data, self.bs)
        if self.cipher == "3DES":
            return crypto.des3_encrypt(self.ks_enc, padded)
        return crypto.aes_encrypt(self.ks_enc, padded, self._iv())

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.bs:
            raise SecureMessagingError(detail="cryptogram length is not a multiple of the block size")
        if self.cipher == "3DES":
            plain = crypto.des3_decrypt(self.ks_enc, data)
        else:
            plain = crypto.aes_decrypt(self.ks_enc, data, self._iv())
        try:
            return crypto.unpad(plain)
        except ValueError:
            raise SecureMessagingError(detail="bad padding in cryptogram") from None

    def mac(self, data: bytes) -> bytes:
        msg = crypto.pad(self._ssc_bytes() + data, self.bs)
        if self.cipher == "3DES":
            return crypto.retail_mac(self.ks_mac, msg)
        return crypto.aes_cmac(self.ks_mac, msg)[:8]

    @staticmethod
    def _le_bytes(le: int, extended: bool) -> bytes:
        if extended:
            return b"\x00\x00" if le >= 65536 else le.to_bytes(2, "big")
        return bytes([0 if le >= 256 else le])

    # --- terminal side -----------------------------------------------------------------------
    def wrap(self, cmd: Command) -> Command:
        self.ssc += 1
        header = bytes([cmd.cla | 0x0C, cmd.ins, cmd.p1, cmd.p2])
        body = b""
        if cmd.data:
            if cmd.ins & 1:
                body += tlv.encode(0x85, self._encrypt(cmd.data))
            else:
                body += tlv.encode(0x87, b"\x01" + self._encrypt(cmd.data))
        extended = cmd.extended or len(cmd.data) > 200
        if cmd.le is not None:
            body += tlv.encode(0x97, self._le_bytes(cmd.le, extended))
        mac = self.mac(crypto.pad(header, self.bs) + body)
        body += tlv.encode(0x8E, mac)
        # the protected APDU always asks for the response objects (ICAO 9303 p11 App. D.4)
        return Command(header[0], cmd.ins, cmd.p1, cmd.p2, body, 65536 if extended else 256)

    def unwrap(self, raw: bytes) -> Response:
        self.ssc += 1
        resp = parse_response(raw)
        if not resp.data:
            if resp.ok:
                raise SecureMessagingError(detail="unprotected success answer inside a secure session")
            # an error the chip answered in the clear: it carries no data, so nothing to trust
            return resp
        try:
            objs = tlv.decode_all(resp.data)
        except ParseError:
            raise SecureMessagingError(detail="garbled protected response") from None
        do87 = do99 = do8e = None
        covered = b""
        for o in objs:
            if o.tag in (0x85, 0x87):
                do87 = o
                covered += o.raw
            elif o.tag == 0x99:
                do99 = o
                covered += o.raw
            elif o.tag == 0x8E:
                do8e = o
        if do8e is None or do99 is None or len(do99.value) != 2:
            raise SecureMessagingError(detail="protected response lacks DO99 or DO8E")
        if not hmac.compare_digest(self.mac(covered), do8e.value):
            raise SecureMessagingError(detail="response MAC does not match")
        data = b""
        if do87 is not None:
            value = do87.value
            if do87.tag == 0x87:
                if not value or value[0] != 0x01:
                    raise SecureMessagingError(detail="unknown padding indicator")
                value = value[1:]
            data = self._decrypt(value)
        return Response(data, int.from_bytes(do99.value, "big"))

    # --- chip side ---------------------------------------------------------------------------
    def unwrap_command(self, cmd: Command) -> Command:
        """Verify and decrypt a protected command (virtual card)."""
        self.ssc += 1
        if cmd.cla & 0x0C != 0x0C:
            raise SecureMessagingError(detail="command not protected")
        objs = tlv.decode_all(cmd.data)
        header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2])
        covered, data, le, mac = b"", b"", None, None
        for o in objs:
            if o.tag in (0x85, 0x87, 0x97):
                covered += o.raw
            if o.tag == 0x87:
                if not o.value or o.value[0] != 1:
                    raise SecureMessagingError(detail="unknown padding indicator")
                data = o.value[1:]
            elif o.tag == 0x85:
                data = o.value
            elif o.tag == 0x97:
                le = int.from_bytes(o.value, "big") or (256 if len(o.value) == 1 else 65536)
            elif o.tag == 0x8E:
                mac = o.value
        if mac is None or not hmac.compare_digest(self.mac(crypto.pad(header, self.bs) + covered), mac):
            raise SecureMessagingError(detail="command MAC does not match")
        plain = self._decrypt(data) if data else b""
        return Command(cmd.cla & ~0x0C & 0xFF, cmd.ins, cmd.p1, cmd.p2, plain, le)

    def wrap_response(self, data: bytes, sw: int) -> bytes:
        self.ssc += 1
        body = b""
        if data:
            body += tlv.encode(0x87, b"\x01" + self._encrypt(data))
        body += tlv.encode(0x99, sw.to_bytes(2, "big"))
        body += tlv.encode(0x8E, self.mac(body))
        return body + sw.to_bytes(2, "big")

    def response_size(self, data_len: int) -> int:
        """Bytes a protected response with ``data_len`` plain bytes takes (for Le checks)."""
        size = 4 + 10 + 2
        if data_len:
            enc = data_len + self.bs - data_len % self.bs
            size += len(tlv.encode_length(enc + 1)) + 1 + 1 + enc
        return size
