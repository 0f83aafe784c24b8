"""Vietnam's administrative units after the 1 July 2025 reform (34 provinces, 3,321 communes),
from the `vietnamadminunits` package (MIT): its SQLite table ``admin_units`` for the list and its
converter for pre-2025 addresses ("Phường Phúc Xá, Quận Ba Đình, Hà Nội" → "Phường Hồng Hà").

The package's converter geocodes the street over the network when an old ward was split between
several new ones; a kiosk must not do that (no network guarantee, and the street is personal
data), so :func:`convert_old_address` converts the administrative part only, takes the package's
default new ward for a split ward and says ``ambiguous=True`` so the citizen can confirm or pick.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flows.text import fold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Province:
    code: str
    name: str        # "Thành phố Hà Nội"
    short_name: str  # "Hà Nội"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str        # "Phường Ba Đình"
    short_name: str  # "Ba Đình"
    kind: str        # Phường | Xã | Đặc khu
    province_code: str
    province_name: str

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.province_name}"


@dataclass(frozen=True)
class Conversion:
    """Result of converting an address: the new commune (None when only the province was found)."""

    province: Province | None
    commune: Commune | None
    street: str
    ambiguous: bool   # the old ward was split: the commune is the default guess, ask the citizen
    old_text: str

    @property
    def text(self) -> str:
        parts = [self.street] if self.street else []
        if self.commune:
            parts.append(self.commune.full_name)
        elif self.province:
            parts.append(self.province.name)
        return ", ".join(parts)


def _db_path() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).resolve().parent / "data" / "dataset.db"


@lru_cache(maxsize=1)
def _data():
    # read-only URI: the package's file must never be written by the kiosk
    with sqlite3.connect(f"file:{_db_path()}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT provinceCode, province, provinceShort, wardCode, ward, wardShort, wardType "
            "FROM admin_units ORDER BY provinceCode, wardCode").fetchall()
    provinces: dict[str, Province] = {}
    communes: dict[str, Commune] = {}
    by_province: dict[str, list[Commune]] = {}
    for pcode, pname, pshort, wcode, wname, wshort, wtype in rows:
        provinces.setdefault(pcode, Province(pcode, pname, pshort))
        c = Commune(wcode, wname, wshort, wtype, pcode, pname)
        communes[wcode] = c
        by_province.setdefault(pcode, []).append(c)
    for lst in by_province.values():
        lst.sort(key=lambda c: fold(c.short_name))
    folded = {code: fold(f"{c.name} {c.short_name}") for code, c in communes.items()}
    return provinces, communes, by_province, folded


def provinces() -> list[Province]:
    """The 34 provinces and centrally-run cities, by name."""
    return sorted(_data()[0].values(), key=lambda p: fold(p.short_name))


def province(code: str) -> Province | None:
    return _data()[0].get(code)


def communes(province_code: str) -> list[Commune]:
    """Communes (xã, phường, đặc khu) of a province, by name; empty for an unknown code."""
    return list(_data()[2].get(province_code, []))


def commune(code: str) -> Commune | None:
    """A commune by its 5-digit statistics-office code."""
    return _data()[1].get(code)


def commune_in_province(commune_code: str, province_code: str) -> bool:
    c = commune(commune_code)
    return c is not None and c.province_code == province_code


def search_communes(province_code: str, text: str, limit: int = 50) -> list[Commune]:
    """Communes of a province whose name contains every word of ``text``, accents ignored
    ("ba dinh", "Ba Đình", "phuong ba dinh"); names starting with the query first."""
    words = fold(text).split()
    folded = _data()[3]
    hits = [c for c in communes(province_code) if all(w in folded[c.code] for w in words)]
    q = " ".join(words)
    hits.sort(key=lambda c: (not fold(c.short_name).startswith(q), fold(c.short_name)))
    return hits[:limit]


# --- streets: a list to pick from where the project has one (flows/streets.yaml), else typed -----
STREETS_FILE = Path(__file__).resolve().parent / "streets.yaml"


@lru_cache(maxsize=1)
def _streets() -> dict[str, tuple[str, ...]]:
    import yaml

    try:
        data = yaml.safe_load(STREETS_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        log.warning("street list unreadable: streets are typed")
        return {}
    out = {}
    for code, names in (data.get("communes") or {}).items():
        clean = [n.strip() for n in names or [] if isinstance(n, str) and n.strip()]
        out[str(code)] = tuple(sorted(dict.fromkeys(clean), key=lambda n: fold(_street_key(n))))
    return out


def _street_key(name: str) -> str:
    """"Phố Quán Thánh" sorts and matches under "Quán Thánh": nobody searches for the word phố."""
    return re.sub(r"^(phố|đường|ngõ|ngách|hẻm|phường)\s+", "", name.strip(), flags=re.I)


def streets(commune_code: str) -> list[str]:
    """The streets of a commune to pick from (by name, "Phố …" sorted under its name); empty when the
    project has no list for it: the citizen types the street."""
    return list(_streets().get(commune_code, ()))


def search_streets(commune_code: str, text: str) -> list[str]:
    """Streets of the commune containing every word of ``text``, accents ignored; those whose
    name starts with it first ("qu" → Quán Thánh before Cao Bá Quát)."""
    words = fold(text).split()
    hits = [n for n in streets(commune_code) if all(w in fold(n) for w in words)]
    q = " ".join(words)
    hits.sort(key=lambda n: (not fold(_street_key(n)).startswith(q), fold(_street_key(n))))
    return hits


_ADMIN_WORDS = re.compile(r"^\s*(phường|xã|thị trấn|quận|huyện|thị xã|thành phố|tỉnh|đặc khu|p\.|q\.|tp\.?)\s", re.I)

_DISTRICT = re.compile(r"(^|,)\s*(quận|huyện|thị xã|q\.)\s", re.I)


def _split_street(text: str) -> tuple[str, str]:
    """("Số 12 ngõ 34 phố Đội Cấn", "Phường Ba Đình, Thành phố Hà Nội"): the street is everything
    before the first part that names an administrative unit."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    for i, p in enumerate(parts):
        if _ADMIN_WORDS.match(p + " "):
            return ", ".join(parts[:i]), ", ".join(parts[i:])
    if len(parts) > 2:
        return ", ".join(parts[:-3]) if len(parts) > 3 else parts[0], ", ".join(parts[-3:] if len(parts) > 3 else parts[1:])
    return "", ", ".join(parts)


