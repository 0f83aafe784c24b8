"""Layouts as data: YAML templates under layouts/ filled from a dict of values → print elements.

A layout file declares its ``fields`` (type, required, what it means — docs/printing.md lists
them) and its ``blocks``, drawn top to bottom:

    text   a paragraph: ``text`` (template), ``style``, ``align``, ``invert`` (white on black),
           ``native: allowed`` (may go as printer text when ASCII-only and the profile allows)
    field  the label given as ``field`` in bold, then ``value`` (template), wrapped with a
           hanging indent (``hanging`` dots, default one text height)
    list   the items of a list field (``list: key``), optionally ``numbered``, with a ``heading``
           (in ``heading_style``, default bold), a ``style`` and an ``indent``; or, with ``list``
           given as a list, items written in the layout itself: each a template, or
           ``{text, when, unless, items}`` (``items: key`` lists that list field's values under
           the item, each after a dash); an item whose ``when`` is empty is left out and the
           numbers close up (the receipt's "Việc cần làm")
    rule   a ``solid`` or ``dashed`` line
    space  blank dots
    qr     a QR code of ``qr`` (template; nothing when empty), ``module`` dots per module:
           native where the profile supports it, else raster; 4 white modules above and below
    feed   paper feed in text lines; ``cut`` (full or partial) feeds the profile's
           ``feed_before_cut`` lines and ends the job (a cut only if the profile has a cutter)

Any block may have ``when: key`` (drawn only when the value is present and not empty) or
``unless: key`` (only when it is empty).
Templates are ``str.format`` strings: ``{received_at:%H:%M %d/%m/%Y}`` formats dates and
``{applicant_id!m}`` masks all but the last four characters.
"""
from __future__ import annotations

import logging
import string
import unicodedata
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
import yaml

from common import clock

from . import escpos_render, raster
from .document import Band, Cut, Element, Feed, NativeQR, NativeText
from .errors import LayoutError
from .fonts import vietnamese_letters
from .profiles import Profile

log = logging.getLogger(__name__)

LAYOUT_DIR = Path(__file__).resolve().parent / "layouts"
LAYOUT_NAMES = ("receipt", "provisional_receipt", "ticket", "test_page")
_TYPES = ("text", "int", "date", "datetime", "list")
QR_QUIET_MODULES = 4  # white modules around a QR, as the standard asks


def mask_id(value: str, keep: int = 4) -> str:
    s = str(value)
    digits = [i for i, c in enumerate(s) if c.isalnum()]
    hide = set(digits[:-keep]) if len(digits) > keep else set()
    return "".join("•" if i in hide else c for i, c in enumerate(s))


class _Formatter(string.Formatter):
    def convert_field(self, value, conversion):
        if conversion == "m":
            return mask_id(value)
        return super().convert_field(value, conversion)


_FMT = _Formatter()


@lru_cache(maxsize=None)
def load_layout(name: str) -> dict[str, Any]:
    if name not in LAYOUT_NAMES:
        raise LayoutError(detail=f"unknown layout {name!r}; expected one of {', '.join(LAYOUT_NAMES)}",
                          code="unknown_layout")
    with open(LAYOUT_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    for key, f in spec.get("fields", {}).items():
        if f.get("type", "text") not in _TYPES:
            raise ValueError(f"layout {name}: field {key} has unknown type {f.get('type')!r}")
    return spec


def _one_line(text: str) -> str:
    """Line breaks, tabs and other control characters in data become single spaces: the layout
    decides where lines break, and a raw control byte must never reach the printer."""
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in text).split())


def _coerce(name: str, key: str, kind: str, value: Any) -> Any:
    bad = LayoutError(detail=f"layout {name}: field {key!r} must be {kind}")
    if kind == "text":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return _one_line(str(value))
        raise bad
    if kind == "int":
        if isinstance(value, bool):
            raise bad
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad from None
    if kind == "datetime":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise bad from None
        if isinstance(value, datetime):
            # paper shows Vietnam's local time, even for a time handed over in UTC (naive = local)
            return value.astimezone(clock.VN_TZ) if value.tzinfo is not None else value
        raise bad
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                raise bad from None
        raise bad
    if kind == "list":
        if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
            return [_one_line(str(v)) for v in value]
        raise bad
    raise bad  # pragma: no cover


