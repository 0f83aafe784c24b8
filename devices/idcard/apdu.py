"""ISO 7816-4 command/response APDUs: building (short and extended length) and parsing.

Pure. ``Le`` is ``None`` when the command expects no data (SELECT is always sent without Le,
some chips refuse it), ``256`` for the short ``00`` and ``65536`` for the extended ``0000``.
"""
from __future__ import annotations

from dataclasses import dataclass

from devices.idcard.errors import ParseError

SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982            # security status not satisfied (no BAC/PACE yet)
SW_AUTH_FAILED = 0x6300         # 63CX too
SW_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_EOF_WARNING = 0x6282         # end of file reached before Le bytes
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_CONDITIONS = 0x6985
SW_SM_MISSING = 0x6987
SW_SM_WRONG = 0x6988
SW_WRONG_DATA = 0x6A80

AID_EMRTD = bytes.fromhex("A0000002471001")
FID_CARD_ACCESS = 0x011C
FID_COM = 0x011E
FID_SOD = 0x011D
FID_DG = {n: 0x0100 + n for n in range(1, 17)}      # DG1 = 0101 … DG16 = 0110
SFI = {0x011E: 0x1E, 0x011D: 0x1D, 0x011C: 0x1C, **{0x0100 + n: n for n in range(1, 17)}}


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    @property
    def extended(self) -> bool:
        return len(self.data) > 255 or (self.le is not None and self.le > 256)

    def to_bytes(self) -> bytes:
        head = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.extended:
            body = b""
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = b"\x00\x00" if self.le >= 65536 else self.le.to_bytes(2, "big")
                body += le if self.data else b"\x00" + le
            return head + body
        body = b""
        if self.data:
            body += bytes([len(self.data)]) + self.data
        if self.le is not None:
            body += bytes([0 if self.le >= 256 else self.le])
        return head + body


def parse_command(raw: bytes) -> Command:
    """Parse a command APDU (cases 1–4, short and extended); used by the virtual card."""
    if len(raw) < 4:
        raise ParseError(detail="APDU shorter than a header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return Command(cla, ins, p1, p2)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, b"", body[0] or 256)
    if body[0] != 0:
        lc = body[0]
        if len(body) == 1 + lc:
            return Command(cla, ins, p1, p2, body[1:], None)
        if len(body) == 2 + lc:
            return Command(cla, ins, p1, p2, body[1:1 + lc], body[-1] or 256)
        raise ParseError(detail="APDU length fields do not match")
    # extended
    if len(body) == 3:
        return Command(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536)
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0 or len(body) < 3 + lc:
        raise ParseError(detail="extended APDU length fields do not match")
    data = body[3:3 + lc]
    rest = body[3 + lc:]
    if not rest:
        return Command(cla, ins, p1, p2, data, None)
    if len(rest) == 2:
        return Command(cla, ins, p1, p2, data, int.from_bytes(rest, "big") or 65536)
    raise ParseError(detail="extended APDU trailing bytes")


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def parse_response(raw: bytes) -> Response:
    if len(raw) < 2:
        raise ParseError(detail="response shorter than a status word")
    return Response(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def select_ef(fid: int) -> Command:
    """SELECT EF by file identifier under the current DF, no FCI, no Le."""
    return Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def select_aid(aid: bytes = AID_EMRTD) -> Command:
    return Command(0x00, 0xA4, 0x04, 0x0C, aid)


def read_binary(offset: int, le: int) -> Command:
    if offset > 0x7FFF:
        # offsets past 32767 need the odd-INS READ BINARY with an offset data object
        return Command(0x00, 0xB1, 0x00, 0x00, b"\x54\x03" + offset.to_bytes(3, "big"), le)
    return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, b"", le)


def get_challenge() -> Command:
    return Command(0x00, 0x84, 0x00, 0x00, b"", 8)