def parse_new_address(text: str) -> Conversion | None:
    """Read an address already written in the post-2025 form ("…, Phường Ba Đình, Thành phố Hà Nội")."""
    from vietnamadminunits import ParseMode, parse_address

    street, admin = _split_street(text)
    if _DISTRICT.search(admin):
        return None  # districts were abolished in 2025: this is an old address
    try:
        unit = parse_address(admin, mode=ParseMode.FROM_2025, level=2)
    except Exception:  # the package raises bare Exceptions on unknown text
        return None
    c = commune(unit.ward_code) if unit.ward_code else None
    p = province(unit.province_code) if unit.province_code else None
    if c is None or p is None or c.province_code != p.code:
        return None
    # the parser guesses loosely: only trust it when the commune's name really is in the text
    if fold(c.name) not in fold(admin) and not fold(admin).startswith(fold(c.short_name)):
        return None
    return Conversion(p, c, street, False, text)


def convert_old_address(text: str) -> Conversion | None:
    """Convert a pre-2025 address (ward, district, province) to the new units where possible.

    Tries the text as a new-style address first (cards issued after July 2025 already carry
    one). Returns None when not even the province is recognised."""
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        return None
    new = parse_new_address(text)
    if new is not None:
        return new
    from vietnamadminunits import ParseMode, parse_address
    from vietnamadminunits.converter import convert_address
    from vietnamadminunits.converter.converter_2025 import DICT_PROVINCE, DICT_PROVINCE_WARD_DIVIDED

    street, admin = _split_street(text)
    try:
        old = parse_address(admin, mode=ParseMode.LEGACY, level=3)
        if not old.province_key:
            return None
        # convert without the street so the package never geocodes over the network
        parts = [x for x in (old.ward, old.district, old.province) if x]
        new_unit = convert_address(", ".join(parts))
    except Exception:
        log.info("old address not convertible")
        return None
    p = province(new_unit.province_code) if new_unit.province_code else None
    c = commune(new_unit.ward_code) if new_unit.ward_code else None
    if p is None:
        return None
    new_pkey = next((k for k, v in DICT_PROVINCE.items() if old.province_key in v), None)
    old_key = f"{old.province_key}_{old.district_key}_{old.ward_key or ''}"
    ambiguous = c is None or bool(DICT_PROVINCE_WARD_DIVIDED.get(new_pkey, {}).get(old_key))
    return Conversion(p, c, street, ambiguous, text)
