"""Colours, sizes and fonts for the touchscreen, in one place (normal and high-contrast themes).

Touch targets: a 21.5" 1920×1080 kiosk panel has ~0.25 mm per pixel, so 15 mm ≈ 60 px; every
button is at least ``TOUCH_MIN`` pixels in both directions so elderly citizens hit it first time.
"""
from __future__ import annotations

from dataclasses import dataclass

MM_PER_PX = 0.25
TOUCH_MIN = 72  # px ≥ 15 mm at MM_PER_PX, with margin


@dataclass(frozen=True)
class Theme:
    name: str
    bg: tuple
    fg: tuple
    muted: tuple
    primary: tuple
    primary_fg: tuple
    secondary: tuple
    secondary_fg: tuple
    danger: tuple
    ok: tuple
    field_bg: tuple
    header_bg: tuple


NORMAL = Theme(
    name="normal",
    bg=(0.96, 0.97, 0.98, 1),
    fg=(0.08, 0.10, 0.14, 1),
    muted=(0.32, 0.36, 0.42, 1),
    primary=(0.69, 0.09, 0.12, 1),       # the red of public-service signage
    primary_fg=(1, 1, 1, 1),
    secondary=(0.86, 0.89, 0.93, 1),
    secondary_fg=(0.08, 0.10, 0.14, 1),
    danger=(0.75, 0.1, 0.1, 1),
    ok=(0.05, 0.45, 0.2, 1),
    field_bg=(1, 1, 1, 1),
    header_bg=(0.69, 0.09, 0.12, 1),
)

HIGH_CONTRAST = Theme(
    name="high_contrast",
    bg=(0, 0, 0, 1),
    fg=(1, 1, 1, 1),
    muted=(0.9, 0.9, 0.9, 1),
    primary=(1, 0.85, 0, 1),
    primary_fg=(0, 0, 0, 1),
    secondary=(0.15, 0.15, 0.15, 1),
    secondary_fg=(1, 1, 1, 1),
    danger=(1, 0.4, 0.4, 1),
    ok=(0.4, 1, 0.5, 1),
    field_bg=(0.1, 0.1, 0.1, 1),
    header_bg=(0.1, 0.1, 0.1, 1),
)

FONT_SIZES = {
    "normal": {"title": 44, "body": 32, "button": 34, "small": 24, "huge": 96},
    "large": {"title": 56, "body": 40, "button": 42, "small": 30, "huge": 120},
}
