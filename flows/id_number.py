"""What a 12-digit personal ID number (số định danh cá nhân) says about its holder.

Circular 07/2016/TT-BCA (art. 7), kept by Circular 59/2021/TT-BCA: digits 1–3 are the province of
birth registration, digit 4 encodes sex and century (20th: male 0, female 1; 21st: 2 / 3; 22nd:
4 / 5; 23rd: 6 / 7; 24th: 8 / 9), digits 5–6 are the last two digits of the birth year, and six
random digits follow. So an ID typed for another person (spouse, mother, the deceased) can be
checked against the birth date and sex typed next to it: a slipped digit is caught at the kiosk,
not weeks later at the commune. Old 9-digit ID card numbers carry none of this.
"""
from __future__ import annotations

import re
from datetime import date, datetime

_MALE = {"nam", "male", "m"}
_FEMALE = {"nu", "nữ", "female", "f"}


def sex_of(value) -> str | None:
    """'male' / 'female' from the values flows and chips use (``nam``, ``Nữ``, ``F``…), else None."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    return "male" if v in _MALE else "female" if v in _FEMALE else None


def sex_century_digit(birth_year: int, sex: str) -> int:
    century = birth_year // 100 + 1  # 1985 → 20th century
    return 2 * (century - 20) + (1 if sex == "female" else 0)


def id_matches(id_number, birth_date=None, sex=None) -> bool:
    """False only when a 12-digit ID contradicts the birth date or sex given; anything that cannot
    be checked (no ID yet, an old 9-digit number, no birth date) is not held against the citizen."""
    if not isinstance(id_number, str) or not re.fullmatch(r"\d{12}", id_number):
        return True
    if isinstance(birth_date, datetime):
        birth_date = birth_date.date()
    if isinstance(birth_date, str):
        try:
            birth_date = date.fromisoformat(birth_date)
        except ValueError:
            birth_date = None
    digit, yy = int(id_number[3]), int(id_number[4:6])
    if isinstance(birth_date, date):
        if yy != birth_date.year % 100 or digit // 2 != birth_date.year // 100 - 19:
            return False
    s = sex_of(sex)
    if s is not None and digit % 2 != (1 if s == "female" else 0):
        return False
    return True


def sample_id(birth_year: int, sex: str, province: str = "001", serial: int = 1) -> str:
    """A well-formed ID for tests and the scripted citizen (not a real person's number)."""
    return f"{province}{sex_century_digit(birth_year, sex)}{birth_year % 100:02d}{serial:06d}"
