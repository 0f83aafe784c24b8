"""Boundary-free routing: which commune handles a dossier (Decree 118/2025: any commune of the
kiosk's province). The unit list (34 provinces, 3,321 communes) is ``flows.units``, the same one
the kiosk's address picker shows, so the two cannot disagree."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from common import clock
from common.errors import BilingualError
from flows import calendar, units


@dataclass(frozen=True)
class Unit:
    province_code: str
    commune_code: str
    name: str


class RoutingError(BilingualError, ValueError):
    """The handling commune cannot take the dossier; ``code`` is unknown_unit or wrong_province."""


@functools.lru_cache(maxsize=4096)
def lookup_commune(commune_code: str) -> Unit | None:
    c = units.commune(commune_code)
    return None if c is None else Unit(c.province_code, c.code, c.name)


def route(handling_unit: dict, kiosk_province: str) -> Unit:
    """Check that the named commune exists and belongs to the kiosk's province (Decree 118/2025)."""
    code = str((handling_unit or {}).get("commune_code") or "")
    unit = lookup_commune(code) if code else None
    if unit is None:
        raise RoutingError(
            code="unknown_unit",
            vi="Không tìm thấy xã, phường nơi giải quyết hồ sơ. Vui lòng chọn lại.",
            en=f"unknown handling commune {code!r}",
        )
    if unit.province_code != kiosk_province:
        raise RoutingError(
            code="wrong_province",
            vi="Xã, phường nơi giải quyết không thuộc tỉnh, thành phố của điểm tiếp nhận này.",
            en=f"commune {code} belongs to province {unit.province_code}, the kiosk to {kiosk_province}",
        )
    return unit


def warm(province_code: str = "01") -> None:
    """Load the unit list and the holiday calendar now rather than on the first dossier."""
    communes = units.communes(province_code)
    if communes:
        lookup_commune(communes[0].code)
    calendar.is_working_day(clock.today())
