"""One conversation with a chip: plain or secure-messaging exchanges, file reads with negotiated
READ BINARY sizes, cancellation, deadline and a redacted APDU log.

READ BINARY size: the first read of a session tries the sizes of its ladder in order (by default
an extended-length Le, then 256, 224, 192, 160, 128; a reader's quirks entry may give another,
:mod:`devices.idcard.quirks`), stepping down on 6700 / 6B00 / 6282-without-data and trying the
length a 6Cxx names, and keeps the first size that worked for the rest of the session. Short sizes
whose answer cannot fit the reader's largest response (``max_response``: 258 bytes, a short APDU,
unless the reader carries less; under secure messaging 256 under 3DES, 256 and 224 under AES do not
fit) are skipped without asking. A reader that drops the exchange of a size it cannot carry
(SCardTransmit fails) takes the connection and the session keys with it: :class:`SizeRefused` tells
the caller which size, to start over without it. A file then costs one SELECT plus
ceil(size / block) reads.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from devices.idcard import tlv
from devices.idcard.apdu import (SW_EOF_WARNING, SW_NOT_FOUND, SW_OK, SW_SECURITY, SW_WRONG_LENGTH, SW_WRONG_P1P2,
                                 Command, Response, parse_response, read_binary, select_ef)
from devices.idcard.errors import (Cancelled, CardTimeout, ParseError, ReaderUnavailable, SecureMessagingError,
                                   StatusError, UnsupportedCard)
from devices.idcard.sm import SecureMessaging

EXTENDED = 65536
LADDER = (EXTENDED, 256, 224, 192, 160, 128)
SHORT_RESPONSE = 256 + 2          # the most a short APDU answers: 256 data bytes and SW1 SW2
_INS = {0xA4: "SELECT", 0xB0: "READ BINARY", 0xB1: "READ BINARY", 0x84: "GET CHALLENGE",
        0x82: "MUTUAL AUTH", 0x22: "MSE SET AT", 0x86: "GENERAL AUTH", 0x88: "INTERNAL AUTH"}


class SizeRefused(ReaderUnavailable):
    """The reader dropped a READ BINARY of ``size`` while the session was finding its size (the
    transport failed, the card is still there): it cannot carry that size. The connection is gone
    with the session keys; the reader starts over without ``size`` and the sizes above it."""

    def __init__(self, *, size: int = 0, **texts):
        self.size = size
        super().__init__(**texts)


class ChipSession:
    def __init__(self, transport, *, cancel: threading.Event | None = None, deadline: float | None = None,
                 ladder: tuple[int, ...] = LADDER, max_response: int = SHORT_RESPONSE):
        self.transport = transport
        self.cancel = cancel
        self.deadline = deadline
        self.ladder = ladder
        self.max_response = max_response
        self.sm: SecureMessaging | None = None
        self.block: int | None = None
        self.apdus = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self.log: list[str] = []
        self.on_bytes: Callable[[int], None] | None = None

    def _guard(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled(detail="read cancelled")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise CardTimeout(detail="read took longer than allowed")

    def exchange(self, cmd: Command) -> Response:
        self._guard()
        wire = self.sm.wrap(cmd) if self.sm else cmd
        raw_cmd = wire.to_bytes()
        raw = self.transport.transmit(raw_cmd)
        self.apdus += 1
        self.bytes_sent += len(raw_cmd)
        self.bytes_received += len(raw)
        try:
            resp = self.sm.unwrap(raw) if self.sm else parse_response(raw)
        except SecureMessagingError:
            self.log.append(f"{self.apdus:03d} {_INS.get(cmd.ins, hex(cmd.ins))} SM-CHECK-FAILED ({len(raw)} bytes)")
            self.sm = None
            raise
        except ParseError as exc:
            raise SecureMessagingError(detail=f"garbled answer: {exc}") from None
        le = "" if cmd.le is None else f" Le={cmd.le}"
        if cmd.ins == 0xA4:      # file and application identifiers are not personal: name them
            le += f" [{cmd.data.hex().upper()}]"
        self.log.append(f"{self.apdus:03d} {'SM ' if self.sm else ''}{_INS.get(cmd.ins, f'INS {cmd.ins:02X}')} "
                        f"P1P2={cmd.p1:02X}{cmd.p2:02X} Lc={len(cmd.data)}{le} -> {len(resp.data)} bytes "
                        f"SW={resp.sw:04X} (wire {len(raw_cmd)}/{len(raw)})")
        return resp

    def plain(self, cmd: Command) -> tuple[bytes, int]:
        """Exchange for BAC/PACE, which build their own commands."""
        r = self.exchange(cmd)
        return r.data, r.sw

    def select(self, fid: int) -> bool:
        r = self.exchange(select_ef(fid))
        if r.sw == SW_NOT_FOUND:
            return False
        if r.sw == SW_SECURITY:
            raise StatusError(sw=r.sw, detail=f"SELECT {fid:04X}: access denied")
        if not r.ok:
            raise StatusError(sw=r.sw, detail=f"SELECT {fid:04X}")
        return True

    def answer_size(self, le: int) -> int:
        """Bytes the answer to a READ BINARY of ``le`` takes on the wire, SW1 SW2 included."""
        return self.sm.response_size(le) if self.sm is not None else le + 2

    def _read(self, offset: int, le: int) -> Response:
        r = self.exchange(read_binary(offset, le))
        if r.sw == SW_EOF_WARNING and r.data:
            return Response(r.data, SW_OK)
        return r

    def read_file(self, fid: int, ladder: tuple[int, ...] | None = None) -> bytes | None:
        """Contents of an EF (None when the chip does not have it)."""
        if not self.select(fid):
            return None
        if self.block is None:
            first = None
            sizes = list(ladder or self.ladder)
            tried: set[int] = set()
            while sizes:
                le = sizes.pop(0)
                if le in tried or (le <= 256 and self.answer_size(le) > self.max_response):
                    continue            # the answer to this Le cannot reach us in one piece: no need to ask
                tried.add(le)
                try:
                    r = self._read(0, le)
                except (OSError, ConnectionError):
                    if le > 256:            # a transport that refuses extended APDUs and stays connected
                        continue
                    raise
                except SizeRefused:
                    raise
                except ReaderUnavailable as exc:
                    raise SizeRefused(size=le, detail=f"READ BINARY {fid:04X} with Le={le}: {exc.detail}") from None
                if r.sw >> 8 == 0x6C and not r.data:
                    # "wrong length, xx available": ask for exactly that next, if it is smaller
                    hint = r.sw & 0xFF or 256
                    if hint < le and hint not in tried:
                        sizes.insert(0, hint)
                    continue
                if r.sw in (SW_WRONG_LENGTH, SW_WRONG_P1P2, SW_EOF_WARNING) and not r.data:
                    continue
                if r.sw == SW_SECURITY:
                    raise StatusError(sw=r.sw, detail=f"READ BINARY {fid:04X}: access denied")
                if not r.ok:
                    raise StatusError(sw=r.sw, detail=f"READ BINARY {fid:04X}")
                self.block, first = le, r
                break
            if first is None:
                raise UnsupportedCard(detail="no READ BINARY size accepted")
        else:
            first = self._read(0, self.block)
            if not first.ok:
                raise StatusError(sw=first.sw, detail=f"READ BINARY {fid:04X}")
        buf = bytearray(first.data)
        try:
            _, total = tlv.header_length(bytes(buf))
        except ParseError:
            raise SecureMessagingError(detail=f"file {fid:04X} does not start with a TLV header") from None
        if self.on_bytes:
            self.on_bytes(len(buf))
        while len(buf) < total:
            want = min(self.block, total - len(buf))
            r = self._read(len(buf), want)
            if r.sw >> 8 == 0x6C and not r.data and 0 < (r.sw & 0xFF) < want:
                r = self._read(len(buf), r.sw & 0xFF)     # the card names the length it can give here
            if r.sw in (SW_EOF_WARNING, SW_WRONG_P1P2) and not r.data:
                raise ParseError(detail=f"file {fid:04X} is shorter than its TLV length")
            if not r.ok:
                raise StatusError(sw=r.sw, detail=f"READ BINARY {fid:04X} at {len(buf)}")
            if not r.data:
                raise SecureMessagingError(detail=f"file {fid:04X} ended early")
            buf += r.data
            if self.on_bytes:
                self.on_bytes(len(r.data))
        return bytes(buf[:total])
