"""ESC/POS byte stream → image: a small emulator of a thermal printer's paper.

It understands the commands this package sends (and python-escpos emits for them): ESC @, ESC a,
ESC E, ESC !, GS !, ESC t, ESC d, ESC J, ESC 2/3, LF/CR, GS v 0 rasters, GS ( k QR (model, size,
error level, store, print), GS V cuts and DLE EOT status queries, plus printable text. Anything
else raises :class:`EscposParseError`: as a test oracle it must not guess.

It is also the sim backend's renderer, and :func:`qr_symbol` / :func:`text_line` are the drawing
rules the preview shares, so "what the emulator reconstructs" and "the preview" are defined by
one set of rules for printer-drawn elements (QR, native text) and by the bytes for rasters.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import segno
from PIL import Image, ImageDraw

from .fonts import font

ESC, GS, DLE, LF, CR = 0x1B, 0x1D, 0x10, 0x0A, 0x0D
LINE_PITCH = 30         # dots per text line (ESC 2 default)
CELL_W, CELL_H = 12, 24  # font A
_ECC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_CODE_PAGES = {52: "cp1258"}
_INVERT = bytes(255 - v for v in range(256))


class EscposParseError(ValueError):
    """The stream holds a command this emulator does not know, or a truncated one."""


@dataclass
class Command:
    name: str
    offset: int
    args: tuple = ()
    data: bytes = b""


def _need(buf: bytes, i: int, n: int) -> bool:
    return i + n <= len(buf)


def tokenize(buf: bytes, final: bool = True) -> tuple[list[Command], int]:
    """Split a stream into commands. With ``final=False`` a truncated command at the end is left
    unconsumed (the returned count says how far it got) instead of raising."""
    out: list[Command] = []
    i, n = 0, len(buf)

    def short():
        if final:
            raise EscposParseError(f"truncated command at byte {i}")

    while i < n:
        b = buf[i]
        if b == ESC:
            if not _need(buf, i, 2):
                short(); break
            c = buf[i + 1]
            if c == 0x40:
                out.append(Command("init", i)); i += 2
            elif c == 0x32:
                out.append(Command("line_spacing_default", i)); i += 2
            elif c in (0x61, 0x45, 0x21, 0x74, 0x64, 0x4A, 0x33, 0x4D, 0x2D, 0x47):
                if not _need(buf, i, 3):
                    short(); break
                name = {0x61: "align", 0x45: "bold", 0x21: "print_mode", 0x74: "code_page", 0x64: "feed_lines",
                        0x4A: "feed_dots", 0x33: "line_spacing", 0x4D: "font", 0x2D: "underline",
                        0x47: "double_strike"}[c]
                out.append(Command(name, i, (buf[i + 2],))); i += 3
            else:
                raise EscposParseError(f"unknown command ESC 0x{c:02X} at byte {i}")
        elif b == GS:
            if not _need(buf, i, 2):
                short(); break
            c = buf[i + 1]
            if c == 0x21:
                if not _need(buf, i, 3):
                    short(); break
                out.append(Command("char_size", i, (buf[i + 2],))); i += 3
            elif c == 0x76:  # GS v 0 m xL xH yL yH d1…dk
                if not _need(buf, i, 8):
                    short(); break
                if buf[i + 2] != 0x30:
                    raise EscposParseError(f"GS v with function 0x{buf[i + 2]:02X} at byte {i}")
                m = buf[i + 3]
                wb = buf[i + 4] | buf[i + 5] << 8
                h = buf[i + 6] | buf[i + 7] << 8
                if not _need(buf, i, 8 + wb * h):
                    short(); break
                out.append(Command("raster", i, (m, wb, h), buf[i + 8:i + 8 + wb * h])); i += 8 + wb * h
            elif c == 0x28 and _need(buf, i, 3) and buf[i + 2] == 0x6B:  # GS ( k pL pH cn fn …
                if not _need(buf, i, 5):
                    short(); break
                size = buf[i + 3] | buf[i + 4] << 8
                if not _need(buf, i, 5 + size):
                    short(); break
                body = buf[i + 5:i + 5 + size]
                if len(body) < 2:
                    raise EscposParseError(f"GS ( k too short at byte {i}")
                out.append(Command("2d", i, (body[0], body[1]), body[2:])); i += 5 + size
            elif c == 0x56:  # GS V m [n]
                if not _need(buf, i, 3):
                    short(); break
                m = buf[i + 2]
                if m in (0, 1, 48, 49):
                    out.append(Command("cut", i, (m,))); i += 3
                elif m in (65, 66):
                    if not _need(buf, i, 4):
                        short(); break
                    out.append(Command("cut", i, (m, buf[i + 3]))); i += 4
                else:
                    raise EscposParseError(f"GS V with mode {m} at byte {i}")
            elif c == 0x28 and not _need(buf, i, 3):
                short(); break
            else:
                raise EscposParseError(f"unknown command GS 0x{c:02X} at byte {i}")
        elif b == DLE:
            if not _need(buf, i, 3):
                short(); break
            if buf[i + 1] != 0x04:
                raise EscposParseError(f"unknown real-time command DLE 0x{buf[i + 1]:02X} at byte {i}")
            out.append(Command("status_query", i, (buf[i + 2],))); i += 3
        elif b == LF:
            out.append(Command("lf", i)); i += 1
        elif b == CR:
            i += 1
        elif b >= 0x20 and b != 0x7F:
            j = i
            while j < n and buf[j] >= 0x20 and buf[j] != 0x7F:
                j += 1
            out.append(Command("text", i, (), buf[i:j])); i = j
        else:
            raise EscposParseError(f"unexpected control byte 0x{b:02X} at byte {i}")
    return out, i


# --- drawing rules shared with the preview ---------------------------------------------------
def qr_symbol(payload: bytes, module: int, ecc: str) -> Image.Image:
    """The QR a printer draws for GS ( k: model 2, the given error level, no quiet zone (the
    layout leaves white space around it). Never Micro QR."""
    try:
        content = payload.decode("utf-8")
    except UnicodeDecodeError:
        content = payload
    qr = segno.make_qr(content, error=ecc, boost_error=False, encoding="utf-8" if isinstance(content, str) else None)
    return qr_image(qr, module)


def qr_image(qr: "segno.QRCode", module: int) -> Image.Image:
    """A segno symbol as a mode "1" image, ``module`` dots per module, no quiet zone."""
    n = len(qr.matrix)
    cells = bytes(0 if v else 255 for row in qr.matrix for v in row)
    small = Image.frombytes("L", (n, n), cells)
    return small.resize((n * module, n * module), Image.NEAREST).convert("1")


def text_line(text: str, width: int, align: int, bold: bool) -> Image.Image:
    """How this emulator draws a line of the printer's own font A (12×24 cells, 30-dot pitch)."""
    img = Image.new("L", (width, LINE_PITCH), 255)
    draw = ImageDraw.Draw(img)
    f = font("bold" if bold else "regular", 18)
    cols = width // CELL_W
    text = text[:cols]
    x0 = {0: 0, 1: (width - len(text) * CELL_W) // 2, 2: width - len(text) * CELL_W}[align]
    for k, ch in enumerate(text):
        draw.text((x0 + k * CELL_W + CELL_W // 2, 20), ch, font=f, fill=0, anchor="ms")
    return img.point(lambda v: 255 if v >= 140 else 0, mode="1")


def decode_text(data: bytes, code_page: str | None) -> str:
    if code_page is None:
        return data.decode("ascii", errors="replace")
    return unicodedata.normalize("NFC", data.decode(code_page, errors="replace"))


# --- the paper -------------------------------------------------------------------------------
@dataclass
class Rendered:
    image: Image.Image                      # everything printed, mode "1", width = dots
    cuts: list[int] = field(default_factory=list)        # y of each cut
    qr_payloads: list[bytes] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)  # native text printed
    status_queries: list[int] = field(default_factory=list)
    raster_count: int = 0


class _Paper:
    def __init__(self, width: int):
        self.width = width
        self.pieces: list[tuple[int, Image.Image]] = []  # (y, image)
        self.y = 0

    def add(self, img: Image.Image, x: int = 0) -> None:
        row = Image.new("1", (self.width, img.height), 255)
        row.paste(img.crop((0, 0, min(img.width, self.width - x), img.height)), (x, 0))
        self.pieces.append((self.y, row))
        self.y += img.height

    def skip(self, dots: int) -> None:
        self.y += dots

    def image(self) -> Image.Image:
        out = Image.new("1", (self.width, self.y), 255)
        for y, img in self.pieces:
            out.paste(img, (0, y))
        return out


def render(stream: bytes, dots: int) -> Rendered:
    """Reconstruct the paper a ``dots``-wide printer would produce from ``stream``."""
    commands, _ = tokenize(stream, final=True)
    paper = _Paper(dots)
    res = Rendered(image=None)  # type: ignore[arg-type]
    align, bold, code_page = 0, False, None
    qr_module, qr_ecc, qr_data = 3, "L", b""
    line = b""

    def flush_line():
        nonlocal line
        text = decode_text(line, code_page)
        paper.add(text_line(text, dots, align, bold))
        res.text_lines.append(text)
        line = b""

    for cmd in commands:
        if cmd.name == "init":
            align, bold, code_page = 0, False, None
        elif cmd.name == "align":
            align = cmd.args[0] % 48 if cmd.args[0] >= 48 else cmd.args[0]
            if align not in (0, 1, 2):
                raise EscposParseError(f"bad justification {cmd.args[0]} at byte {cmd.offset}")
        elif cmd.name == "bold":
            bold = bool(cmd.args[0] & 1)
        elif cmd.name == "code_page":
            code_page = _CODE_PAGES.get(cmd.args[0])
            if code_page is None and cmd.args[0] != 0:
                raise EscposParseError(f"code page {cmd.args[0]} not emulated (byte {cmd.offset})")
        elif cmd.name == "text":
            line += cmd.data
        elif cmd.name == "lf":
            flush_line()
        elif cmd.name == "feed_lines":
            if line:
                flush_line()
            paper.skip(cmd.args[0] * LINE_PITCH)
        elif cmd.name == "feed_dots":
            paper.skip(cmd.args[0])
        elif cmd.name == "raster":
            m, wb, h = cmd.args
            if m not in (0, 48):
                raise EscposParseError(f"GS v 0 density mode {m} not emulated (byte {cmd.offset})")
            # GS v 0 data: 1 bit = black dot; PIL mode "1" raw: 1 = white, so invert
            img = Image.frombytes("1", (wb * 8, h), cmd.data.translate(_INVERT))
            paper.add(img)
            res.raster_count += 1
        elif cmd.name == "2d":
            cn, fn = cmd.args
            if cn != 49:
                raise EscposParseError(f"2D code type {cn} not emulated (byte {cmd.offset})")
            if fn == 65:
                if cmd.data[:1] != b"2":
                    raise EscposParseError(f"QR model {cmd.data[:1]!r} not emulated (only model 2)")
            elif fn == 67:
                qr_module = cmd.data[0]
            elif fn == 69:
                qr_ecc = _ECC[cmd.data[0]]
            elif fn == 80:
                qr_data = cmd.data[1:]  # after m = '0'
            elif fn == 81:
                sym = qr_symbol(qr_data, qr_module, qr_ecc)
                x = {0: 0, 1: (dots - sym.width) // 2, 2: dots - sym.width}[align]
                paper.add(sym, max(0, x))
                res.qr_payloads.append(qr_data)
            else:
                raise EscposParseError(f"QR function {fn} not emulated (byte {cmd.offset})")
        elif cmd.name == "cut":
            if line:
                flush_line()
            if cmd.args[0] in (65, 66):
                paper.skip(cmd.args[1])
            res.cuts.append(paper.y)
        elif cmd.name == "status_query":
            res.status_queries.append(cmd.args[0])
        elif cmd.name == "line_spacing_default":
            pass
        elif cmd.name in ("print_mode", "char_size", "font", "underline", "double_strike"):
            # only their "reset" form is accepted: our layouts never use them, so a non-zero value
            # means the stream is not what this oracle can draw faithfully
            if cmd.args[0] not in (0, 48):
                raise EscposParseError(f"{cmd.name} {cmd.args[0]} not emulated (byte {cmd.offset})")
        else:
            raise EscposParseError(f"{cmd.name} not emulated (byte {cmd.offset})")
    if line:
        flush_line()
    res.image = paper.image()
    return res
