"""``[devices.qr]``: every key the QR scanners read, its check and its default.

``kiosk.config`` takes this section as it is; ``devices.qr.scanner`` reads it through
``SECTION.settings(cfg)``, which refuses a key not declared here. Backend names come from the
backend table (:data:`devices.qr.scanner.BACKENDS`).
"""
from __future__ import annotations

from common.config_keys import Section, choice, integer, number, text
from devices.qr.scanner import BACKENDS

SECTION = Section(
    "devices.qr",
    keys={
        "backend": choice(*BACKENDS),
        "port": text("a serial port such as /dev/ttyACM0 (serial backend), or empty"),
        "baudrate": integer(1200, 921600),
        "terminator": text("a line terminator such as \"\\r\" or \"\\r\\n\"", r"[\r\n\t]{1,2}"),
        "partial_line_s": number(0.05, 10),   # serial: a line without its terminator after this is refused
        "max_line": integer(16, 65536),       # serial: bytes; a longer line is refused
        "reconnect_s": number(0.05, 60),      # serial: wait between attempts to reopen an unplugged scanner
        "repeat_s": number(0, 600),           # camera: the same code in view is read again after this
        "budget_ms": number(1, 1000),         # camera: decoding time spent on one frame at most
    },
    defaults={
        "backend": "sim", "port": "", "baudrate": 9600, "terminator": "\r", "partial_line_s": 0.5,
        "max_line": 4096, "reconnect_s": 0.5, "repeat_s": 3.0, "budget_ms": 40.0,
    },
    title_en="QR scanner",
    title_vi="máy quét mã QR",
)

KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
