"""ICAO TD1 MRZ (3 × 30) parsing, check digits, and the Vietnamese card rules.

Vietnamese chip ID cards (CCCD / thẻ căn cước) put the last 9 digits of the 12-digit ID in the
document-number field and the full ID in the optional data (``<ID 12 digits><<<check digit>``, as
on the published sample card). A document number longer than 9 characters (other states' TD1
cards) follows the overflow rule of ICAO 9303-5 §4.2.2: ``<`` in the check-digit position, the
rest of the number and its check digit first in the optional data.

Dates carry two-digit years: a birth date is the latest date not after today; an expiry date is
the one within the 100 years that end 30 years after today (no ICAO document is valid for longer
than that: a Vietnamese card at most 22 years, issued at 38 and valid to 60; passports 10), so an
expired card reads as expired instead of 100 years in the future. Both ask ``common.clock``.

The expiry date follows the renewal
rule of Luật Căn cước 2023 art. 21 (ages 14, 25, 40, 60; a card issued within two years before a
milestone is valid to the next one; none from 60), so the QR code's birth and issue dates are
enough to rebuild the BAC key. Pure module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from common import clock
from common.redact import pii
from devices.idcard.errors import ParseError

_WEIGHTS = (7, 3, 1)
RENEWAL_AGES = (14, 25, 40, 60)


def _char_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - 55
    if c == "<":
        return 0
    raise ParseError(detail=f"MRZ: invalid character {c!r}")


def check_digit(field: str) -> str:
    return str(sum(_char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


def yymmdd(d: date | None) -> str:
    return d.strftime("%y%m%d") if d else "<<<<<<"


EXPIRY_YEARS_AHEAD = 30      # the latest expiry year a two-digit year reads as: today + 30


def key_seed_info(doc_number: str, birth: date, expiry: date | None) -> str:
    """The 'MRZ information' of ICAO 9303 p11 §9.7.1: number, birth, expiry, each with its check digit.

    A number shorter than 9 characters is padded with ``<``; a longer one (the TD1 overflow case)
    is used whole, its check digit computed over all of it, as p11 §9.7.1 and JMRTD's BACKey do.
    Vietnamese numbers are exactly 9 digits.
    """
    number = doc_number.upper().ljust(9, "<")
    b, e = yymmdd(birth), yymmdd(expiry)
    return number + check_digit(number) + b + check_digit(b) + e + check_digit(e)


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + years, day=28)


def vn_expiry(birth: date, issued: date) -> date | None:
    """Expiry of a Vietnamese ID card from birth and issue dates; ``None`` means no expiry (60+)."""
    if issued < birth:
        raise ValueError("issue date before birth date")
    ages = [a for a in RENEWAL_AGES if _add_years(birth, a) > issued]
    while ages:
        milestone = _add_years(birth, ages[0])
        # issued within the 2 years before this milestone: valid to the next one
        if issued >= _add_years(milestone, -2):
            ages.pop(0)
            continue
        return milestone
    return None


def doc_number_from_id(id_number: str) -> str:
    if not re.fullmatch(r"\d{12}", id_number):
        raise ValueError("the ID number must be 12 digits")
    return id_number[-9:]


@dataclass(frozen=True)
class MRZ:
    document_code: str
    issuing_state: str
    document_number: str
    optional1: str
    date_of_birth: date | None
    sex: str
    date_of_expiry: date | None
    nationality: str
    optional2: str
    names: tuple[str, ...]
    checks: dict[str, bool]
    lines: tuple[str, str, str]

    def __repr__(self) -> str:  # in a log line or a traceback: which checks passed, never the holder's data
        return f"MRZ({self.document_code!r}, {self.issuing_state!r}, checks={self.checks})"

    @property
    def valid(self) -> bool:
        return all(self.checks.values())

    @property
    def id_number(self) -> str | None:
        """The 12-digit ID a Vietnamese card puts at the start of the optional data."""
        m = re.match(r"(\d{12})", self.optional1)
        return m.group(1) if m else None

    @property
    def full_name(self) -> str:
        return " ".join(self.names)


def century_year(yy: int, *, future: bool, today: date | None = None, mm: int = 1, dd: int = 1) -> int:
    """The four-digit year of a two-digit MRZ year (see the module docstring).

    ``future=False`` (birth): the latest year that does not put the date after today.
    ``future=True`` (expiry): the year within [today − 69, today + 30].
    """
    today = today or clock.today()
    if future:
        top = today.year + EXPIRY_YEARS_AHEAD
        return top - (top - yy) % 100
    year = today.year - (today.year - yy) % 100
    if (year, mm, dd) > (today.year, today.month, today.day):
        year -= 100
    return year


def _parse_date(s: str, *, future: bool, today: date | None = None) -> date | None:
    if not re.fullmatch(r"\d{6}", s):
        return None
    yy, mm, dd = int(s[:2]), int(s[2:4]), int(s[4:6])
    try:
        return date(century_year(yy, future=future, today=today, mm=mm, dd=dd), mm, dd)
    except ValueError:
        raise ParseError(detail=f"MRZ: impossible date {pii(s, 'date')}") from None  # a birth date, maybe


def _document_number(l1: str) -> tuple[str, str, str, bool]:
    """(number, its check digit, the optional data after it, overflow?) of a TD1 first line.

    ICAO 9303-5 §4.2.2 note j: when the number is longer than 9 characters, position 15 holds
    ``<`` and the rest of the number, then its check digit, start the optional data (16–30).
    """
    principal, cd, opt = l1[5:14], l1[14], l1[15:30]
    if cd != "<" or principal.endswith("<"):
        return principal.rstrip("<"), cd, opt, False
    m = re.match(r"([A-Z0-9]*?)(\d)(<|$)", opt)
    if not m:   # '<' but no overflow digits: an unchecked number, reported by its check digit
        return principal.rstrip("<"), cd, opt, False
    rest = m.group(1)
    return principal + rest, m.group(2), opt[m.end():], True


def parse_td1(text: str | bytes, *, today: date | None = None) -> MRZ:
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise ParseError(detail="MRZ: not ASCII") from None
    if not isinstance(text, str):
        raise ParseError(detail="MRZ: not text")
    flat = "".join(text.split())
    if len(flat) != 90:
        raise ParseError(detail=f"MRZ: TD1 needs 90 characters, got {len(flat)}")
    if not re.fullmatch(r"[A-Z0-9<]{90}", flat):
        raise ParseError(detail="MRZ: characters outside A–Z, 0–9 and <")
    l1, l2, l3 = flat[:30], flat[30:60], flat[60:]
    number, number_cd, opt1, overflow = _document_number(l1)
    birth_s, birth_cd = l2[0:6], l2[6]
    expiry_s, expiry_cd = l2[8:14], l2[14]
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    checks = {
        "document_number": check_digit(number) == number_cd,
        "date_of_birth": check_digit(birth_s) == birth_cd,
        "date_of_expiry": check_digit(expiry_s) == expiry_cd,
        "composite": check_digit(composite) == l2[29],
    }
    m = re.match(r"(\d{12})<*(\d)?", opt1) if not overflow else None
    if m and m.group(2):
        checks["id_number"] = check_digit(m.group(1)) == m.group(2)
    primary, _, secondary = l3.partition("<<")
    names = tuple(p for p in (primary.replace("<", " ").strip(), secondary.replace("<", " ").strip()) if p)
    return MRZ(
        document_code=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5],
        document_number=number,
        optional1=opt1.rstrip("<"),
        date_of_birth=_parse_date(birth_s, future=False, today=today),
        sex={"M": "M", "F": "F"}.get(l2[7], ""),
        date_of_expiry=_parse_date(expiry_s, future=True, today=today),
        nationality=l2[15:18],
        optional2=l2[18:29].rstrip("<"),
        names=names,
        checks=checks,
        lines=(l1, l2, l3),
    )


def compose_td1(*, number: str, birth: date | None, sex: str, expiry: date | None, surname: str, given: str,
                optional1: str = "", optional2: str = "", nationality: str = "VNM", state: str = "VNM",
                code: str = "ID") -> str:
    """A TD1 MRZ from its fields, with every check digit; a number longer than 9 characters
    overflows into the optional data (ICAO 9303-5 §4.2.2 note j)."""
    number = number.upper()
    if len(number) > 9:
        head = number[:9] + "<"
        optional1 = number[9:] + check_digit(number) + "<" + optional1
    else:
        head = number.ljust(9, "<") + check_digit(number.ljust(9, "<"))
    if len(optional1) > 15 or len(optional2) > 11:
        raise ValueError("optional data too long for TD1")
    l1 = (code.ljust(2, "<") + state + head + optional1.ljust(15, "<"))
    b, e = yymmdd(birth), yymmdd(expiry)
    l2 = (b + check_digit(b) + {"M": "M", "F": "F"}.get(sex, "<") + e + check_digit(e) + nationality
          + optional2.ljust(11, "<"))
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    l2 += check_digit(composite)
    l3 = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<")).ljust(30, "<")[:30]
    if len(l1) != 30 or len(l2) != 30:
        raise ValueError("TD1 lines must be 30 characters")
    return l1 + "\n" + l2 + "\n" + l3


def build_td1(*, id_number: str, birth: date, sex: str, expiry: date | None, surname: str,
              given: str, nationality: str = "VNM") -> str:
    """A Vietnamese TD1 MRZ (used by the virtual card's data sets and by tests): the last 9 digits
    of the ID as the document number; the optional data ``<ID><<<check digit of the ID>`` as on
    the published sample card (``IDVNM0930470641001093047064<<2``)."""
    number = doc_number_from_id(id_number)
    return compose_td1(number=number, birth=birth, sex=sex, expiry=expiry, surname=surname, given=given,
                       optional1=id_number + "<<" + check_digit(id_number), nationality=nationality)
