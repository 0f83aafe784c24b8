"""``[devices.camera]``: every key the camera backends read, its check and its default.

``kiosk.config`` takes this section as it is; ``devices.camera.backends`` reads it through
``SECTION.settings(cfg)``, which refuses a key not declared here. Backend names come from the
backend table (:data:`devices.camera.backends.BACKENDS`).
"""
from __future__ import annotations

from common.config_keys import Section, choice, integer, number, text
from devices.camera.backends import BACKENDS

SECTION = Section(
    "devices.camera",
    keys={
        "backend": choice(*BACKENDS),
        "source": text("opencv: a device index, path or URL; file: an image or video path"),
        "width": integer(160, 7680),
        "height": integer(120, 4320),
        "fps": integer(1, 120),
        "reconnect_s": number(0.05, 60),   # opencv: wait before reopening a source that stopped delivering
    },
    defaults={"backend": "sim", "source": "", "width": 1920, "height": 1080, "fps": 15, "reconnect_s": 1.0},
    title_en="camera",
    title_vi="máy ảnh",
)

KEYS = SECTION.keys
DEFAULTS = SECTION.defaults
