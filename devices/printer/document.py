"""A print job as a list of elements, its ESC/POS bytes, and its preview.

Elements are what a layout produces: raster bands (Vietnamese text, rules, raster QR), QR codes
the printer draws itself, ASCII lines in the printer's own font, feeds and a cut. ``encode`` turns
them into bytes with python-escpos (GS v 0 via ``image(impl="bitImageRaster")``, GS ( k via
``qr(native=True)``); ``preview`` draws the same paper without going through bytes, using the
emulator's drawing rules for what the printer draws itself — the tests check both agree.
"""
from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass

from PIL import Image

from . import escpos_render
from .profiles import CODE_PAGES, Profile

ESC_INIT = b"\x1b@"
_ALIGN = {"left": 0, "center": 1, "right": 2}
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
# GS v 0 bands are cut in fragments at most this tall; printers buffer a whole command
FRAGMENT_HEIGHT = 960


@dataclass(frozen=True)
class Band:
    image: Image.Image  # mode "1", exactly profile.dots_per_line wide


@dataclass(frozen=True)
class NativeQR:
    payload: str
    module: int
    ecc: str = "M"


@dataclass(frozen=True)
class NativeText:
    text: str
    align: str = "left"
    bold: bool = False


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class Cut:
    partial: bool = False


Element = Band | NativeQR | NativeText | Feed | Cut


def to_code_page(text: str, code_page: str) -> bytes:
    """Vietnamese for a code-page printer: CP1258 has the base letters (ă â ê ô ơ ư đ) but tones
    only as combining marks, so tone marks are split off and sent after their letter."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        out.append(base + tones)
    return "".join(out).encode(code_page, errors="replace")


def _dummy(profile: Profile):
    # imported here: python-escpos pulls in barcode, qrcode and cups support (~0.5 s), which the
    # kiosk's start-up should not pay before the first print
    from escpos.printer import Dummy

    d = Dummy()
    # python-escpos checks widths against the profile (and prints a warning when it is unknown)
    d.profile.profile_data = copy.deepcopy(d.profile.profile_data)
    d.profile.profile_data["media"]["width"]["pixels"] = profile.dots_per_line
    return d


def encode(elements: list[Element], profile: Profile) -> bytes:
    d = _dummy(profile)
    d._raw(ESC_INIT)
    for el in elements:
        if isinstance(el, Band):
            if el.image.width != profile.dots_per_line:
                raise ValueError(f"band is {el.image.width} dots wide, profile has {profile.dots_per_line}")
            if el.image.height:
                d.image(el.image, impl="bitImageRaster", fragment_height=FRAGMENT_HEIGHT)
        elif isinstance(el, NativeQR):
            d._raw(b"\x1ba\x01")
            d.qr(el.payload, ec={"L": 0, "M": 1, "Q": 2, "H": 3}[el.ecc], size=el.module, native=True)
            d._raw(b"\x1ba\x00")
        elif isinstance(el, NativeText):
            body = to_code_page(el.text, profile.code_page) if profile.code_page else el.text.encode("ascii")
            d._raw(b"\x1ba" + bytes([_ALIGN[el.align]]))
            if profile.code_page:
                d._raw(b"\x1bt" + bytes([CODE_PAGES[profile.code_page]]))
            if el.bold:
                d._raw(b"\x1bE\x01")
            d._raw(body + b"\n")
            if el.bold:
                d._raw(b"\x1bE\x00")
            d._raw(b"\x1ba\x00")
        elif isinstance(el, Feed):
            if el.lines:
                d._raw(b"\x1bd" + bytes([el.lines]))
        elif isinstance(el, Cut):
            if profile.cutter:
                d._raw(b"\x1dV\x01" if el.partial else b"\x1dV\x00")
        else:  # pragma: no cover - the Element union is closed
            raise TypeError(f"not a print element: {el!r}")
    return d.output


def preview(elements: list[Element], profile: Profile) -> Image.Image:
    """The paper these elements print on, drawn directly (not from the bytes)."""
    width = profile.dots_per_line
    placed: list[tuple[int, int, Image.Image]] = []
    y = 0
    for el in elements:
        if isinstance(el, Band):
            placed.append((0, y, el.image))
            y += el.image.height
        elif isinstance(el, NativeQR):
            sym = escpos_render.qr_symbol(el.payload.encode("utf-8"), el.module, el.ecc)
            placed.append(((width - sym.width) // 2, y, sym))
            y += sym.height
        elif isinstance(el, NativeText):
            shown = el.text if not profile.code_page else escpos_render.decode_text(
                to_code_page(el.text, profile.code_page), profile.code_page)
            img = escpos_render.text_line(shown, width, _ALIGN[el.align], el.bold)
            placed.append((0, y, img))
            y += img.height
        elif isinstance(el, Feed):
            y += el.lines * escpos_render.LINE_PITCH
    out = Image.new("1", (width, y), 255)
    for x, yy, img in placed:
        out.paste(img, (x, yy))
    return out
