"""DLE EOT real-time status: the bytes a printer answers and what they mean. Pure.

DLE EOT n (10 04 n) asks: n=1 printer status, n=2 offline cause, n=3 error cause, n=4 paper
roll sensor. Each answer is one byte whose bits 1 and 4 are always set and bits 0 and 7 clear
(0x12 with flags); a byte without that frame is not a status answer and is treated as unknown.
Vendors differ on which sensors they report: anything not answered stays "unknown", never "ok".
n=3 is asked only when the answer to n=2 sets its "error occurred" bit: a healthy printer costs
three round trips per check, and the cause is what tells a technician a jammed cutter from a hot head.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER = 1, 2, 3, 4
QUERIES = (PRINTER, OFFLINE_CAUSE, PAPER)  # always asked, in this order; ERROR_CAUSE on demand
_FRAME_MASK, _FRAME = 0x93, 0x12

# bits
OFFLINE = 0x08            # n=1
COVER_OPEN = 0x04         # n=2
PAPER_STOP = 0x20         # n=2: printing stopped because the paper ran out
ERROR_OCCURRED = 0x40     # n=2: an error (its cause: n=3)
RECOVERABLE = 0x04        # n=3: mechanical error that clears once fixed (e.g. head lifted)
CUTTER = 0x08             # n=3: auto-cutter error (jammed paper)
UNRECOVERABLE = 0x20      # n=3: needs a power cycle or service
AUTO_RECOVERABLE = 0x40   # n=3: head too hot or voltage out of range; clears by itself
NEAR_END = 0x0C           # n=4: near-end sensor (bits 2 and 3)
PAPER_OUT = 0x60          # n=4: roll-end sensor (bits 5 and 6)

PAPER_STATES = ("ok", "near_end", "out", "unknown")
#: n=3 bits → the ``error`` names PrinterStatus reports, most serious first
ERRORS = ((UNRECOVERABLE, "unrecoverable"), (CUTTER, "cutter"), (RECOVERABLE, "recoverable"),
          (AUTO_RECOVERABLE, "auto_recoverable"))


def query(n: int) -> bytes:
    return bytes((0x10, 0x04, n))


def valid(byte: int | None) -> bool:
    return byte is not None and (byte & _FRAME_MASK) == _FRAME


@dataclass
class PrinterStatus:
    online: bool | None = None          # None: unknown
    paper: str = "unknown"              # ok | near_end | out | unknown
    cover_open: bool | None = None
    error: str | None = None            # an ERRORS name when the printer reports one ("error" if n=3 unanswered)
    reachable: bool | None = None       # False: the connection failed; None: not tried
    busy: bool = False                  # unreachable because another process holds the port
    raw: dict[int, int | None] = field(default_factory=dict)  # query n → answer byte
    detail: str = ""

    @property
    def known(self) -> bool:
        return (self.online is not None or self.paper != "unknown" or self.cover_open is not None
                or self.error is not None)

    @property
    def can_print(self) -> bool | None:
        """False when something known stops printing (or the printer cannot be reached); True when
        the printer answered and nothing it said stops printing; None when nothing is known."""
        if (self.reachable is False or self.paper == "out" or self.cover_open or self.online is False
                or self.error):
            return False
        return True if self.known else None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["raw"] = {str(k): (None if v is None else f"0x{v:02X}") for k, v in self.raw.items()}
        d["known"] = self.known
        d["can_print"] = self.can_print
        return d


def wants_error_cause(raw: dict[int, int | None]) -> bool:
    """True when the answer to n=2 says an error occurred, so n=3 is worth asking."""
    b2 = raw.get(OFFLINE_CAUSE)
    return valid(b2) and bool(b2 & ERROR_OCCURRED)


def parse(raw: dict[int, int | None]) -> PrinterStatus:
    """Answers to DLE EOT 1, 2, 3 and 4 (any may be missing or None) → PrinterStatus."""
    st = PrinterStatus(raw=dict(raw), reachable=True)
    b1, b2, b3, b4 = raw.get(PRINTER), raw.get(OFFLINE_CAUSE), raw.get(ERROR_CAUSE), raw.get(PAPER)
    if valid(b1):
        st.online = not (b1 & OFFLINE)
    if valid(b2):
        st.cover_open = bool(b2 & COVER_OPEN)
        if b2 & ERROR_OCCURRED:
            st.error = "error"  # the printer said so; n=3 (below) may name the cause
    if valid(b3):
        st.error = next((name for bit, name in ERRORS if b3 & bit), st.error)
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


def answer(n: int, *, online: bool = True, paper: str = "ok", cover_open: bool = False,
           error: str | None = None) -> int:
    """The byte a printer in this state answers to DLE EOT n (used by the emulator); ``error``
    is one of the :data:`ERRORS` names."""
    b = _FRAME
    stopped = paper == "out" or cover_open or error is not None
    if n == PRINTER and (not online or stopped):
        b |= OFFLINE
    elif n == OFFLINE_CAUSE:
        if cover_open:
            b |= COVER_OPEN
        if paper == "out":
            b |= PAPER_STOP
        if error is not None:
            b |= ERROR_OCCURRED
    elif n == ERROR_CAUSE and error is not None:
        b |= dict((name, bit) for bit, name in ERRORS)[error]
    elif n == PAPER:
        if paper == "out":
            b |= PAPER_OUT | NEAR_END
        elif paper == "near_end":
            b |= NEAR_END
    return b
