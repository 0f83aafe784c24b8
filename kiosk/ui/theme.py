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
    # edges: every input field and every unfilled button is outlined in ``edge`` (≥ 3:1 against
    # the page and against the button's own fill), so a control is visible without its fill
    edge: tuple
    # a chosen option (a selected answer, the shift key, today on the calendar): a colour of its
    # own, so "chosen" never looks like "the next thing to press" (primary) or "done" (ok)
    selected: tuple
    selected_fg: tuple
    header_fg: tuple
    header_button: tuple      # fill of the toolbar's buttons, outlined in header_fg
    focus: tuple              # the keypad's focus ring


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
    edge=(0.35, 0.39, 0.45, 1),          # #59636f: 5.6:1 on the page, 4.6:1 on the secondary fill
    selected=(0.07, 0.29, 0.56, 1),       # #124a8f, white text 8.6:1
    selected_fg=(1, 1, 1, 1),
    header_fg=(1, 1, 1, 1),
    header_button=(0.50, 0.05, 0.08, 1),  # darker than the bar; the white outline makes its edge
    focus=(0.0, 0.33, 0.85, 1),
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
    edge=(0.85, 0.85, 0.85, 1),
    selected=(0.35, 0.85, 1, 1),          # cyan, black text: not the yellow of the next action
    selected_fg=(0, 0, 0, 1),
    header_fg=(1, 1, 1, 1),
    header_button=(0, 0, 0, 1),
    focus=(1, 1, 0, 1),
)

FONT_SIZES = {
    "normal": {"title": 44, "body": 32, "button": 34, "small": 24, "huge": 96},
    # magnification ×2 (not ×1.28): screens reflow (text wraps, buttons grow, bodies scroll)
    "large": {"title": 88, "body": 64, "button": 68, "small": 48, "huge": 192},
}
# the toolbar grows less than the page (×1.5), so its buttons stay on two rows at ×2
HEADER_SIZES = {"normal": 24, "large": 36}
SPACING_MIN = 16  # px between neighbouring controls
