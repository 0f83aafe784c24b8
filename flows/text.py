"""Diacritic-insensitive folding for search ("dang ky khai sinh" finds "Đăng ký khai sinh")."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese diacritics (đ → d) and collapse spaces."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return _SPACES.sub(" ", text.casefold()).strip()


def slug(text: str) -> str:
    """A key for ``text`` in lowercase ASCII letters, digits and dashes ("Hộ tịch" → "ho-tich"):
    the queue's service key of a field of procedures, the same on every kiosk of a centre."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:64] or "khac"
