"""The bundled Vietnamese font (DejaVu Sans, media/fonts/) and the letters it must cover.

DejaVu Sans is used instead of Kivy's Roboto because it carries full TrueType hinting, which
keeps stems and stacked diacritics (Ấ, Ể, Ỗ) crisp when rendered without anti-aliasing at the
20–30 px sizes a 203 dpi thermal head needs; its licence (Bitstream Vera, DejaVu changes public
domain) allows bundling, see media/fonts/DejaVu-LICENSE.txt.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parents[2] / "media" / "fonts"
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}

_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # ngang huyền sắc hỏi ngã nặng


def vietnamese_letters() -> list[str]:
    """The 134 precomposed Vietnamese letters (67 lower case, then their 67 capitals)."""
    lower = []
    for base in _BASES:
        for tone in _TONES:
            letter = unicodedata.normalize("NFC", base + tone)
            if letter.isascii():
                continue  # plain a e i o u y are not "precomposed"
            lower.append(letter)
    lower.append("đ")
    return lower + [c.upper() for c in lower]


@lru_cache(maxsize=64)
def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        name = FONT_FILES[weight]
    except KeyError:
        raise ValueError(f"unknown font weight {weight!r}; expected one of {sorted(FONT_FILES)}") from None
    # BASIC layout: text is NFC-normalised, so every Vietnamese letter is one precomposed glyph and
    # no shaping is needed; Raqm would be ~7× slower per measurement for identical output
    return ImageFont.truetype(str(FONT_DIR / name), size, layout_engine=ImageFont.Layout.BASIC)


# Letters whose marks reach highest above / lowest below the baseline: the line box must hold
# them, or a capital with two stacked marks (Ẩ) is clipped by the line above.
_TALL = "ẨỂỔẪỖẤẮỨ|Ấ"
_DEEP = "gjpqyỵỵỰẶ|"


@lru_cache(maxsize=64)
def line_box(weight: str, size: int) -> tuple[int, int]:
    """(ascent, descent) in pixels that contain every Vietnamese letter at this size."""
    f = font(weight, size)
    asc, desc = f.getmetrics()
    for ch in _TALL:
        asc = max(asc, -f.getbbox(ch, anchor="ls")[1])
    for ch in _DEEP:
        desc = max(desc, f.getbbox(ch, anchor="ls")[3])
    return asc, desc
