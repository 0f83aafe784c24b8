"""Vietnamese text → 1-bit raster bands, wrapped by pixel width. Pure: no I/O besides the font.

A band is a PIL image in mode "1" exactly ``width`` dots wide (white = 1, black = 0), ready for
GS v 0. Text is drawn with the bundled font, anti-aliased, then thresholded: thermal heads print
dots, not grey, and thresholding keeps thin diacritics that 1-bit FreeType rendering can drop.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

from .fonts import font, line_box

# style name → (weight, size name in the profile's `sizes`)
STYLES: dict[str, tuple[str, str]] = {
    "small": ("regular", "small"),
    "normal": ("regular", "normal"),
    "bold": ("bold", "normal"),
    "large": ("regular", "large"),
    "large_bold": ("bold", "large"),
    "xlarge_bold": ("bold", "xlarge"),
    "huge": ("bold", "huge"),
}
ALIGNS = ("left", "center", "right")
_THRESHOLD = 140  # on 0..255 grey, white background: a bit darker than half keeps strokes solid


@dataclass(frozen=True)
class Run:
    """A piece of text in one style; a paragraph is a list of runs wrapped together."""
    text: str
    style: str = "normal"


def _font_for(style: str, sizes: dict[str, int]):
    try:
        weight, size_name = STYLES[style]
    except KeyError:
        raise ValueError(f"unknown text style {style!r}; expected one of {', '.join(STYLES)}") from None
    size = sizes[size_name]
    return weight, size, font(weight, size)


def _words(runs: list[Run], sizes: dict[str, int]):
    """Split runs into (word, weight, size, font, space_before) tokens."""
    tokens = []
    pending_space = False
    for run in runs:
        text = unicodedata.normalize("NFC", run.text)
        weight, size, f = _font_for(run.style, sizes)
        parts = text.split(" ")
        for i, part in enumerate(parts):
            if i > 0:
                pending_space = True
            if part:
                tokens.append((part, weight, size, f, pending_space))
                pending_space = False
    return tokens


_WIDTHS: dict[tuple[int, str], float] = {}


def _width(f, text: str) -> float:
    """Cached advance width: receipts repeat the same syllables, and measuring dominates wrapping."""
    key = (id(f), text)
    w = _WIDTHS.get(key)
    if w is None:
        if len(_WIDTHS) > 50_000:
            _WIDTHS.clear()
        w = _WIDTHS[key] = f.getlength(text)
    return w


_BREAK_AFTER = "-./|,;:"


def _split_long(word: str, f, avail: float) -> list[str]:
    """A word wider than the line: break after a hyphen, dot or slash when one fits (codes such
    as 000.00.04.H26-261123-0001 stay readable), else between characters."""
    pieces, cur = [], ""
    for ch in word:
        if cur and _width(f, cur + ch) > avail:
            cut = max(cur.rfind(c) for c in _BREAK_AFTER)
            if 0 < cut < len(cur) - 1:
                pieces.append(cur[:cut + 1])
                cur = cur[cut + 1:] + ch
            else:
                pieces.append(cur)
                cur = ch
        else:
            cur += ch
    if cur:
        pieces.append(cur)
    return pieces


def layout_lines(runs: list[Run], width: int, sizes: dict[str, int], hanging: int = 0):
    """Greedy wrap by pixel width. Returns lines of segments (x, text, weight, size)."""
    lines: list[list[tuple[float, str, str, int]]] = [[]]
    x = 0.0
    for word, weight, size, f, space_before in _words(runs, sizes):
        indent = hanging if len(lines) > 1 else 0
        avail = width - indent
        w = _width(f, word)
        gap = _width(f, " ") if (space_before and lines[-1]) else 0.0
        if lines[-1] and x + gap + w > avail:
            lines.append([])
            x, gap = 0.0, 0.0
            avail = width - hanging
        if w > avail:
            pieces = _split_long(word, f, avail - x - gap) if not lines[-1] else _split_long(word, f, avail)
            for j, piece in enumerate(pieces):
                if j:
                    lines.append([])
                    x, gap = 0.0, 0.0
                lines[-1].append((x + gap, piece, weight, size))
                x += gap + _width(f, piece)
                gap = 0.0
            continue
        lines[-1].append((x + gap, word, weight, size))
        x += gap + w
    return [ln for ln in lines if ln] or [[]]


def render_runs(runs: list[Run], width: int, sizes: dict[str, int], align: str = "left",
                indent: int = 0, hanging: int = 0, leading: int | None = None) -> Image.Image:
    """One paragraph as a band ``width`` dots wide. ``indent`` shifts every line right;
    ``hanging`` shifts the second and later lines further (for numbered lists)."""
    if align not in ALIGNS:
        raise ValueError(f"unknown alignment {align!r}; expected one of {', '.join(ALIGNS)}")
    avail = width - indent
    lines = layout_lines(runs, avail, sizes, hanging)
    default_size = sizes["normal"]
    boxes = []
    for line in lines:
        metrics = [line_box(w, s) for _, _, w, s in line] or [line_box("regular", default_size)]
        asc = max(m[0] for m in metrics)
        desc = max(m[1] for m in metrics)
        size = max([s for *_, s in line] or [default_size])
        boxes.append((asc, desc, leading if leading is not None else max(2, size // 6)))
    height = sum(a + d + g for a, d, g in boxes)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    y = 0
    for i, (line, (asc, desc, gap)) in enumerate(zip(lines, boxes)):
        left = indent + (hanging if i > 0 else 0)
        if line:
            last_x, last_text, last_w, last_s = line[-1]
            line_w = last_x + _width(font(last_w, last_s), last_text)
            room = width - left - line_w
            shift = {"left": 0, "center": room / 2, "right": room}[align]
            for x, text, weight, size in _merge(line):
                draw.text((round(left + shift + x), y + asc), text, font=font(weight, size), fill=0, anchor="ls")
        y += asc + desc + gap
    return to_band(img)


def _merge(line):
    """Neighbouring words of one font, one space apart, drawn as one string: one FreeType render
    call per run instead of one per word."""
    out = []
    for x, text, weight, size in line:
        if out and out[-1][2:] == (weight, size):
            px, ptext, *_ = out[-1]
            f = font(weight, size)
            if abs(x - (px + _width(f, ptext) + _width(f, " "))) < 0.01:
                out[-1] = (px, ptext + " " + text, weight, size)
                continue
        out.append((x, text, weight, size))
    return out


def render_text(text: str, width: int, sizes: dict[str, int], style: str = "normal", align: str = "left",
                **kw) -> Image.Image:
    return render_runs([Run(text, style)], width, sizes, align, **kw)


def banner(text: str, width: int, sizes: dict[str, int], style: str = "bold", align: str = "center") -> Image.Image:
    """White letters on a black band, padded so the marks do not touch its edges."""
    band = render_text(text, width, sizes, style, align)
    pad = sizes["normal"] // 2
    framed = blank(width, band.height + 2 * pad)
    framed.paste(band, (0, pad))
    return ImageChops.invert(framed)


def to_band(img: Image.Image) -> Image.Image:
    """Grey → 1-bit by a fixed threshold (no dithering: dots must be crisp and deterministic)."""
    return img.point(lambda v: 255 if v >= _THRESHOLD else 0, mode="1")


def blank(width: int, height: int) -> Image.Image:
    return Image.new("1", (width, max(0, height)), 255)


def rule(width: int, style: str = "solid", thickness: int = 2, margin: int = 6) -> Image.Image:
    img = blank(width, thickness + 2 * margin)
    draw = ImageDraw.Draw(img)
    if style == "dashed":
        for x in range(0, width, 12):
            draw.rectangle((x, margin, min(x + 7, width - 1), margin + thickness - 1), fill=0)
    else:
        draw.rectangle((0, margin, width - 1, margin + thickness - 1), fill=0)
    return img


def stack(bands: list[Image.Image], width: int) -> Image.Image:
    """Bands one under the other in a single band."""
    out = blank(width, sum(b.height for b in bands))
    y = 0
    for b in bands:
        if b.width != width:
            raise ValueError(f"band is {b.width} dots wide, expected {width}")
        out.paste(b, (0, y))
        y += b.height
    return out
