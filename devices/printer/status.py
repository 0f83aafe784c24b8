"""DLE EOT real-time status: the bytes a printer answers and what they mean. Pure.

DLE EOT n (10 04 n) asks: n=1 printer status, n=2 offline cause, n=3 error cause, n=4 paper
roll sensor. Each answer is one byte whose bits 1 and 4 are always set and bits 0 and 7 clear
(0x12 with flags); a byte without that frame is not a status answer and is treated as unknown.
Vendors differ on which sensors they report: anything not answered stays "unknown", never "ok".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER = 1, 2, 3, 4
QUERIES = (PRINTER, OFFLINE_CAUSE, PAPER)
_FRAME_MASK, _FRAME = 0x93, 0x12

# bits
OFFLINE = 0x08            # n=1
COVER_OPEN = 0x04         # n=2
PAPER_STOP = 0x20         # n=2: printing stopped because the paper ran out
NEAR_END = 0x0C           # n=4: near-end sensor (bits 2 and 3)
PAPER_OUT = 0x60          # n=4: roll-end sensor (bits 5 and 6)

PAPER_STATES = ("ok", "near_end", "out", "unknown")


def query(n: int) -> bytes:
    return bytes((0x10, 0x04, n))


def valid(byte: int | None) -> bool:
    return byte is not None and (byte & _FRAME_MASK) == _FRAME


@dataclass
class PrinterStatus:
    online: bool | None = None          # None: unknown
    paper: str = "unknown"              # ok | near_end | out | unknown
    cover_open: bool | None = None
    reachable: bool | None = None       # False: the connection failed; None: not tried
    raw: dict[int, int | None] = field(default_factory=dict)  # query n → answer byte
    detail: str = ""

    @property
    def known(self) -> bool:
        return self.online is not None or self.paper != "unknown" or self.cover_open is not None

    @property
    def can_print(self) -> bool | None:
        """False when something known stops printing; None when nothing is known."""
        if self.reachable is False or self.paper == "out" or self.cover_open or self.online is False:
            return False
        return True if self.known else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["raw"] = {str(k): (None if v is None else f"0x{v:02X}") for k, v in self.raw.items()}
        d["known"] = self.known
        d["can_print"] = self.can_print
        return d


def parse(raw: dict[int, int | None]) -> PrinterStatus:
    """Answers to DLE EOT 1, 2 and 4 (any may be missing or None) → PrinterStatus."""
    st = PrinterStatus(raw=dict(raw), reachable=True)
    b1, b2, b4 = raw.get(PRINTER), raw.get(OFFLINE_CAUSE), raw.get(PAPER)
    if valid(b1):
        st.online = not (b1 & OFFLINE)
    if valid(b2):
        st.cover_open = bool(b2 & COVER_OPEN)
    if valid(b4):
        if b4 & PAPER_OUT:
            st.paper = "out"
        elif b4 & NEAR_END:
            st.paper = "near_end"
        else:
            st.paper = "ok"
    elif valid(b2) and b2 & PAPER_STOP:
        st.paper = "out"
    return st


def answer(n: int, *, online: bool = True, paper: str = "ok", cover_open: bool = False) -> int:
    """The byte a printer in this state answers to DLE EOT n (used by the emulator)."""
    b = _FRAME
    stopped = paper == "out" or cover_open
    if n == PRINTER and (not online or stopped):
        b |= OFFLINE
    elif n == OFFLINE_CAUSE:
        if cover_open:
            b |= COVER_OPEN
        if paper == "out":
            b |= PAPER_STOP
    elif n == PAPER:
        if paper == "out":
            b |= PAPER_OUT | NEAR_END
        elif paper == "near_end":
            b |= NEAR_END
    return b
