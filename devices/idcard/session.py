"""One conversation with a chip: plain or secure-messaging exchanges, file reads with negotiated
READ BINARY sizes, cancellation, deadline and a redacted APDU log.

READ BINARY size: the first read of a session tries an extended-length Le, then 256, 224, 192,
160, 128, stepping down on 6700 / 6B00 / 6282-without-data, and keeps the first size that worked
for the rest of the session. Short sizes whose protected answer cannot fit in 256 bytes (256 under
3DES; 256 and 224 under AES) are skipped without asking. A file then costs one SELECT plus
ceil(size / block) reads.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from devices.idcard import tlv
from devices.idcard.apdu import (SW_EOF_WARNING, SW_NOT_FOUND, SW_OK, SW_SECURITY, SW_WRONG_LENGTH, SW_WRONG_P1P2,
                                 Command, Response, parse_response, read_binary, select_ef)
from devices.idcard.errors import (Cancelled, CardTimeout, ParseError, SecureMessagingError, StatusError,
                                   UnsupportedCard)
from devices.idcard.sm import SecureMessaging

EXTENDED = 65536
LADDER = (EXTENDED, 256, 224, 192, 160, 128)
_INS = {0xA4: "SELECT", 0xB0: "READ BINARY", 0xB1: "READ BINARY", 0x84: "GET CHALLENGE",
        0x82: "MUTUAL AUTH", 0x22: "MSE SET AT", 0x86: "GENERAL AUTH", 0x88: "INTERNAL AUTH"}


class ChipSession:
    def __init__(self, transport, *, cancel: threading.Event | None = None, deadline: float | None = None,
                 ladder: tuple[int, ...] = LADDER):
        self.transport = transport
        self.cancel = cancel
        self.deadline = deadline
        self.ladder = ladder
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
            for le in ladder or self.ladder:
                if le != EXTENDED and self.sm is not None and self.sm.response_size(le) - 2 > 256:
                    # the protected answer to this Le cannot fit a short response: no need to ask
                    continue
                try:
                    r = self._read(0, le)
                except (OSError, ConnectionError):
                    if le == EXTENDED:      # a reader without extended APDUs may fail at transport level
                        continue
                    raise
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
