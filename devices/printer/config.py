"""``[devices.printer]``: declared as data in ``config.toml`` beside this module (every key the
transports read, what it takes, its default); backend names come from the backend table
(:mod:`devices.printer.backends`), profile names from the profile data (``profiles.yaml``)."""
from __future__ import annotations

from pathlib import Path

from common.config_keys import Section
from devices.printer.backends import BACKENDS
from devices.printer.profiles import profile_names

SECTION = Section.from_toml(Path(__file__).with_name("config.toml"), backends=BACKENDS, profiles=profile_names())
KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
