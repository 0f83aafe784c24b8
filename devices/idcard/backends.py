"""Card reader backends: the table ``[devices.idcard] backend`` picks from.

* ``pcsc`` — a real reader through pcscd (pyscard); ``reader`` is a part of its name.
* ``sim`` — the in-process virtual card of data set ``dataset``; ``latency_ms`` delays every APDU,
  to rehearse a slow reader.

Each builder takes the section's settings (:mod:`devices.idcard.config`) and returns a
:class:`~devices.idcard.reader.CardReader` built without I/O and not opened.
"""
from __future__ import annotations

from collections.abc import Mapping

from devices.idcard.reader import CardReader


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


def _common(cfg: Mapping) -> dict:
    return {"trust_store": cfg["trust_store"] or None, "timeout_s": float(cfg["timeout_s"])}


def build_sim(cfg: Mapping) -> SimCardReader:
    from devices.idcard.transport import VirtualCardTransport

    transport = VirtualCardTransport(cfg["dataset"] or "default", latency_s=float(cfg["latency_ms"]) / 1000)
    return SimCardReader(transport, name="virtual card", **_common(cfg))


def build_pcsc(cfg: Mapping) -> CardReader:
    from devices.idcard.pcsc import PcscTransport

    return CardReader(PcscTransport(cfg["reader"]), name=cfg["reader"], **_common(cfg))


#: backend name → builder; ``[devices.idcard] backend`` accepts exactly these names
BACKENDS = {"pcsc": build_pcsc, "sim": build_sim}
