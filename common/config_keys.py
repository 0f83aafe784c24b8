"""Configuration keys and sections: what a key holds, how a value is checked, and its default.

``kiosk.config`` builds its ``SCHEMA`` from these, and every device package declares its own section
with them (as data: ``devices/<kind>/config.toml``, loaded by ``Section.from_toml`` in
``devices/<kind>/config.py``), so
the keys a driver reads and the keys ``kiosk config check`` accepts are one list:

* ``Section.settings(cfg)`` is what drivers read: the given values over the section's defaults; reading
  a key the section does not declare raises :class:`UndeclaredKey` (a test builds every backend).
* ``Section.pick(table, settings, error)`` looks ``settings["backend"]`` up in a backend table and
  refuses an unknown name with a bilingual ``error`` that lists the known ones.

Imports nothing of the project (``common`` is the ground) and no Kivy.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Key:
    """One configuration key. ``kind``: str | int | float | bool | path | list[str] | choice."""

    kind: str
    expected: str
    check: Callable[[Any], bool] | None = None
    choices: tuple[str, ...] = ()

    def validate(self, value: Any) -> Any:
        """``value`` as stored (ints become floats for float keys, lists are copied); raises
        ``ValueError(self.expected)`` for a value of the wrong type or out of range. Paths stay as
        given: resolving them against the config file's folder is the loader's business."""
        bad = ValueError(self.expected)
        if self.kind in ("str", "choice", "path"):
            if not isinstance(value, str) or (self.kind == "choice" and value not in self.choices):
                raise bad
        elif self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            value = float(value)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise bad
        elif self.kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad
            value = list(value)
        else:  # pragma: no cover - a typo in a declaration
            raise TypeError(f"unknown key kind {self.kind!r}")
        if self.check is not None and not self.check(value):
            raise bad
        return value


def text(expected: str = "a string", pattern: str | None = None) -> Key:
    rx = re.compile(pattern) if pattern else None
    return Key("str", expected, (lambda v: bool(rx.fullmatch(v))) if rx else None)


def integer(lo: int, hi: int) -> Key:
    return Key("int", f"a whole number from {lo} to {hi}", lambda v: lo <= v <= hi)


def number(lo: float, hi: float) -> Key:
    return Key("float", f"a number from {lo} to {hi}", lambda v: lo <= v <= hi)


def choice(*choices: str) -> Key:
    return Key("choice", "one of " + ", ".join(repr(c) for c in choices), choices=tuple(choices))


def str_list(expected: str = "a list of strings") -> Key:
    return Key("list[str]", expected)


BOOL = Key("bool", "true or false")
PATH = Key("path", "a file or folder path (relative to the config file), or empty")
URL = text("an http:// or https:// URL", r"https?://[^\s/]+(:\d+)?(/\S*)?")


def _key_from_spec(d: Mapping[str, Any], choices_from: Mapping[str, Iterable[str]]) -> Key:
    kind = d["kind"]
    if kind == "text":
        return text(d.get("expected", "a string"), d.get("pattern"))
    if kind == "integer":
        return integer(int(d["min"]), int(d["max"]))
    if kind == "number":
        return number(d["min"], d["max"])
    if kind == "choice":
        return choice(*(d["choices"] if "choices" in d else choices_from[d["from"]]))
    if kind == "str_list":
        return str_list(d.get("expected", "a list of strings"))
    fixed = {"bool": BOOL, "path": PATH, "url": URL}
    if kind in fixed:
        return fixed[kind]
    raise ValueError(f"unknown kind {kind!r}")


class UndeclaredKey(KeyError):
    """A driver read a key its section does not declare: declare it (with a default) first."""


@dataclass(frozen=True)
class Section:
    """A config section a package owns: its keys, a default for every key, and (for a device) the
    names people read in errors. ``keys["backend"]``, where present, should be ``choice(*TABLE)``."""

    name: str                      # "devices.qr": the TOML table [devices.qr]
    keys: Mapping[str, Key]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    title_en: str = ""             # "QR scanner"
    title_vi: str = ""             # "máy quét mã QR"

    def __post_init__(self):
        undeclared = sorted(set(self.defaults) - set(self.keys))
        if undeclared:
            raise ValueError(f"[{self.name}] defaults for undeclared keys: {', '.join(undeclared)}")
        for key, value in self.defaults.items():
            try:
                self.keys[key].validate(value)
            except ValueError:
                raise ValueError(f"[{self.name}] default {key} = {value!r}: expected {self.keys[key].expected}") from None

    @classmethod
    def from_toml(cls, path: str | Path, **choices_from: Iterable[str]) -> "Section":
        """A section declared as data (``devices/<kind>/config.toml``): ``name``, ``title_en``,
        ``title_vi`` and a ``[keys]`` table of ``key = {kind = …, default = …, …}`` where kind is
        text (``expected``, ``pattern``), integer or number (``min``, ``max``), choice (``choices``,
        or ``from = "NAME"`` for names the code passes here, e.g. a backend table), bool, path,
        url or str_list. A declaration error names the file and the key."""
        spec = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        keys: dict[str, Key] = {}
        defaults: dict[str, Any] = {}
        for key, d in spec["keys"].items():
            try:
                keys[key] = _key_from_spec(d, choices_from)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: key {key}: {exc}") from None
            if "default" in d:
                defaults[key] = d["default"]
        return cls(spec["name"], keys, defaults, spec.get("title_en", ""), spec.get("title_vi", ""))

    def settings(self, cfg: Mapping[str, Any] | None = None) -> "Settings":
        """What a driver reads: ``cfg`` (a config section, possibly partial) over the defaults."""
        if isinstance(cfg, Settings) and cfg.section is self:
            return cfg
        return Settings(self, cfg or {})

    def pick(self, table: Mapping[str, T], settings: Mapping[str, Any], error: type[Exception]) -> T:
        """``table[settings["backend"]]``, or ``error(code="unknown_backend", en=…, vi=…, detail=…)``
        naming the known backends (``error`` is the kind's BilingualError subclass)."""
        name = settings["backend"]
        try:
            return table[name]
        except (KeyError, TypeError):
            known = ", ".join(table)
            what_en, what_vi = self.title_en or self.name, self.title_vi or self.name
            raise error(code="unknown_backend",
                        en=f"unknown {what_en} backend {name!r} in [{self.name}]; known backends: {known}",
                        vi=f"Cấu hình {what_vi} không đúng: không có loại '{name}' "
                           f"(các loại hợp lệ: {known}). Vui lòng báo cán bộ hỗ trợ.",
                        detail=f"[{self.name}] backend = {name!r}") from None


class Settings(Mapping):
    """A section's values as a driver reads them: given values over the defaults, declared keys only."""

    __slots__ = ("section", "_given")

    def __init__(self, section: Section, given: Mapping[str, Any]):
        self.section = section
        self._given = given

    def _declared(self, key: str) -> None:
        if key not in self.section.keys:
            raise UndeclaredKey(f"[{self.section.name}] {key!r} is read by a driver but not declared in its "
                                f"section; declared: {', '.join(self.section.keys)}")

    def __getitem__(self, key: str) -> Any:
        self._declared(key)
        if key in self._given:
            return self._given[key]
        if key in self.section.defaults:
            return self.section.defaults[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._declared(key)  # Mapping.get would turn UndeclaredKey into the default
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.section.keys and (key in self._given or key in self.section.defaults)

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.section.keys if k in self._given or k in self.section.defaults)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Settings({self.section.name}, {dict(self)!r})"
