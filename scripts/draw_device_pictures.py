#!/usr/bin/env python3
"""Draw the identify screen's default pictures of the kiosk's own devices (media/devices/*.png).

The identify step shows the citizen where each device is with a picture of the kiosk, the device to
use ringed and an arrow or a scanning beam on it. These are the shipped drawings of the reference
kiosk (QR scanner on the left of the shelf below the screen, card reader on the right, the receipt
slot in the front); a province whose kiosk model looks different puts photos of its own in the
folder ``[kiosk] device_pictures`` names, under the same file names (kiosk.deployment.PICTURES).

No words are drawn into the pictures: the screen says the words, in the citizen's language. Every
picture has its own white ground, so it reads the same on the normal and the high-contrast theme.

    .venv/bin/python scripts/draw_device_pictures.py          # writes media/devices/
    .venv/bin/python scripts/draw_device_pictures.py --out DIR

Deterministic: the same script draws the same bytes (the QR pattern comes from a fixed seed), so
a rerun shows no change in git unless the drawing changed.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 480        # the picture as shipped (4:3)
S = 3                  # drawn at 3× and scaled down: smooth edges without a blur

INK = (27, 36, 48)             # outlines: near black, > 12:1 on the white ground
GROUND = (255, 255, 255)
BODY = (196, 204, 214)         # the kiosk's cabinet
SHELF = (226, 231, 237)
LIP = (160, 171, 184)
SCREEN = (45, 74, 115)
SCREEN_UI = (150, 180, 215)
SCANNER = (38, 48, 60)
GLASS = (79, 99, 120)
BEAM = (226, 40, 40)
PAD = (246, 247, 249)
WAVES = (80, 92, 108)
MARK = (255, 157, 0)           # the device to use: ring and arrow (orange, outlined in INK)
CARD = (156, 205, 232)         # the citizen ID card's light blue
CHIP = (222, 178, 60)
EMBLEM = (200, 30, 40)
PHONE = (30, 30, 34)

SCANNER_AT = (205, 262)        # centres on the shelf (in W×H units)
READER_AT = (440, 262)


def s(v):
    """Scale W×H units (a number, a point, a box or a list of points) to the drawing's pixels."""
    if isinstance(v, (int, float)):
        return v * S
    return type(v)(s(x) for x in v) if isinstance(v, tuple) else [s(x) for x in v]


class Pic:
    def __init__(self):
        self.img = Image.new("RGB", (W * S, H * S), GROUND)
        self.d = ImageDraw.Draw(self.img)

    def rect(self, box, fill, outline=INK, width=3, radius=8):
        self.d.rounded_rectangle(s(box), radius=s(radius), fill=fill, outline=outline, width=s(width) if outline else 0)

    def poly(self, points, fill, outline=INK, width=3):
        pts = s(points)
        self.d.polygon(pts, fill=fill)
        if outline:
            self.d.line(pts + [pts[0]], fill=outline, width=s(width), joint="curve")

    def save(self, path: Path) -> None:
        small = self.img.resize((W, H), Image.LANCZOS)
        # a small palette keeps each file well under 100 kB; the drawing has few colours anyway
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


# --- the kiosk ---------------------------------------------------------------------------------
def kiosk(p: Pic) -> None:
    # the lower edge of the screen, the sloping shelf with the devices, the cabinet with the slot
    p.rect((60, 330, 580, 500), BODY, radius=10)
    p.rect((250, 398, 390, 414), INK, outline=None, radius=4)           # the receipt slot
    p.rect((100, -20, 540, 168), INK, radius=14)                        # the screen's bezel
    p.rect((116, -10, 524, 152), SCREEN, outline=None, radius=6)
    for i, w in enumerate((300, 220, 260)):                             # a screen's rows, no words
        p.rect((150, 20 + i * 38, 150 + w, 40 + i * 38), SCREEN_UI, outline=None, radius=5)
    p.rect((380, 110, 500, 140), (120, 200, 150), outline=None, radius=6)   # not orange: orange marks the device
    p.poly([(100, 176), (540, 176), (612, 322), (28, 322)], SHELF)
    p.poly([(28, 322), (612, 322), (612, 340), (28, 340)], LIP)
    scanner(p, lit=False)
    reader(p)


