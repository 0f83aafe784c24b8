"""``[devices.printer]``: every key the printer backends read, its check and its default.

``kiosk.config`` takes this section as it is; ``open_printer`` reads it through
``SECTION.settings(cfg)``, which refuses a key not declared here. Backend names come from the
backend table (:data:`devices.printer.backends.BACKENDS`), profile names from the profile data
(``profiles.yaml`` through :func:`devices.printer.profiles.profile_names`).
"""
from __future__ import annotations

from common.config_keys import BOOL, PATH, Section, choice, integer, number, text
from devices.printer.backends import BACKENDS
from devices.printer.profiles import profile_names

SECTION = Section(
    "devices.printer",
    keys={
        "backend": choice(*BACKENDS),
        "profile": choice(*profile_names()),
        "host": text("network: the printer's host name or IP address"),
        "port": integer(1, 65535),
        "device": text("serial: a port such as /dev/ttyUSB0; file: a path such as /dev/usb/lp0"),
        "baudrate": integer(1200, 921600),
        "usb_vendor": integer(0, 0xFFFF),
        "usb_product": integer(0, 0xFFFF),
        "out_dir": PATH,                  # sim: ESC/POS bytes and PNG renderings of each job
        "spool_dir": PATH,                # jobs not yet printed; empty: out_dir/spool, or no spool
        "timeout_s": number(0.2, 60),
        "sim_paper": choice("ok", "near_end", "out"),
        "sim_cover_open": BOOL,
    },
    defaults={
        "backend": "sim", "profile": "80mm", "host": "", "port": 9100, "device": "", "baudrate": 19200,
        "usb_vendor": 0, "usb_product": 0, "out_dir": "", "spool_dir": "", "timeout_s": 3.0,
        "sim_paper": "ok", "sim_cover_open": False,
    },
    title_en="printer",
    title_vi="máy in",
)

KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
