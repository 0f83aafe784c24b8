"""Words a citizen reads that depend on where the kiosk stands. Kivy-free, so screens, prints and
speech share them.

A centrally-run city (Hà Nội, TP Hồ Chí Minh, Hải Phòng, Đà Nẵng, Cần Thơ, Huế) is a "thành
phố", not a "tỉnh": "any commune of the province" must read "trong thành phố" there (issue #18).
Which it is comes from the admin-unit data (its name starts "Thành phố"), not from a list kept
here."""
from __future__ import annotations

from flows import units

_WORDS = {"vi": ("tỉnh", "thành phố"), "en": ("province", "city")}


def is_city(province_code: str) -> bool:
    p = units.province(province_code)
    return bool(p and p.name.startswith("Thành phố"))


def province_word(province_code: str, lang: str = "vi") -> str:
    """"thành phố" / "city" for a centrally-run city, else "tỉnh" / "province"."""
    province, city = _WORDS.get(lang, _WORDS["vi"])
    return city if is_city(province_code) else province
