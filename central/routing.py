"""Boundary-free routing: which commune handles a dossier, and when the result is due.

The unit list and the working-day calendar belong to ``flows`` (``flows.units``,
``flows.calendar``); they are imported lazily so the central system starts without the flow
engine. While those modules are absent the same public sources are read directly
(``vietnamadminunits`` for the 34 provinces / 3,321 communes, ``holidays`` for Vietnam's
public holidays), so routing never silently accepts an unknown unit.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from common import clock
from flows import calendar
from common.errors import BilingualError


@dataclass(frozen=True)
class Unit:
    province_code: str
    commune_code: str
    name: str


class RoutingError(BilingualError, ValueError):
    def __init__(self, error: str, message_vi: str, message_en: str):
        super().__init__(message_en, message_vi, code=error)
        self.error = error


def _field(obj, *names):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return None


@functools.lru_cache(maxsize=4096)
def lookup_commune(commune_code: str) -> Unit | None:
    try:
        from flows import units  # noqa: PLC0415 — optional until the flows package ships it
    except ImportError:
        units = None
    if units is not None and hasattr(units, "commune"):
        try:
            c = units.commune(commune_code)
        except (KeyError, LookupError, ValueError):
            c = None
        if c is None:
            return None
        return Unit(
            str(_field(c, "province_code", "provinceCode")),
            str(_field(c, "code", "commune_code", "wardCode") or commune_code),
            str(_field(c, "name", "full_name", "ward") or ""),
        )
    return _fallback_units().get(commune_code)


@functools.lru_cache(maxsize=1)
def _fallback_units() -> dict[str, Unit]:
    from vietnamadminunits.database import query

    rows = query("SELECT DISTINCT provinceCode, wardCode, ward FROM admin_units")
    return {r["wardCode"]: Unit(r["provinceCode"], r["wardCode"], r["ward"]) for r in rows}


def route(handling_unit: dict, kiosk_province: str) -> Unit:
    """Check that the named commune exists and belongs to the kiosk's province (Decree 118/2025)."""
    code = str((handling_unit or {}).get("commune_code") or "")
    unit = lookup_commune(code) if code else None
    if unit is None:
        raise RoutingError(
            "unknown_unit",
            "Không tìm thấy xã, phường nơi giải quyết hồ sơ. Vui lòng chọn lại.",
            f"unknown handling commune {code!r}",
        )
    if unit.province_code != kiosk_province:
        raise RoutingError(
            "wrong_province",
            "Xã, phường nơi giải quyết không thuộc tỉnh, thành phố của điểm tiếp nhận này.",
            f"commune {code} belongs to province {unit.province_code}, the kiosk to {kiosk_province}",
        )
    return unit


def warm(province_code: str = "01") -> None:
    """Load the unit list and the holiday calendar now rather than on the first dossier."""
    try:
        from flows import units  # noqa: PLC0415

        communes = units.communes(province_code)
        code = communes[0].code if communes else ""
    except ImportError:
        code = next(iter(_fallback_units()), "")
    if code:
        lookup_commune(code)
    calendar.is_working_day(clock.today())
