"""Chip ID card (CCCD / thẻ căn cước) reading: PACE/BAC, secure messaging, LDS, passive authentication.

``open_reader(cfg_section)`` picks the backend: ``pcsc`` (a real reader through pcscd) or ``sim``
(the in-process virtual card, data set ``cfg["dataset"]``).
"""
from __future__ import annotations

from devices.idcard.errors import CardError
from devices.idcard.reader import AccessKey, CardRead, CardReader, Person


class SimCardReader(CardReader):
    """The in-process virtual card; the kiosk can simulate placing and lifting the card."""

    backend = "sim"
    _watchers: list

    def sim_insert(self, dataset: str = "default") -> None:
        """Lay the virtual card of ``dataset`` on the reader (replacing any card)."""
        self.transport.insert(dataset)
        for on_insert, _ in list(getattr(self, "_watchers", [])):
            on_insert()

    def sim_remove(self) -> None:
        """Lift the virtual card; a read in progress fails with CardRemoved."""
        self.transport.remove()
        for _, on_remove in list(getattr(self, "_watchers", [])):
            on_remove()

    def watch(self, on_insert, on_remove):
        if not hasattr(self, "_watchers"):
            self._watchers = []
        pair = (on_insert, on_remove)
        self._watchers.append(pair)
        return lambda: self._watchers.remove(pair) if pair in self._watchers else None


def open_reader(cfg: dict) -> CardReader:
    backend = cfg.get("backend", "sim")
    trust = cfg.get("trust_store") or None
    timeout = float(cfg.get("timeout_s", 30.0))
    if backend == "sim":
        from devices.idcard.transport import VirtualCardTransport

        reader = SimCardReader(VirtualCardTransport(cfg.get("dataset") or "default",
                                                    latency_s=float(cfg.get("latency_ms", 0)) / 1000),
                               trust_store=trust, timeout_s=timeout, name="virtual card")
    elif backend == "pcsc":
        from devices.idcard.pcsc import PcscTransport

        reader = CardReader(PcscTransport(cfg.get("reader", "")), trust_store=trust, timeout_s=timeout,
                            name=cfg.get("reader", ""))
    else:
        raise ValueError(f"unknown idcard backend {backend!r}")
    reader.open()
    return reader


__all__ = ["AccessKey", "CardError", "CardRead", "CardReader", "Person", "SimCardReader", "open_reader"]
