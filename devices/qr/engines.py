"""QR decoding engines behind one interface: ``engine.decode(image) -> list[Decoded]``.

Every engine is asked for QR codes only (asking for every symbology costs time and invites false
reads) and hands back the code's bytes; ``Decoded.text`` is their text when the character set is
certain and ``None`` otherwise (the rules: :mod:`devices.qr.charset`). Vietnamese read as
Shift-JIS/Big5/Latin-1 ("Hu廙軟h") is worse than no read at all, so nothing here guesses: zxing-cpp,
which tells us a code's ECI segments, gives the text of the ECI's charset, of Hanzi mode, of valid
UTF-8, or of Shift_JIS bytes that can be nothing else; zbar and OpenCV, which hide the ECI, give the
text of valid UTF-8 only.

* ``ZbarBinaryEngine`` — zbar with ZBAR_CFG_BINARY, so zbar returns the bytes as they are instead
  of transcoding them with its charset guess (zbar still converts to UTF-8 the codes whose ECI it
  knows — ISO-8859-x, Shift_JIS, UTF-8 — and passes the bytes of any other ECI on as they are);
* ``ZbarPlainEngine`` — pyzbar as most code uses it; it garbles Vietnamese and exists only as the
  benchmark's peer;
* ``ZxingEngine`` — zxing-cpp, fast and robust;
* ``OpenCvEngine`` — cv2.QRCodeDetector (slow, last resort).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from devices.qr.charset import bytes_text, eci_text, hanzi_text, parse_bytes_eci, utf8_text

__all__ = ["Decoded", "Engine", "ZbarBinaryEngine", "ZbarPlainEngine", "ZxingEngine", "OpenCvEngine",
           "ENGINES", "make_engine", "to_gray", "read_zxing"]

Polygon = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Decoded:
    data: bytes               # the code's bytes (zbar: converted to UTF-8 for an ECI it knows)
    text: str | None          # their text when the character set is certain, else None
    engine: str
    polygon: Polygon = ()     # corners in the coordinates of the image given to the caller
    charset: str = ""         # how the text was read: "utf-8", "shift_jis", "ECI 20 (shift_jis)", …; "" without text

    def __repr__(self) -> str:  # the payload may be a citizen's ID QR: do not print it
        return (f"Decoded(engine={self.engine!r}, bytes={len(self.data)}, charset={self.charset!r}, "
                f"polygon={self.polygon})")


class Engine(Protocol):
    name: str

    def decode(self, image: np.ndarray) -> list[Decoded]: ...


def _utf8_decoded(data: bytes, engine: str, polygon: Polygon) -> Decoded:
    """For engines that do not tell us a code's ECI: text only for valid UTF-8."""
    got = utf8_text(data)
    return Decoded(data, got[0], engine, polygon, got[1]) if got else Decoded(data, None, engine, polygon)


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR/BGRA/gray → contiguous 8-bit gray (zbar reads channel 0 of a colour array otherwise)."""
    import cv2

    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(gray)


# --- zbar ------------------------------------------------------------------------------------
_ZBAR_CFG_BINARY = 4  # zbar.h: ZBAR_CFG_BINARY, missing from pyzbar's ZBarConfig enum


class _ZbarBase:
    binary = False
    name = "zbar"

    def __init__(self) -> None:
        from pyzbar import wrapper as zw

        self._zw = zw

    def decode(self, image: np.ndarray) -> list[Decoded]:
        zw = self._zw
        gray = to_gray(image)
        h, w = gray.shape
        scanner = zw.zbar_image_scanner_create()
        try:
            # QR only: disable everything (symbology 0 = all), then enable QR
            zw.zbar_image_scanner_set_config(scanner, 0, zw.ZBarConfig.CFG_ENABLE, 0)
            zw.zbar_image_scanner_set_config(scanner, zw.ZBarSymbol.QRCODE, zw.ZBarConfig.CFG_ENABLE, 1)
            if self.binary:
                zw.zbar_image_scanner_set_config(scanner, zw.ZBarSymbol.QRCODE, _ZBAR_CFG_BINARY, 1)
            img = zw.zbar_image_create()
            try:
                zw.zbar_image_set_format(img, 0x30303859)  # fourcc 'Y800': 8-bit gray
                zw.zbar_image_set_size(img, w, h)
                buf = gray.tobytes()
                zw.zbar_image_set_data(img, ctypes.cast(buf, ctypes.c_void_p), len(buf), None)
                if zw.zbar_scan_image(scanner, img) < 0:
                    return []
                out = []
                sym = zw.zbar_image_first_symbol(img)
                while sym:
                    n = zw.zbar_symbol_get_data_length(sym)
                    data = ctypes.string_at(zw.zbar_symbol_get_data(sym), n)
                    pts = tuple((zw.zbar_symbol_get_loc_x(sym, i), zw.zbar_symbol_get_loc_y(sym, i))
                                for i in range(zw.zbar_symbol_get_loc_size(sym)))
                    out.append(_utf8_decoded(data, self.name, pts))
                    sym = zw.zbar_symbol_next(sym)
                return out
            finally:
                zw.zbar_image_destroy(img)
        finally:
            zw.zbar_image_scanner_destroy(scanner)


class ZbarBinaryEngine(_ZbarBase):
    binary = True
    name = "zbar-binary"


class ZbarPlainEngine(_ZbarBase):
    """zbar's default: it transcodes from a guessed charset to UTF-8 (the benchmark's peer)."""

    binary = False
    name = "zbar-plain"


# --- zxing-cpp -------------------------------------------------------------------------------
def _corners(position) -> np.ndarray:
    return np.array([[pt.x, pt.y] for pt in (position.top_left, position.top_right, position.bottom_right,
                                             position.bottom_left)], dtype=np.float32)


def _declared_text(data: bytes, plain: str | None, bytes_eci: bytes | None) -> tuple[str, str] | None:
    """The text of a code whose bytes alone did not settle it, from what the code declares."""
    if bytes_eci is None:
        return None  # the second read missed it: nothing is certain
    try:
        has_eci, blocks = parse_bytes_eci(bytes_eci)
    except ValueError:
        return None
    if has_eci:
        return eci_text(blocks)
    # no ECI, yet zxing-cpp read these bytes otherwise than the byte rules (or they have none):
    # certain only when its reading is GB2312, which it gives for Hanzi mode alone
    return hanzi_text(data, plain)


def read_zxing(gray: np.ndarray, engine: str = "zxing", *, return_errors: bool = False,
               **options) -> tuple[list[Decoded], list[np.ndarray]]:
    """zxing-cpp on a gray image, QR codes only → (decoded codes, corners of the codes it saw but
    could not decode — only with ``return_errors``). ``options`` go to ``zxingcpp.read_barcodes``.

    The text: zxing-cpp's ``text`` is its own reading (an ECI's charset, the mode's, or its guess);
    it is taken when it agrees with :func:`devices.qr.charset.bytes_text`, as it does for every
    UTF-8 code. Otherwise the image is read a second time with ``TextMode.HexECI``, which shows
    whether the code holds ECI segments and which (``symbology_identifier`` does not say so), and
    the text comes from them (:func:`_declared_text`). That second read only happens for codes that
    are not plain UTF-8, so the kiosk's own codes cost one read."""
    import zxingcpp as z

    options = {"formats": z.BarcodeFormat.QRCode, "try_invert": False, **options}
    found: list[Decoded] = []
    misses: list[np.ndarray] = []
    unsure: list[tuple[int, str | None]] = []
    for r in z.read_barcodes(gray, text_mode=z.TextMode.Plain, return_errors=return_errors, **options):
        quad = _corners(r.position)
        if not r.valid:
            misses.append(quad)
            continue
        data = bytes(r.bytes)
        poly = tuple((int(x), int(y)) for x, y in quad)
        got = bytes_text(data)
        if got is not None and got[0] == r.text:
            found.append(Decoded(data, got[0], engine, poly, got[1]))
        else:
            unsure.append((len(found), r.text))
            found.append(Decoded(data, None, engine, poly))
    if unsure:
        declared: dict[bytes, bytes] = {}
        for r in z.read_barcodes(gray, text_mode=z.TextMode.HexECI, **options):
            if r.valid:
                declared.setdefault(bytes(r.bytes), bytes.fromhex(r.text))
        for i, plain in unsure:
            got = _declared_text(found[i].data, plain, declared.get(found[i].data))
            if got is not None:
                found[i] = replace(found[i], text=got[0], charset=got[1])
    return found, misses


