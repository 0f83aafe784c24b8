"""Contrast measured on real pixels (WCAG 2.x), with no Kivy: the screen audit
(``kiosk.tools.screen_audit``) hands it crops of a screenshot, and its unit tests hand it synthetic
images with known colours.

Colours here are sRGB in 0..255 (numpy arrays or tuples); ``from_unit`` converts Kivy's 0..1.
Images are numpy arrays ``(height, width, 3)``, row 0 at the top (a screenshot's order, not
Kivy's bottom-up y axis).

Why dominant colours and percentiles, not the extreme pixel: text is anti-aliased, so its edge
pixels are blends of ink and background, and a single stray pixel (a neighbour's border, a
cursor) would decide a min/max measurement. The background is the most frequent colour of the
crop; the ink is the median of the pixels farthest from it (beyond the 95th percentile's reach),
which for text of a few pixels' stroke are the fully covered ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AA_TEXT = 4.5        # WCAG 1.4.3, normal theme
AAA_TEXT = 7.0       # WCAG 1.4.6, the high-contrast theme promises it
NON_TEXT = 3.0       # WCAG 1.4.11, control edges

_QUANT = 3           # dominant colour: bins of 8 levels per channel (anti-aliasing and dithering merge)
_INK_MIN_DISTANCE = 24.0
_SAMPLE = 4000       # pixels a dominant colour is counted on (an even sample of larger sets)  # RGB distance below which a pixel is background noise, not ink


def from_unit(colour) -> np.ndarray:
    """Kivy's (r, g, b[, a]) in 0..1 → sRGB 0..255 (alpha ignored: blend first if it matters)."""
    return np.asarray(colour[:3], dtype=np.float64) * 255.0


def blend(top, bottom) -> np.ndarray:
    """Kivy's (r, g, b, a) 0..1 painted over an opaque ``bottom`` (0..1): the 0..255 result."""
    a = top[3] if len(top) > 3 else 1.0
    return from_unit([top[i] * a + bottom[i] * (1 - a) for i in range(3)])


def _linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(colour) -> float:
    """WCAG 2.x relative luminance of an sRGB 0..255 colour."""
    r, g, b = _linear(np.asarray(colour, dtype=np.float64)[..., :3])
    return float(0.2126 * r + 0.7152 * g + 0.0722 * b)


def contrast_ratio(a, b) -> float:
    """WCAG 2.x contrast ratio of two sRGB 0..255 colours, 1.0 .. 21.0."""
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def dominant_colour(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The most frequent colour of ``pixels`` (N×3 or H×W×3) and the share of pixels that have it.

    Pixels are binned coarsely (a bin holds the small variations of one colour); the colour is
    the median of the winning bin, not the bin's corner."""
    px = np.asarray(pixels, dtype=np.uint8).reshape(-1, 3)
    if not len(px):
        raise ValueError("no pixels")
    if len(px) > _SAMPLE:
        px = px[:: len(px) // _SAMPLE + 1]  # an even sample keeps the shares; a long edge need not be counted pixel by pixel
    q = (px >> _QUANT).astype(np.int32)
    keys = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    counts = np.bincount(keys, minlength=1)
    best = int(np.argmax(counts))
    members = px[keys == best]
    return np.median(members, axis=0), float(len(members)) / len(px)


@dataclass(frozen=True)
class TextColours:
    background: np.ndarray   # sRGB 0..255
    ink: np.ndarray          # sRGB 0..255
    ink_share: float         # share of the crop's pixels that differ from the background
    ratio: float


def text_colours(crop: np.ndarray) -> TextColours | None:
    """Background and ink of a crop that holds text; None when nothing in it differs from the
    background (a blank label, or ink that is the background's own colour: ratio 1)."""
    px = np.asarray(crop, dtype=np.uint8).reshape(-1, 3)
    if len(px) < 4:
        return None
    if len(px) > 8 * _SAMPLE:
        px = px[:: len(px) // (8 * _SAMPLE) + 1]
    bg, _share = dominant_colour(px)
    dist = np.linalg.norm(px.astype(np.float64) - bg, axis=1)
    ink = dist > _INK_MIN_DISTANCE
    if ink.sum() < 3:
        return None
    far = np.percentile(dist[ink], 95)
    core = px[ink & (dist >= 0.85 * far)]  # the fully covered pixels of the strokes
    fg = np.median(core, axis=0)
    return TextColours(bg, fg, float(ink.mean()), contrast_ratio(fg, bg))


@dataclass(frozen=True)
class EdgeContrast:
    ratio: float               # the weakest measured side's best contrast
    sides: dict                # side → (ratio, inside colour, outside colour)


def edge_contrast(img: np.ndarray, rect: tuple[int, int, int, int], gap: int = 2, band: int = 4,
                  depth: int = 6, skip=()) -> EdgeContrast | None:
    """How visible the edge of a control is: for each side of ``rect`` (x0, y0, x1, y1 in image
    pixels, top-down, exclusive ends), the colour just outside (``gap``..``gap+band`` px out) against
    each line up to ``depth`` px inside (a border drawn on the control counts as its edge); a
    side's value is its best line, the control's the weakest side. Colours are the dominant colour
    along each line, so the control's own text does not count. Sides with no room outside the
    image, or named in ``skip`` ("left", "right", "top", "bottom"), are not measured; None when
    no side could be."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in rect)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    # the middle 80 % of each side: corners may be rounded and belong to both sides
    mx0, mx1 = x0 + (x1 - x0) // 10, x1 - (x1 - x0) // 10
    my0, my1 = y0 + (y1 - y0) // 10, y1 - (y1 - y0) // 10
    sides = {}
    for side in ("top", "bottom", "left", "right"):
        if side in skip:
            continue
        if side == "top":
            out = (y0 - gap - band, y0 - gap)
            if out[0] < 0:
                continue
            outside = img[out[0]:out[1], mx0:mx1]
            lines = [img[y0 + k, mx0:mx1] for k in range(min(depth, y1 - y0))]
        elif side == "bottom":
            out = (y1 + gap, y1 + gap + band)
            if out[1] > h:
                continue
            outside = img[out[0]:out[1], mx0:mx1]
            lines = [img[y1 - 1 - k, mx0:mx1] for k in range(min(depth, y1 - y0))]
        elif side == "left":
            out = (x0 - gap - band, x0 - gap)
            if out[0] < 0:
                continue
            outside = img[my0:my1, out[0]:out[1]]
            lines = [img[my0:my1, x0 + k] for k in range(min(depth, x1 - x0))]
        else:
            out = (x1 + gap, x1 + gap + band)
            if out[1] > w:
                continue
            outside = img[my0:my1, out[0]:out[1]]
            lines = [img[my0:my1, x1 - 1 - k] for k in range(min(depth, x1 - x0))]
        if outside.size == 0 or not lines or lines[0].size == 0:
            continue
        ref, _ = dominant_colour(outside)
        best = (0.0, None)
        for line in lines:
            colour, _ = dominant_colour(line)
            r = contrast_ratio(colour, ref)
            if r > best[0]:
                best = (r, colour)
        sides[side] = (best[0], best[1], ref)
    if not sides:
        return None
    return EdgeContrast(min(v[0] for v in sides.values()), sides)


def hex_colour(colour) -> str:
    c = np.clip(np.round(np.asarray(colour, dtype=np.float64)[:3]), 0, 255).astype(int)
    return "#%02x%02x%02x" % tuple(c)
