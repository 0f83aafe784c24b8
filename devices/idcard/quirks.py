"""Card reader quirks as data: which READ BINARY sizes, extended-length APDUs and protocols a
PC/SC reader takes, keyed by the reader's name as ``pcsc_scan`` shows it.

The built-in table is ``readers.yaml`` beside this module; ``[devices.idcard] quirks_file`` names
an extra table merged over it (an entry with a built-in ``name`` changes only the fields it sets;
a new entry is matched before every built-in one). Inline keys (``read_chunk``, ``read_extended``,
``protocols``) win over both. Pure: parsing, merging and matching do no I/O except reading the
two files in :func:`load_table`; a mistake in a table raises :class:`QuirksError` naming the file
and the line.

An entry::

    - name: acs-acr122u              # a-z, 0-9 and '-'; the name diagnostics and logs show
      match: 'ACR122U'               # regular expression searched (case-insensitive) in the reader name
      read_chunk: 65536              # most bytes one READ BINARY asks for; above 256 only as an
                                     # extended-length APDU, so only where extended_length is true
      ladder: [256, 224, 192, 160, 128]   # short sizes tried in order (none above read_chunk) on 6700/6Cxx
      max_response: 258              # largest response APDU (data + SW1 SW2) the reader carries
      extended_length: false         # the reader carries extended-length APDUs
      protocols: [T1]                # PC/SC protocols tried in order (T1, T0)
      note: '…'                      # shown to the technician (kiosk diag, the APDU log)
      source: 'https://…'            # where the facts come from
      known_bad:                     # firmware (or name) known to misbehave
        - firmware: '< 2.06'         # bcdDevice as the driver reports it; '<', '<=', '==', '>=', '>' or a regex
          match: '…'                 # optional: a narrower name pattern
          note: '…'
          source: '…'
          set: {read_chunk: 128}     # optional workaround: any of the fields above

The entry named ``default`` has no ``match``; it is used when nothing else matches and fills the
fields a matched entry leaves out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from devices.idcard.errors import CardError
from devices.idcard.session import EXTENDED

BUILTIN_FILE = Path(__file__).with_name("readers.yaml")
PROTOCOLS = ("T1", "T0")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_VERSION_CMP = re.compile(r"\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)*)\s*")

# the fields an entry (or a workaround's ``set``) may hold, and what each takes
_SETTABLE = ("read_chunk", "ladder", "max_response", "extended_length", "protocols")
_ENTRY_FIELDS = ("name", "match", *_SETTABLE, "note", "source", "known_bad")
_BAD_FIELDS = ("firmware", "match", "note", "source", "set")


class QuirksError(CardError):
    """A reader quirks table that cannot be used: the detail names the file and the line."""

    message_vi = "Bảng đặc tính đầu đọc thẻ bị lỗi. Vui lòng báo cán bộ hỗ trợ."
    message_en = "The card reader quirks table is broken."
    code = "bad_quirks_file"


# --- the table ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownBad:
    note: str
    firmware: str | None = None        # version condition or regex on the firmware string
    match: str | None = None           # regex on the reader name
    source: str = ""
    set: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""                    # "file:line", for messages

    def applies(self, reader: str, firmware: str | None) -> bool:
        if self.match is not None and not re.search(self.match, reader, re.I):
            return False
        if self.firmware is not None:
            return firmware is not None and firmware_matches(self.firmware, firmware)
        return True


@dataclass(frozen=True)
class Entry:
    name: str
    values: Mapping[str, Any]          # the settable fields this entry sets
    match: str | None = None
    note: str = ""
    source: str = ""
    known_bad: tuple[KnownBad, ...] = ()
    where: str = ""

    def merged_over(self, base: "Entry") -> "Entry":
        """This entry's fields over ``base``'s (an extra table changing a built-in entry)."""
        return Entry(base.name, {**base.values, **self.values}, self.match or base.match, self.note or base.note,
                     self.source or base.source, self.known_bad or base.known_bad, self.where)


@dataclass(frozen=True)
class QuirksTable:
    entries: tuple[Entry, ...]         # matched in order; ``default`` last
    sources: tuple[str, ...] = ()      # the files it was read from

    @property
    def default(self) -> Entry:
        return next(e for e in self.entries if e.name == "default")

    def match(self, reader: str) -> Entry:
        """The first entry whose pattern is found in ``reader``, else ``default``."""
        for e in self.entries:
            if e.match is not None and re.search(e.match, reader or "", re.I):
                return e
        return self.default

    def merged(self, extra: "QuirksTable") -> "QuirksTable":
        """``extra`` over this table: same name → fields merged in place; new names first."""
        mine = {e.name: e for e in self.entries}
        theirs = {e.name: e for e in extra.entries}
        new = [e for e in extra.entries if e.name not in mine]
        for e in new:
            if e.match is None:
                raise QuirksError(detail=f"{e.where}: entry {e.name!r} needs 'match' (a part of the reader name)")
        kept = [theirs[e.name].merged_over(e) if e.name in theirs else e for e in self.entries]
        return QuirksTable(tuple(new + kept), self.sources + extra.sources)


# --- what a read uses ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ReaderQuirks:
    """The settings one reader gets: the matched entry over ``default``, the workarounds of any
    known-bad firmware that applies, then the inline config keys."""

    entry: str
    reader: str
    read_chunk: int                     # most bytes per READ BINARY (65536: a whole file at once)
    ladder: tuple[int, ...]             # short READ BINARY sizes, in the order tried
    max_response: int
    extended_length: bool               # one READ BINARY of read_chunk (> 256) comes first
    protocols: tuple[str, ...]
    firmware: str | None = None
    note: str = ""
    source: str = ""
    warnings: tuple[str, ...] = ()      # notes of known-bad firmware that applies
    overrides: tuple[str, ...] = ()     # the inline config keys that changed something

    @property
    def read_sizes(self) -> tuple[int, ...]:
        """Le values the first READ BINARY of a session tries, in order (above 256: extended length)."""
        return ((self.read_chunk,) if self.extended_length else ()) + self.ladder

    def summary(self) -> dict:
        """Plain facts for diagnostics, read statistics and the APDU log header."""
        out = {"entry": self.entry, "reader": self.reader, "firmware": self.firmware,
               "read_sizes": list(self.read_sizes), "max_response": self.max_response,
               "extended_length": self.extended_length, "protocols": list(self.protocols)}
        for key in ("note", "source"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.overrides:
            out["overrides"] = list(self.overrides)
        return out


def _ladder(chunk: int, sizes) -> tuple[int, ...]:
    out: list[int] = []
    for size in (chunk, *sizes):
        if size <= chunk and size not in out:
            out.append(size)
    return tuple(out)


def resolve(table: QuirksTable, reader: str, firmware: str | None = None,
            overrides: Mapping[str, Any] | None = None) -> ReaderQuirks:
    """The quirks of ``reader`` (its PC/SC name) with ``firmware`` (None: unknown).

    ``overrides`` are the inline config keys: ``read_chunk`` (0: from the table), ``read_extended``
    ("auto" | "yes" | "no"), ``protocols`` ("auto" or e.g. "T0" / "T1,T0"). An extended-length
    READ BINARY is tried only where the reader carries them and ``read_chunk`` is above 256: a
    ``read_chunk`` of 128 means no READ BINARY asks for more than 128 bytes."""
    entry = table.match(reader)
    values = {**table.default.values, **entry.values}
    warnings = []
    for bad in entry.known_bad:
        if bad.applies(reader, firmware):
            values.update(bad.set)
            warnings.append(bad.note + (f" ({bad.source})" if bad.source else ""))
    changed = []
    o = dict(overrides or {})
    if int(o.get("read_chunk") or 0) > 0:
        values["read_chunk"] = int(o["read_chunk"])
        changed.append(f"read_chunk = {values['read_chunk']}")
    if o.get("read_extended") in ("yes", "no"):
        values["extended_length"] = o["read_extended"] == "yes"
        changed.append(f"read_extended = {o['read_extended']!r}")
    if o.get("protocols") not in (None, "", "auto"):
        values["protocols"] = parse_protocols(str(o["protocols"]))
        changed.append(f"protocols = {o['protocols']!r}")
    chunk = int(values["read_chunk"])
    return ReaderQuirks(
        entry=entry.name, reader=reader, read_chunk=chunk, ladder=_ladder(min(chunk, 256), values.get("ladder") or ()),
        max_response=int(values["max_response"]), extended_length=bool(values["extended_length"]) and chunk > 256,
        protocols=tuple(values["protocols"]), firmware=firmware, note=entry.note, source=entry.source,
        warnings=tuple(warnings), overrides=tuple(changed))


def parse_protocols(text: str) -> tuple[str, ...]:
    """"T1,T0" → ("T1", "T0"); also accepts "T=1", spaces and "+"."""
    names = [p.strip().upper().replace("=", "") for p in re.split(r"[,+\s]+", text) if p.strip()]
    if not names or any(n not in PROTOCOLS for n in names) or len(set(names)) != len(names):
        raise ValueError(f"protocols: expected T1 and/or T0 in order of preference, got {text!r}")
    return tuple(names)


# --- firmware ------------------------------------------------------------------------------------
def firmware_from_attrib(raw) -> str | None:
    """``SCARD_ATTR_VENDOR_IFD_VERSION`` (a little-endian DWORD 0xMMmmbbbb; the CCID driver puts
    the USB bcdDevice in MMmm) → "2.06"; the build number is appended when not zero. None when
    the driver gave nothing usable."""
    data = bytes(raw or b"")
    if len(data) != 4:
        return None
    value = int.from_bytes(data, "little")
    major, minor, build = value >> 24, (value >> 16) & 0xFF, value & 0xFFFF
    if not (major or minor or build):
        return None
    text = f"{major:x}.{minor:02x}"          # BCD digits read as written: 0x0206 → "2.06"
    return f"{text}.{build}" if build else text


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def firmware_matches(condition: str, firmware: str) -> bool:
    """``condition`` "< 2.06" (also <=, ==, >=, >) compares version numbers; anything else is a
    regular expression searched in ``firmware``."""
    m = _VERSION_CMP.fullmatch(condition)
    if not m:
        return re.search(condition, firmware, re.I) is not None
    op, want = m.group(1), _version(m.group(2))
    have = _version(firmware)
    if not have:
        return False
    width = max(len(have), len(want))
    have, want = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    return {"<": have < want, "<=": have <= want, "==": have == want, ">=": have >= want, ">": have > want}[op]


# --- parsing, with the line of every mistake -----------------------------------------------------
class _Node:
    """A parsed YAML value with the line it starts on (and, for mappings, each key's line)."""

    def __init__(self, value, line: int, key_lines: dict[str, int] | None = None):
        self.value, self.line, self.key_lines = value, line, key_lines or {}


def _compose(text: str, where: str) -> _Node | None:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise QuirksError(detail=f"{where}{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return None if node is None else _build(node, where)


def _build(node, where: str) -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out, lines = {}, {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise QuirksError(detail=f"{where}:{k.start_mark.line + 1}: keys must be plain names")
            if key in out:
                raise QuirksError(detail=f"{where}:{k.start_mark.line + 1}: '{key}' appears twice")
            out[key], lines[key] = _build(v, where), k.start_mark.line + 1
        return _Node(out, line, lines)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_build(v, where) for v in node.value], line)
    return _Node(_scalar(node), line)


def _scalar(node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _plain(n: _Node) -> Any:
    if isinstance(n.value, dict):
        return {k: _plain(v) for k, v in n.value.items()}
    if isinstance(n.value, list):
        return [_plain(v) for v in n.value]
    return n.value


def _check_value(key: str, n: _Node, at: str) -> Any:
    v = _plain(n)

    def bad(expected: str):
        return QuirksError(detail=f"{at}:{n.line}: {key}: expected {expected}, got {v!r}")

    if key == "read_chunk":
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= EXTENDED:
            raise bad(f"a whole number of bytes from 1 to {EXTENDED}")
    elif key == "ladder":
        if not isinstance(v, list) or not v or any(isinstance(x, bool) or not isinstance(x, int) or not 1 <= x <= 256 for x in v):
            raise bad("a list of READ BINARY sizes from 1 to 256")
    elif key == "max_response":
        if isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 65538:
            raise bad("a whole number of bytes from 16 to 65538")
    elif key == "extended_length":
        if not isinstance(v, bool):
            raise bad("true or false")
    elif key == "protocols":
        if not isinstance(v, list) or not v or any(x not in PROTOCOLS for x in v) or len(set(v)) != len(v):
            raise bad("a list of T1 and/or T0, in order of preference")
        v = tuple(v)
    elif key in ("match", "firmware"):
        if not isinstance(v, str) or not v.strip():
            raise bad("a regular expression" + (" or a version condition such as '< 2.06'" if key == "firmware" else ""))
        if not (key == "firmware" and _VERSION_CMP.fullmatch(v)):
            try:
                re.compile(v)
            except re.error as exc:
                raise QuirksError(detail=f"{at}:{n.line}: {key}: not a valid regular expression: {exc}") from None
    elif key in ("note", "source", "name"):
        if not isinstance(v, str):
            raise bad("text")
    return v


def _fields(n: _Node, allowed: tuple[str, ...], what: str, at: str) -> dict[str, Any]:
    if not isinstance(n.value, dict):
        raise QuirksError(detail=f"{at}:{n.line}: {what} must be a mapping of fields")
    out = {}
    for key, child in n.value.items():
        if key not in allowed:
            raise QuirksError(detail=f"{at}:{n.key_lines[key]}: unknown field '{key}' in {what}; "
                                     f"expected one of: {', '.join(allowed)}")
        out[key] = child
    return out


def parse_table(text: str, where: str = "<quirks>") -> QuirksTable:
    """A quirks table from YAML ``text``; ``where`` (the file name) prefixes every error."""
    root = _compose(text, where)
    if root is None:
        raise QuirksError(detail=f"{where}: the file is empty")
    top = _fields(root, ("format", "readers"), "the file", where)
    if "format" in top and _plain(top["format"]) != 1:
        raise QuirksError(detail=f"{where}:{top['format'].line}: format: expected 1")
    if "readers" not in top or not isinstance(top["readers"].value, list):
        raise QuirksError(detail=f"{where}:{root.line}: expected 'readers:' with a list of entries")
    entries, seen = [], {}
    for item in top["readers"].value:
        f = _fields(item, _ENTRY_FIELDS, "a reader entry", where)
        if "name" not in f:
            raise QuirksError(detail=f"{where}:{item.line}: a reader entry needs 'name'")
        name = _check_value("name", f["name"], where)
        if not _NAME.fullmatch(name):
            raise QuirksError(detail=f"{where}:{f['name'].line}: name: expected a-z, 0-9 and '-', got {name!r}")
        if name in seen:
            raise QuirksError(detail=f"{where}:{f['name'].line}: entry {name!r} already defined on line {seen[name]}")
        seen[name] = f["name"].line
        values = {k: _check_value(k, f[k], where) for k in _SETTABLE if k in f}
        if name == "default" and "match" in f:
            raise QuirksError(detail=f"{where}:{f['match'].line}: the default entry has no 'match'")
        bads = []
        if "known_bad" in f:
            if not isinstance(f["known_bad"].value, list):
                raise QuirksError(detail=f"{where}:{f['known_bad'].line}: known_bad: expected a list")
            for b in f["known_bad"].value:
                bf = _fields(b, _BAD_FIELDS, "a known_bad item", where)
                if "note" not in bf:
                    raise QuirksError(detail=f"{where}:{b.line}: a known_bad item needs 'note' (what the technician reads)")
                if "firmware" not in bf and "match" not in bf:
                    raise QuirksError(detail=f"{where}:{b.line}: a known_bad item needs 'firmware' or 'match'")
                workaround = {}
                if "set" in bf:
                    sf = _fields(bf["set"], _SETTABLE, "set", where)
                    workaround = {k: _check_value(k, v, where) for k, v in sf.items()}
                bads.append(KnownBad(note=_check_value("note", bf["note"], where),
                                     firmware=_check_value("firmware", bf["firmware"], where) if "firmware" in bf else None,
                                     match=_check_value("match", bf["match"], where) if "match" in bf else None,
                                     source=_check_value("source", bf["source"], where) if "source" in bf else "",
                                     set=workaround, where=f"{where}:{b.line}"))
        entries.append(Entry(name, values, _check_value("match", f["match"], where) if "match" in f else None,
                             _check_value("note", f["note"], where) if "note" in f else "",
                             _check_value("source", f["source"], where) if "source" in f else "",
                             tuple(bads), f"{where}:{item.line}"))
    return QuirksTable(tuple(entries), (where,))


def _check_complete(table: QuirksTable) -> QuirksTable:
    """The merged table must have a complete ``default`` and every other entry a ``match``."""
    names = [e.name for e in table.entries]
    if "default" not in names:
        raise QuirksError(detail=f"{', '.join(table.sources)}: no 'default' entry")
    d = table.default
    missing = [k for k in ("read_chunk", "max_response", "extended_length", "protocols") if k not in d.values]
    if missing:
        raise QuirksError(detail=f"{d.where}: the default entry must set {', '.join(missing)}")
    for e in table.entries:
        if e.name != "default" and e.match is None:
            raise QuirksError(detail=f"{e.where}: entry {e.name!r} needs 'match' (a part of the reader name)")
    # default last: it is the fallback, never a match
    return replace(table, entries=tuple(e for e in table.entries if e.name != "default") + (d,))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuirksError(detail=f"{path}: quirks file not found ([devices.idcard] quirks_file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuirksError(detail=f"{path}: cannot read: {exc}") from None


@lru_cache(maxsize=1)
def builtin_table() -> QuirksTable:
    return _check_complete(parse_table(_read(BUILTIN_FILE), str(BUILTIN_FILE)))


def load_table(extra: str | Path | None = None) -> QuirksTable:
    """The built-in table, with the file ``extra`` (if any) merged over it."""
    table = builtin_table()
    if extra:
        path = Path(extra)
        table = _check_complete(table.merged(parse_table(_read(path), str(path))))
    return table
