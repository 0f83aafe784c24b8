"""Chip ID card (CCCD / thẻ căn cước) reading: PACE/BAC, secure messaging, LDS, passive authentication.

``open_reader(cfg_section)`` builds the reader of ``cfg["backend"]`` from the backend table
(:data:`devices.idcard.backends.BACKENDS`: ``pcsc``, a real reader through pcscd, or ``sim``, the
in-process virtual card of data set ``cfg["dataset"]``), without I/O; ``reader.open()`` loads the
trust store. The keys it reads are declared in :mod:`devices.idcard.config`.
"""
from __future__ import annotations

from devices.idcard.backends import BACKENDS, SimCardReader
from devices.idcard.config import SECTION
from devices.idcard.errors import CardError
from devices.idcard.reader import AccessKey, CardRead, CardReader, Person


def open_reader(cfg: dict) -> CardReader:
    """The reader of ``cfg["backend"]``, built and not opened: call ``open()`` (idempotent; a read
    opens it too). An unknown backend raises CardError naming the known ones; an unknown sim data
    set raises KeyError."""
    settings = SECTION.settings(cfg)
    return SECTION.pick(BACKENDS, settings, CardError)(settings)


__all__ = ["AccessKey", "BACKENDS", "CardError", "CardRead", "CardReader", "Person", "SimCardReader", "open_reader"]
