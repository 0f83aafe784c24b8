"""QR decoding engines behind one interface: ``engine.decode(image) -> list[Decoded]``.

Every engine is asked for QR codes only (asking for every symbology costs time and invites false
reads) and hands back the raw bytes of the code; ``Decoded.text`` is those bytes read as UTF-8, or
``None`` when they are not valid UTF-8. We never guess another charset: Vietnamese read as
Shift-JIS/Big5/Latin-1 ("Hu廙軟h") is worse than no read at all.

* ``ZbarBinaryEngine`` — zbar with ZBAR_CFG_BINARY, so zbar returns the bytes as they are instead
  of transcoding them with its charset guess;
* ``ZbarPlainEngine`` — pyzbar as most code uses it; it garbles Vietnamese and exists only as the
  benchmark's peer;
* ``ZxingEngine`` — zxing-cpp, fast and robust;
* ``OpenCvEngine`` — cv2.QRCodeDetector (slow, last resort).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Decoded", "Engine", "ZbarBinaryEngine", "ZbarPlainEngine", "ZxingEngine", "OpenCvEngine",
           "ENGINES", "make_engine", "to_gray", "utf8_or_none"]

Polygon = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Decoded:
    data: bytes
    text: str | None          # UTF-8 text, or None when the bytes are not valid UTF-8
    engine: str
    polygon: Polygon = ()     # corners in the coordinates of the image given to the caller

    def __repr__(self) -> str:  # the payload may be a citizen's ID QR: do not print it
        return f"Decoded(engine={self.engine!r}, bytes={len(self.data)}, polygon={self.polygon})"


class Engine(Protocol):
    name: str

    def decode(self, image: np.ndarray) -> list[Decoded]: ...


def utf8_or_none(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


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
                    out.append(Decoded(data, utf8_or_none(data), self.name, pts))
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
class ZxingEngine:
    name = "zxing"

    def __init__(self, try_harder: bool = True) -> None:
        import zxingcpp

        self._z = zxingcpp
        self._try = try_harder

    def decode(self, image: np.ndarray) -> list[Decoded]:
        z = self._z
        gray = to_gray(image)
        results = z.read_barcodes(gray, formats=z.BarcodeFormat.QRCode, try_rotate=self._try,
                                  try_downscale=self._try, try_invert=False)
        out = []
        for r in results:
            if not r.valid:
                continue
            data = bytes(r.bytes)
            p = r.position
            poly = tuple((int(pt.x), int(pt.y)) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
            out.append(Decoded(data, utf8_or_none(data), self.name, poly))
        return out


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
            data = self._raw(s)
            poly = tuple((int(x), int(y)) for x, y in pts)
            out.append(Decoded(data, utf8_or_none(data), self.name, poly))
        return out


ENGINES = {"zbar-binary": ZbarBinaryEngine, "zbar-plain": ZbarPlainEngine, "zxing": ZxingEngine,
           "opencv": OpenCvEngine}


def make_engine(name: str) -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown QR engine {name!r}; expected one of {', '.join(ENGINES)}") from None