class ZxingEngine:
    name = "zxing"

    def __init__(self, try_harder: bool = True) -> None:
        import zxingcpp  # noqa: F401  (fail here, not on the first frame, when it is missing)

        self._try = try_harder

    def decode(self, image: np.ndarray) -> list[Decoded]:
        return read_zxing(to_gray(image), self.name, try_rotate=self._try, try_downscale=self._try)[0]


# --- OpenCV ----------------------------------------------------------------------------------
class OpenCvEngine:
    name = "opencv"

    def __init__(self) -> None:
        import cv2

        self._det = cv2.QRCodeDetector()

    @staticmethod
    def _raw(s: str) -> bytes:
        # OpenCV hands back valid UTF-8 as is and anything else as Latin-1 characters; undo the
        # latter so that Decoded.data is the code's bytes (and text stays None for non-UTF-8).
        if s and max(map(ord, s)) <= 0xFF and any(ord(c) >= 0x80 for c in s):
            return s.encode("latin-1")
        return s.encode("utf-8")

    def decode(self, image: np.ndarray) -> list[Decoded]:
        gray = to_gray(image)
        try:
            ok, texts, points, _ = self._det.detectAndDecodeMulti(gray)
        except Exception:  # cv2.error on degenerate geometry: treat as "nothing found"
            return []
        if not ok:
            return []
        out = []
        for s, pts in zip(texts, points if points is not None else []):
            if not s:
                continue
            out.append(_utf8_decoded(self._raw(s), self.name, tuple((int(x), int(y)) for x, y in pts)))
        return out


ENGINES = {"zbar-binary": ZbarBinaryEngine, "zbar-plain": ZbarPlainEngine, "zxing": ZxingEngine,
           "opencv": OpenCvEngine}


def make_engine(name: str) -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown QR engine {name!r}; expected one of {', '.join(ENGINES)}") from None
