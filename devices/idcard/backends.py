"""Card reader backends: the table ``[devices.idcard] backend`` picks from.

* ``pcsc`` — a real reader through pcscd (pyscard); ``reader`` is a part of its name. Its quirks
  (READ BINARY sizes, extended length, protocols) come from the quirks table
  (:mod:`devices.idcard.quirks`: ``readers.yaml``, ``quirks_file`` over it, then the inline keys
  ``read_chunk``, ``read_extended``, ``protocols``), matched against the connected reader's name.
* ``sim`` — the in-process virtual card of data set ``dataset``; ``latency_ms`` delays every APDU,
  to rehearse a slow reader. The table's ``default`` entry and the inline keys apply, so a slow or
  small-frame reader can be rehearsed too.

Both write each read's redacted APDU log into ``apdu_log_dir`` (the newest ``apdu_log_keep`` files;
the kiosk's configuration makes it ``<data_dir>/apdu``). Each builder takes the section's settings
(:mod:`devices.idcard.config`) and returns a :class:`~devices.idcard.reader.CardReader` built without
device I/O and not opened; a broken quirks file raises :class:`~devices.idcard.quirks.QuirksError`
naming its file and line.
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
    from devices.idcard.apdu_log import ApduLogWriter

    writer = ApduLogWriter(cfg["apdu_log_dir"], cfg["apdu_log_keep"]) if cfg["apdu_log_dir"] else None
    return {"trust_store": cfg["trust_store"] or None, "timeout_s": float(cfg["timeout_s"]), "apdu_log": writer}


def quirks_for(cfg: Mapping):
    """``(reader name, firmware) -> ReaderQuirks`` from the table and the inline keys of ``cfg``;
    reads (and checks) the quirks files now, so a broken one stops the build, not a citizen's read."""
    from devices.idcard import quirks

    table = quirks.load_table(cfg["quirks_file"] or None)
    overrides = {"read_chunk": cfg["read_chunk"], "read_extended": cfg["read_extended"], "protocols": cfg["protocols"]}
    return lambda reader, firmware=None: quirks.resolve(table, reader, firmware, overrides)


SIM_READER_NAME = "virtual card (sim)"


def build_sim(cfg: Mapping) -> SimCardReader:
    from devices.idcard.transport import VirtualCardTransport

    q = quirks_for(cfg)(SIM_READER_NAME)
    transport = VirtualCardTransport(cfg["dataset"] or "default", latency_s=float(cfg["latency_ms"]) / 1000)
    return SimCardReader(transport, name="virtual card", read_sizes=q.read_sizes, max_response=q.max_response,
                         quirks=q, **_common(cfg))


def build_pcsc(cfg: Mapping) -> CardReader:
    from devices.idcard.pcsc import PcscTransport

    return CardReader(PcscTransport(cfg["reader"], quirks_for=quirks_for(cfg)), name=cfg["reader"], **_common(cfg))


#: backend name → builder; ``[devices.idcard] backend`` accepts exactly these names
BACKENDS = {"pcsc": build_pcsc, "sim": build_sim}
