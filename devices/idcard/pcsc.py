"""PC/SC transport on pyscard: reader by name substring, protocols in the order of the reader's
quirks entry (T=1 then T=0 unless the table says otherwise), 61xx/6Cxx, card events.

Once connected, ``quirks`` holds what the quirks table says of this reader (its name as pcscd
shows it, and its firmware: the USB bcdDevice the CCID driver gives as SCARD_ATTR_VENDOR_IFD_VERSION,
when the driver gives it), for the reader's READ BINARY sizes.

pyscard exceptions never leave this module: no reader / no pcscd → :class:`ReaderUnavailable`,
no card → :class:`NoCard`, a card lifted during an exchange → :class:`CardRemoved`.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from devices.idcard.errors import CardRemoved, NoCard, ReaderUnavailable
from devices.idcard.quirks import firmware_from_attrib

SCARD_ATTR_VENDOR_IFD_VERSION = 0x00010102

log = logging.getLogger(__name__)


def list_readers() -> list[str]:
    """Names of the PC/SC readers; raises ReaderUnavailable when pcscd cannot be reached."""
    try:
        from smartcard.System import readers
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException
    except ImportError as exc:  # pragma: no cover - pyscard is a dependency
        raise ReaderUnavailable(detail=f"pyscard not installed: {exc}") from None
    try:
        return [str(r) for r in readers()]
    except (BaseSCardException, SmartcardException) as exc:
        raise ReaderUnavailable(detail=f"PC/SC service not reachable: {exc}") from None


class PcscTransport:
    def __init__(self, reader_pattern: str = "", quirks_for: Callable | None = None):
        """``quirks_for(reader_name, firmware)`` gives a reader's
        :class:`~devices.idcard.quirks.ReaderQuirks` (None: T=1 then T=0, no quirks)."""
        self.reader_pattern = reader_pattern
        self.quirks_for = quirks_for
        self.quirks = None               # of the connected reader
        self.reader_name: str | None = None
        self.firmware: str | None = None
        self._conn = None
        self._reader = None
        self._monitor = None
        self._observer = None

    def _find_reader(self):
        from smartcard.System import readers
        from smartcard.Exceptions import SmartcardException
        from smartcard.pcsc.PCSCExceptions import BaseSCardException

        try:
            found = readers()
        except (BaseSCardException, SmartcardException) as exc:
            raise ReaderUnavailable(detail=f"PC/SC service not reachable: {exc}") from None
        pattern = self.reader_pattern.lower()
        for r in found:
            if pattern in str(r).lower():
                return r
        raise ReaderUnavailable(detail=f"no reader matching {self.reader_pattern!r} (found {len(found)})")

    def connect(self) -> None:
        from smartcard.CardConnection import CardConnection
        from smartcard.Exceptions import CardConnectionException, NoCardException

        self.close()
        reader = self._find_reader()
        name = str(reader)
        # the firmware is known only once connected: the protocol order comes from the name alone
        quirks = self.quirks_for(name, None) if self.quirks_for else None
        order = quirks.protocols if quirks is not None else ("T1", "T0")
        codes = {"T1": CardConnection.T1_protocol, "T0": CardConnection.T0_protocol}
        conn = reader.createConnection()
        last = None
        for proto in order:
            try:
                conn.connect(codes[proto])
                self._conn, self._reader, self.reader_name = conn, reader, name
                self.firmware = self._firmware(conn)
                self.quirks = self.quirks_for(name, self.firmware) if self.quirks_for else None
                return
            except NoCardException as exc:
                raise NoCard(detail=str(exc)) from None
            except CardConnectionException as exc:
                last = exc
        try:
            conn.release()
        except Exception:  # noqa: BLE001 - best effort release of a failed connection
            pass
        if "no smart card" in str(last).lower() or "not present" in str(last).lower():
            raise NoCard(detail=str(last))
        tried = " or ".join(f"T={p[1]}" for p in order)
        raise ReaderUnavailable(detail=f"cannot connect with {tried}: {last}")

    @staticmethod
    def _firmware(conn) -> str | None:
        """The reader's firmware version, if its driver tells (the CCID driver does; vpcd does not)."""
        try:
            return firmware_from_attrib(conn.getAttrib(SCARD_ATTR_VENDOR_IFD_VERSION))
        except Exception:  # noqa: BLE001 - an attribute the driver does not offer is no error
            return None

    def _raw(self, apdu: list[int]) -> tuple[list[int], int, int]:
        from smartcard.Exceptions import CardConnectionException

        if self._conn is None:
            raise NoCard(detail="not connected")
        try:
            return self._conn.transmit(apdu)
        except CardConnectionException as exc:
            self.close()
            if self.card_present():
                raise ReaderUnavailable(detail=f"transmit failed: {exc}") from None
            raise CardRemoved(detail=f"transmit failed: {exc}") from None

    def transmit(self, apdu: bytes) -> bytes:
        cmd = list(apdu)
        data, sw1, sw2 = self._raw(cmd)
        if sw1 == 0x6C and len(cmd) >= 5:
            # wrong Le: resend with the length the card asked for (short APDUs only)
            data, sw1, sw2 = self._raw(cmd[:-1] + [sw2])
        out = list(data)
        while sw1 == 0x61:
            more, sw1, sw2 = self._raw([0x00, 0xC0, 0x00, 0x00, sw2])
            out += more
        return bytes(out) + bytes([sw1, sw2])

    def card_present(self) -> bool:
        from smartcard.scard import (SCARD_S_SUCCESS, SCARD_SCOPE_USER, SCARD_STATE_PRESENT, SCARD_STATE_UNAWARE,
                                     SCardEstablishContext, SCardGetStatusChange, SCardReleaseContext)

        reader = str(self._find_reader())
        rc, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
        if rc != SCARD_S_SUCCESS:
            raise ReaderUnavailable(detail="cannot talk to pcscd")
        try:
            rc, states = SCardGetStatusChange(ctx, 0, [(reader, SCARD_STATE_UNAWARE)])
            if rc != SCARD_S_SUCCESS:
                raise ReaderUnavailable(detail=f"reader status unavailable (rc={rc:#x})")
            return bool(states[0][1] & SCARD_STATE_PRESENT)
        finally:
            SCardReleaseContext(ctx)

    def watch(self, on_insert: Callable[[], None], on_remove: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_insert``/``on_remove`` (from a watcher thread) as a card comes and goes on the
        matching reader; returns a function that stops watching. Uses its own PC/SC context
        (SCardGetStatusChange), cancelled and released on stop, so nothing outlives pcscd."""
        from smartcard.scard import (SCARD_S_SUCCESS, SCARD_SCOPE_USER, SCARD_STATE_PRESENT, SCARD_STATE_UNAWARE,
                                     SCardCancel, SCardEstablishContext, SCardGetStatusChange, SCardReleaseContext)

        reader = str(self._find_reader())
        rc, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
        if rc != SCARD_S_SUCCESS:
            raise ReaderUnavailable(detail="cannot talk to pcscd")
        stopped = threading.Event()

        def loop():
            state, present = SCARD_STATE_UNAWARE, None
            while not stopped.is_set():
                rc, states = SCardGetStatusChange(ctx, 500, [(reader, state)])
                if stopped.is_set():
                    break
                if rc != SCARD_S_SUCCESS:
                    if rc != 0x8010000A:      # SCARD_E_TIMEOUT
                        time.sleep(0.2)
                    continue
                state = states[0][1] & ~0x2   # drop SCARD_STATE_CHANGED for the next call
                now = bool(state & SCARD_STATE_PRESENT)
                if present is not None and now != present:
                    try:
                        (on_insert if now else on_remove)()
                    except Exception:  # noqa: BLE001 - a UI callback must not kill the watcher
                        log.exception("card event callback failed")
                present = now

        thread = threading.Thread(target=loop, name="pcsc-watch", daemon=True)
        thread.start()

        def stop():
            if not stopped.is_set():
                stopped.set()
                SCardCancel(ctx)
                thread.join(timeout=5)
                SCardReleaseContext(ctx)

        return stop

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.disconnect()
            except Exception:  # noqa: BLE001 - the card may be gone already
                pass
            try:
                conn.release()
            except Exception:  # noqa: BLE001
                pass
