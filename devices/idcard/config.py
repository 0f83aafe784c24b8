"""``[devices.idcard]``: every key the card reader backends read, its check and its default.

``kiosk.config`` takes this section as it is; ``open_reader`` hands the backends
``SECTION.settings(cfg)``, which refuses a key not declared here. Backend names come from the
backend table (:data:`devices.idcard.backends.BACKENDS`).
"""
from __future__ import annotations

from common.config_keys import PATH, Section, choice, number, text
from devices.idcard.backends import BACKENDS

SECTION = Section(
    "devices.idcard",
    keys={
        "backend": choice(*BACKENDS),
        "reader": text("pcsc: a part of the reader's name as `pcsc_scan` shows it; empty: the first reader"),
        "dataset": text("sim: the virtual card's data set (e.g. \"default\")"),
        "trust_store": PATH,             # folder of CSCA certificates for passive authentication
        "timeout_s": number(1, 300),     # a whole card read must finish within this
        "latency_ms": number(0, 5000),   # sim: delay per APDU, to rehearse a slow reader
    },
    defaults={"backend": "sim", "reader": "", "dataset": "default", "trust_store": "", "timeout_s": 30.0,
              "latency_ms": 0.0},
    title_en="card reader",
    title_vi="đầu đọc thẻ căn cước",
)

KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
