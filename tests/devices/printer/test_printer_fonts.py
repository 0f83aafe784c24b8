"""The bundled font must draw every Vietnamese letter, not the .notdef box."""
from __future__ import annotations

import unicodedata

import pytest
from PIL import Image, ImageDraw

from devices.printer.fonts import FONT_DIR, font, vietnamese_letters


def glyph(ch: str, weight: str) -> bytes:
    img = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(img).text((8, 48), ch, font=font(weight, 32), fill=0, anchor="ls")
    return img.tobytes()


def test_the_134_letters():
    letters = vietnamese_letters()
    assert len(letters) == 134 == len(set(letters))
    assert all(len(c) == 1 and not c.isascii() for c in letters)
    assert sum(c.islower() for c in letters) == 67
    assert "Đ" in letters and "ự" in letters and "Ẩ" in letters


@pytest.mark.parametrize("weight", ["regular", "bold"])
def test_font_covers_every_letter(weight):
    missing = glyph("\ue000", weight)  # a private-use code point the font lacks: its .notdef box
    assert missing != glyph(" ", weight)
    for ch in vietnamese_letters():
        g = glyph(ch, weight)
        assert g != missing, f"{ch} (U+{ord(ch):04X}) renders as .notdef"
        base = unicodedata.normalize("NFD", ch)[0] if ch not in "đĐ" else ("d" if ch == "đ" else "D")
        assert g != glyph(base, weight), f"{ch} is drawn without its marks"


def test_licence_ships_with_the_font():
    assert (FONT_DIR / "DejaVu-LICENSE.txt").read_text().count("Bitstream") > 0
    assert (FONT_DIR / "DejaVuSans.ttf").stat().st_size > 100_000
