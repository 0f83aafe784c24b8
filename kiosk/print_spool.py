"""Print jobs kept for a reprint are sealed with a key derived from the outbox key.

A receipt waiting in the spool (paper out, no confirmation from the printer) holds the citizen's
name and ID number, like a dossier in the outbox; it gets the same protection at rest
(common.sealing, purpose "print-spool"). Without the outbox key the printer keeps nothing on disk:
the job is printed or lost (the citizen still sees the dossier code on screen), never stored in clear.
"""
from __future__ import annotations

import logging

from common.sealing import Sealer

log = logging.getLogger(__name__)
PURPOSE = "print-spool"


def seal_spool(printer, key_source, *, create: bool = False) -> bool:
    """Give ``printer`` a sealer from ``key_source`` (a kiosk.outbox_key source); True when its
    spool is sealed, False when it was switched off for want of the key."""
    if printer is None or printer.spool_dir is None:
        return False
    try:
        key = key_source.load(create=create)
    except Exception as exc:  # noqa: BLE001 - any key failure: keep nothing rather than keep it in clear
        log.warning("print spool off: the outbox key is not available (%s)", type(exc).__name__)
        printer.spool_dir = None
        return False
    printer.sealer = Sealer(key, PURPOSE)
    return True


def seal_spool_from_config(printer, cfg) -> bool:
    """For the CLI: the key the kiosk's outbox uses. A printing command never creates it (the
    kiosk's outbox does, at its first start)."""
    from kiosk.outbox_key import key_source_from_config

    return seal_spool(printer, key_source_from_config(cfg["outbox"]))
