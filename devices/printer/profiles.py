"""Printer profiles (paper width, dots per line, native QR, cutter), loaded from profiles.yaml."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROFILES_FILE = Path(__file__).resolve().parent / "profiles.yaml"
CODE_PAGES = {"cp1258": 52}  # ESC t n numbers (Epson table) for the code pages we can send


@dataclass(frozen=True)
class Profile:
    name: str
    paper_mm: int
    dots_per_line: int
    native_qr: bool = True
    cutter: bool = True
    native_ascii: bool = False
    code_page: str | None = None
    qr_module: int = 6
    feed_before_cut: int = 4
    sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if self.dots_per_line <= 0 or self.dots_per_line % 8:
            raise ValueError(f"profile {self.name}: dots_per_line must be a positive multiple of 8")
        if self.code_page is not None and self.code_page not in CODE_PAGES:
            raise ValueError(f"profile {self.name}: code_page must be null or one of {sorted(CODE_PAGES)}")

    @property
    def columns(self) -> int:
        """Characters per line of the printer's own 12×24 font A."""
        return self.dots_per_line // 12

    def with_(self, **changes: Any) -> "Profile":
        return replace(self, **changes)


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, Any]]:
    with open(PROFILES_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def profile_names() -> list[str]:
    return sorted(_table())


def get_profile(spec: "str | dict[str, Any] | Profile" = "80mm") -> Profile:
    """A profile by name, a dict ``{"base": "80mm", **overrides}``, or a Profile (returned as is)."""
    if isinstance(spec, Profile):
        return spec
    if isinstance(spec, dict):
        spec = dict(spec)
        base = spec.pop("base", spec.pop("name", "80mm"))
        return replace(get_profile(base), **spec)
    table = _table()
    if spec not in table:
        raise ValueError(f"unknown printer profile {spec!r}; expected one of {', '.join(sorted(table))}")
    return Profile(name=spec, **table[spec])