def scanner(p: Pic, lit: bool) -> None:
    x, y = SCANNER_AT
    p.rect((x - 66, y - 42, x + 66, y + 42), SCANNER, radius=12)
    p.rect((x - 48, y - 26, x + 48, y + 26), GLASS, outline=None, radius=6)
    p.d.line(s([(x - 40, y), (x + 40, y)]), fill=BEAM, width=s(4))
    p.d.ellipse(s((x + 50, y - 36, x + 60, y - 26)), fill=(60, 200, 90) if lit else (110, 120, 130))


def reader(p: Pic) -> None:
    x, y = READER_AT
    p.rect((x - 74, y - 44, x + 74, y + 44), PAD, radius=12)
    for r in (12, 22, 32):   # the contactless sign: waves coming out of a point
        p.d.arc(s((x - 8 - r, y - r, x - 8 + r, y + r)), start=-45, end=45, fill=WAVES, width=s(4))
    p.d.ellipse(s((x - 14, y - 6, x - 2, y + 6)), fill=WAVES)


def ring(p: Pic, centre, half_w, half_h) -> None:
    """The device to use: a thick orange ring, outlined so it shows on any ground."""
    x, y = centre
    box = (x - half_w, y - half_h, x + half_w, y + half_h)
    p.d.rounded_rectangle(s(box), radius=s(18), outline=INK, width=s(14))
    p.d.rounded_rectangle(s(box), radius=s(18), outline=MARK, width=s(9))


def arrow_down(p: Pic, x, top, tip) -> None:
    shaft, head = 16, 34
    pts = [(x - shaft, top), (x + shaft, top), (x + shaft, tip - head), (x + head, tip - head),
           (x, tip), (x - head, tip - head), (x - shaft, tip - head)]
    p.poly(pts, MARK, width=4)


# --- what the citizen holds -----------------------------------------------------------------------
def qr_modules(n=21, seed=7) -> list[list[bool]]:
    rnd = random.Random(seed)
    m = [[rnd.random() < 0.5 for _ in range(n)] for _ in range(n)]
    for ox, oy in ((0, 0), (n - 7, 0), (0, n - 7)):   # the three finder squares every QR has
        for i in range(7):
            for j in range(7):
                edge = i in (0, 6) or j in (0, 6)
                core = 2 <= i <= 4 and 2 <= j <= 4
                m[oy + i][ox + j] = edge or core
        for i in range(-1, 8):                         # their white margin
            for j in range(-1, 8):
                if (i in (-1, 7) or j in (-1, 7)) and 0 <= oy + i < n and 0 <= ox + j < n:
                    m[oy + i][ox + j] = False
    return m


def qr(p: Pic, x0, y0, size) -> None:
    m = qr_modules()
    n = len(m)
    cell = size / (n + 2)
    p.rect((x0, y0, x0 + size, y0 + size), GROUND, outline=INK, width=1, radius=1)
    for i, row in enumerate(m):
        for j, on in enumerate(row):
            if on:
                x, y = x0 + (j + 1) * cell, y0 + (i + 1) * cell
                p.d.rectangle(s((x, y, x + cell, y + cell)), fill=INK)


def card_front(p: Pic, x0, y0, w) -> None:
    """The citizen ID card seen from the front: emblem, photo, chip, lines of print, the QR top right."""
    h = w * 54 / 86
    p.rect((x0, y0, x0 + w, y0 + h), CARD, radius=10, width=4)
    u = w / 86
    p.d.ellipse(s((x0 + 4 * u, y0 + 4 * u, x0 + 14 * u, y0 + 14 * u)), fill=EMBLEM, outline=INK, width=s(1))
    p.rect((x0 + 5 * u, y0 + 20 * u, x0 + 22 * u, y0 + 42 * u), (235, 238, 242), width=1, radius=2)   # photo
    p.rect((x0 + 8 * u, y0 + 44 * u, x0 + 19 * u, y0 + 51 * u), CHIP, width=1, radius=2)              # chip
    for i, lw in enumerate((34, 28, 38, 24)):
        p.rect((x0 + 26 * u, y0 + (22 + i * 7) * u, x0 + (26 + lw) * u, y0 + (25 + i * 7) * u), (90, 110, 130),
               outline=None, radius=1)
    qr(p, x0 + 62 * u, y0 + 4 * u, 20 * u)


