"""The one transport contract: ``connect()``, ``transmit(bytes) -> bytes``, ``close()``.

Implementations: :class:`devices.idcard.pcsc.PcscTransport` (pyscard), :class:`VirtualCardTransport`
(the in-process virtual card, with an optional simulated per-APDU latency) and
:class:`ReplayTransport` (a scripted exchange for tests). ``transmit`` raises
:class:`~devices.idcard.errors.NoCard` / :class:`~devices.idcard.errors.CardRemoved` /
:class:`~devices.idcard.errors.ReaderUnavailable`, never a library-specific exception.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterable, Protocol

from devices.idcard.errors import CardRemoved, NoCard


class Transport(Protocol):
    def connect(self) -> None: ...
    def transmit(self, apdu: bytes) -> bytes: ...
    def close(self) -> None: ...
    def card_present(self) -> bool: ...


class VirtualCardTransport:
    """The virtual card in-process. ``insert``/``remove`` simulate placing and lifting the card."""

    def __init__(self, dataset: str | None = "default", *, latency_s: float = 0.0,
                 rng: Callable[[int], bytes] | None = None):
        self._lock = threading.Lock()
        self.latency_s = latency_s
        self._rng = rng
        self.card = None
        self.connected = False
        self.remove_after: int | None = None   # tests: lift the card after N more APDUs
        if dataset:
            self.insert(dataset)

    def insert(self, dataset: str) -> None:
        from devices.idcard.vcard.card import VirtualCard

        with self._lock:
            self.card = VirtualCard(dataset, **({"rng": self._rng} if self._rng else {}))
            self.connected = False

    def remove(self) -> None:
        with self._lock:
            self.card = None
            self.connected = False

    def card_present(self) -> bool:
        return self.card is not None

    def connect(self) -> None:
        with self._lock:
            if self.card is None:
                raise NoCard(detail="no virtual card inserted")
            self.card.reset()
            self.connected = True

    def transmit(self, apdu: bytes) -> bytes:
        with self._lock:
            if self.remove_after is not None:
                if self.remove_after <= 0:
                    self.card, self.remove_after = None, None
                else:
                    self.remove_after -= 1
            if self.card is None:
                self.connected = False
                raise CardRemoved(detail="virtual card removed")
            if not self.connected:
                raise NoCard(detail="not connected")
            card = self.card
        if self.latency_s:
            time.sleep(self.latency_s)
        return card.process(bytes(apdu))

    def close(self) -> None:
        self.connected = False


class ReplayTransport:
    """Answers from a script of (expected command or None, response) pairs, for tests.

    An expected command of ``None`` accepts anything; an exception instance as response is raised.
    """

    def __init__(self, script: Iterable[tuple[bytes | None, bytes | Exception]]):
        self.script = list(script)
        self.sent: list[bytes] = []

    def connect(self) -> None:
        pass

    def card_present(self) -> bool:
        return True

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(bytes(apdu))
        if not self.script:
            raise CardRemoved(detail="replay script exhausted")
        want, answer = self.script.pop(0)
        if want is not None and want != bytes(apdu):
            raise AssertionError(f"unexpected APDU {apdu.hex()} (wanted {want.hex()})")
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


class RecordingTransport:
    """Wraps a transport and keeps every exchange (for building replay scripts and benchmarks)."""

    def __init__(self, inner):
        self.inner = inner
        self.exchanges: list[tuple[bytes, bytes]] = []

    def connect(self) -> None:
        self.inner.connect()

    def card_present(self) -> bool:
        return self.inner.card_present()

    def transmit(self, apdu: bytes) -> bytes:
        resp = self.inner.transmit(apdu)
        self.exchanges.append((bytes(apdu), bytes(resp)))
        return resp

    def close(self) -> None:
        self.inner.close()