def validate(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The data with declared types applied; raises LayoutError naming the first missing or bad
    key (key names only: values may be personal). Keys the layout does not declare are ignored."""
    spec = load_layout(name)
    if not isinstance(data, dict):
        raise LayoutError(detail=f"layout {name}: data must be a mapping of field names to values")
    out: dict[str, Any] = {}
    for key, f in spec.get("fields", {}).items():
        value = data.get(key)
        if value is None or value == "" or value == []:
            if f.get("required", False):
                raise LayoutError(detail=f"layout {name}: missing field {key!r}")
            out[key] = f.get("default", [] if f.get("type") == "list" else "")
            continue
        out[key] = _coerce(name, key, f.get("type", "text"), value)
    unknown = sorted(set(data) - set(out))
    if unknown:
        # callers often pass one dict for receipt and provisional receipt: extra keys are
        # ignored (their names, never values, are logged so a misspelt key can be found)
        log.debug("layout %s ignores key(s) %s", name, ", ".join(unknown))
    return out


def _fill(template: str, values: dict[str, Any], name: str) -> str:
    try:
        return _FMT.vformat(str(template), (), values)
    except (KeyError, IndexError, ValueError) as exc:
        raise LayoutError(detail=f"layout {name}: template {template!r} cannot be filled ({type(exc).__name__})") from None


def _qr_band(payload: str, profile: Profile, module: int) -> "raster.Image.Image":
    qr = segno.make_qr(payload, error="m", boost_error=False)
    sym = escpos_render.qr_image(qr, module)
    band = raster.blank(profile.dots_per_line, sym.height)
    band.paste(sym, ((profile.dots_per_line - sym.width) // 2, 0))
    return band


def _shown(block: dict, values: dict[str, Any]) -> bool:
    when, unless = block.get("when"), block.get("unless")
    return not ((when and not values.get(when)) or (unless and values.get(unless)))


def _list_items(block: dict, values: dict[str, Any], name: str) -> list[tuple[str, list[str]]]:
    """(text, sub-items) of a list block: a list field's values, or the layout's own items."""
    spec = block["list"]
    if not isinstance(spec, list):
        return [(item, []) for item in values.get(spec) or []]
    out = []
    for item in spec:
        item = item if isinstance(item, dict) else {"text": item}
        if not _shown(item, values):
            continue
        text = _fill(item["text"], values, name)
        if text:
            out.append((text, list(values.get(item["items"]) or []) if item.get("items") else []))
    return out


def text_lines(name: str, data: dict[str, Any]) -> list[str]:
    """The words a layout prints for ``data``, one string per text or field block (list items
    after their heading), without rasterising: what tests and a read-aloud of the receipt use."""
    spec = load_layout(name)
    values = validate(name, data)
    out: list[str] = []
    for block in spec["blocks"]:
        when, unless = block.get("when"), block.get("unless")
        if (when and not values.get(when)) or (unless and values.get(unless)):
            continue
        if "text" in block:
            out.append(_fill(block["text"], values, name))
        elif "field" in block:
            out.append(block["field"] + " " + _fill(block["value"], values, name))
        elif "list" in block:
            if block.get("heading"):
                out.append(_fill(block["heading"], values, name))
            for i, (text, subs) in enumerate(_list_items(block, values, name), 1):
                out.append(f"{i}. {text}" if block.get("numbered") and isinstance(block["list"], list) else text)
                out.extend(f"– {sub}" for sub in subs)
    return out


def build(name: str, data: dict[str, Any], profile: Profile) -> list[Element]:
    """Layout + data → print elements for ``profile``. Consecutive raster pieces are merged into
    one band so the printer gets few, large GS v 0 commands."""
    spec = load_layout(name)
    values = validate(name, data)
    values.update(profile_name=profile.name, dots_per_line=profile.dots_per_line, paper_mm=profile.paper_mm,
                  vietnamese_letters=" ".join(vietnamese_letters()))
    width, sizes = profile.dots_per_line, profile.sizes
    elements: list[Element] = []
    bands: list = []

    def flush():
        if bands:
            elements.append(Band(raster.stack(bands, width)))
            bands.clear()

    for block in spec["blocks"]:
        when, unless = block.get("when"), block.get("unless")
        if (when and not values.get(when)) or (unless and values.get(unless)):
            continue
        if "text" in block:
            text = _fill(block["text"], values, name)
            style, align = block.get("style", "normal"), block.get("align", "left")
            if (block.get("native") == "allowed" and profile.native_ascii and text.isascii()
                    and style in ("normal", "bold") and len(text) <= profile.columns and not block.get("invert")):
                flush()
                elements.append(NativeText(text, align, style == "bold"))
                continue
            if block.get("invert"):
                bands.append(raster.banner(text, width, sizes, style, align))
            else:
                bands.append(raster.render_text(text, width, sizes, style, align))
        elif "field" in block:
            runs = [raster.Run(block["field"] + " ", "bold"), raster.Run(_fill(block["value"], values, name))]
            bands.append(raster.render_runs(runs, width, sizes, hanging=block.get("hanging", sizes["normal"])))
        elif "list" in block:
            style = block.get("style", "normal")
            if block.get("heading"):
                bands.append(raster.render_text(_fill(block["heading"], values, name), width, sizes,
                                                block.get("heading_style", "bold")))
            # the hanging indent follows the items' own size, so a large item's second line
            # starts under its words, not under its number
            hang = sizes[raster.STYLES[style][1]]
            for i, (item, subs) in enumerate(_list_items(block, values, name), 1):
                label = f"{i}. " if block.get("numbered") else "– "
                bands.append(raster.render_runs([raster.Run(label + item, style)], width, sizes,
                                                indent=block.get("indent", 0), hanging=hang))
                for sub in subs:
                    bands.append(raster.render_runs([raster.Run("– " + sub, style)], width, sizes,
                                                    indent=block.get("indent", 0) + hang, hanging=hang))
        elif "rule" in block:
            bands.append(raster.rule(width, block["rule"]))
        elif "space" in block:
            bands.append(raster.blank(width, int(block["space"])))
        elif "qr" in block:
            payload = _fill(block["qr"], values, name)
            if not payload:
                continue
            module = int(block.get("module", profile.qr_module))
            quiet = raster.blank(width, QR_QUIET_MODULES * module)
            bands.append(quiet)
            if profile.native_qr:
                flush()
                elements.append(NativeQR(payload, module, "M"))
            else:
                bands.append(_qr_band(payload, profile, module))
            bands.append(quiet)
        elif "feed" in block:
            flush()
            elements.append(Feed(int(block["feed"])))
        elif "cut" in block:
            flush()
            elements.append(Feed(profile.feed_before_cut))
            elements.append(Cut(partial=block.get("cut") == "partial"))
        else:
            raise ValueError(f"layout {name}: unknown block {block!r}")
    flush()
    return elements
