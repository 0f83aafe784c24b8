"""``[devices.qr]``: declared as data in ``config.toml`` beside this module (every key the backends
read, what it takes, its default); the backend names come from the backend table (:mod:`devices.qr.scanner`)."""
from __future__ import annotations

from pathlib import Path

from common.config_keys import Section
from devices.qr.scanner import BACKENDS

SECTION = Section.from_toml(Path(__file__).with_name("config.toml"), backends=BACKENDS)
KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