def beam(p: Pic, source, target_box) -> None:
    """The scanner's light reaching the code: a red fan, drawn under the held object."""
    over = Image.new("RGBA", p.img.size, (0, 0, 0, 0))
    od = ImageDraw.Draw(over)
    x, y = source
    l, t, r, b = target_box
    od.polygon(s([(x - 30, y), (x + 30, y), (r, b), (l, b)]), fill=BEAM + (70,))
    p.img.paste(Image.alpha_composite(p.img.convert("RGBA"), over).convert("RGB"))
    p.d = ImageDraw.Draw(p.img)


# --- the three pictures -----------------------------------------------------------------------------
def card_qr() -> Pic:
    """Step 1: the QR on the ID card held over the scanner."""
    p = Pic()
    kiosk(p)
    scanner(p, lit=True)
    ring(p, SCANNER_AT, 88, 62)
    x, y = SCANNER_AT
    beam(p, (x, y - 10), (x + 8, y - 172, x + 96, y - 118))
    card_front(p, x - 110, y - 200, 210)
    return p


def card_reader() -> Pic:
    """Step 2: the card laid flat on the reader, an arrow down onto it."""
    p = Pic()
    kiosk(p)
    ring(p, READER_AT, 96, 64)
    x, y = READER_AT
    # the card lying on the pad, in the shelf's slope: a sheared card, chip and QR still visible
    card = Image.new("RGBA", s((172, 108)), (0, 0, 0, 0))
    cp = Pic.__new__(Pic)
    cp.img = Image.new("RGB", s((172, 108)), GROUND)
    cp.d = ImageDraw.Draw(cp.img)
    card_front(cp, 0, 0, 172)
    mask = Image.new("L", card.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, card.size[0] - 1, card.size[1] - 1), radius=s(10), fill=255)
    card.paste(cp.img, (0, 0), mask)
    flat = card.resize((card.size[0], int(card.size[1] * 0.62)), Image.LANCZOS)
    shear = 0.18
    out_w = flat.size[0] + int(flat.size[1] * shear)
    flat = flat.transform((out_w, flat.size[1]), Image.AFFINE, (1, shear, -flat.size[1] * shear, 0, 1, 0),
                          Image.BICUBIC)
    p.img.paste(flat, s((x - 88, y - 36)), flat)
    p.d = ImageDraw.Draw(p.img)
    arrow_down(p, x, 18, y - 48)
    return p


def phone_qr() -> Pic:
    """No chip card: the VNeID app's QR on a phone held over the scanner."""
    p = Pic()
    kiosk(p)
    scanner(p, lit=True)
    ring(p, SCANNER_AT, 88, 62)
    x, y = SCANNER_AT
    beam(p, (x, y - 10), (x - 44, y - 120, x + 44, y - 120))
    px, py, pw, ph = x - 58, y - 250, 116, 214
    p.rect((px, py, px + pw, py + ph), PHONE, radius=18, width=4)
    p.rect((px + 8, py + 18, px + pw - 8, py + ph - 18), GROUND, outline=None, radius=6)
    p.rect((px + 16, py + 28, px + pw - 16, py + 40), EMBLEM, outline=None, radius=3)   # the app's red bar
    qr(p, px + 16, py + 56, pw - 32)
    p.rect((px + 26, py + ph - 44, px + pw - 26, py + ph - 34), (150, 160, 170), outline=None, radius=3)
    return p


PICTURES = {"card-qr.png": card_qr, "card-reader.png": card_reader, "phone-qr.png": phone_qr}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "media" / "devices")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, draw in PICTURES.items():
        path = args.out / name
        draw().save(path)
        size = path.stat().st_size
        print(f"{path} {size // 1024} kB")
        if size > 100_000:
            print(f"{path}: over 100 kB", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
