"""The QR pipeline for camera frames: ``decode_frame(frame) -> list[Decoded]``.

The order of the stages below comes from ``bench/bench_qr.py`` (see BENCHMARKS.md), not from taste:

1. zxing-cpp on the full-resolution gray frame. It solves ~95 % of the hard set in ~3 ms, so almost
   every frame stops here.
2. zxing-cpp's *failed* detections (``return_errors=True``) tell us where a code is even when it did
   not decode: crop there (with a margin) and retry the crop: first zxing-cpp with a fixed global
   threshold, then pre-processing — sharpen, CLAHE contrast, 2× downscale, Otsu threshold, light
   blur, strong sharpen, CLAHE+sharpen — each with zxing-cpp (both binarizers) and zbar in binary mode.
3. If nothing at all was decoded, the same sequence on the whole frame, under a time budget
   (``budget_ms``), so a frame without any code costs a bounded amount.

Results are deduplicated by bytes; text is ``None`` unless the character set is certain (an ECI,
Hanzi mode, valid UTF-8, or Shift_JIS bytes that can be nothing else: :mod:`devices.qr.charset`),
so a wrongly decoded Vietnamese name cannot come out of here.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

import numpy as np

from devices.qr.engines import Decoded, ZbarBinaryEngine, ZxingEngine, read_zxing, to_gray

__all__ = ["decode_frame", "QrPipeline"]

Prep = Callable[[np.ndarray], tuple[np.ndarray, float]]  # gray → (image, scale back to the input)


def _preps() -> list[tuple[str, Prep]]:
    import cv2

    def clahe_apply(g):
        # a CLAHE object per call: OpenCV algorithm objects are not safe to share across threads
        return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(g)

    def sharpen(g):
        return cv2.addWeighted(g, 2.0, cv2.GaussianBlur(g, (0, 0), 3), -1.0, 0), 1.0

    def strong_sharpen(g):
        return cv2.addWeighted(g, 3.0, cv2.GaussianBlur(g, (0, 0), 2), -2.0, 0), 1.0

    def half(g):
        return cv2.resize(g, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 2.0

    def otsu(g):
        return cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1], 1.0

    def soften(g):
        return cv2.GaussianBlur(g, (3, 3), 0), 1.0

    def clahe_sharpen(g):
        return cv2.addWeighted(c := clahe_apply(g), 2.5, cv2.GaussianBlur(c, (0, 0), 2), -1.5, 0), 1.0

    return [("sharpen", sharpen), ("clahe", lambda g: (clahe_apply(g), 1.0)), ("half", half),
            ("otsu", otsu), ("soften", soften), ("strong-sharpen", strong_sharpen),
            ("clahe-sharpen", clahe_sharpen)]


class _ZxingFixed(ZxingEngine):
    """zxing-cpp with a global fixed threshold instead of its local-average binarizer: reads
    blurred codes whose local contrast the default binarizer flattens."""

    name = "zxing-fixed"

    def decode(self, image: np.ndarray) -> list[Decoded]:
        import zxingcpp as z

        return read_zxing(to_gray(image), self.name, binarizer=z.Binarizer.FixedThreshold)[0]


class QrPipeline:
    def __init__(self, budget_ms: float = 120.0):
        self._zxing = ZxingEngine()
        self._zbar = ZbarBinaryEngine()
        self._fixed = _ZxingFixed()
        self._preps = _preps()
        self.budget_ms = budget_ms

    # zxing with its failed detections: the positions of codes it saw but could not read
    def _zxing_with_misses(self, gray: np.ndarray) -> tuple[list[Decoded], list[np.ndarray]]:
        return read_zxing(gray, "zxing", return_errors=True)

    def _try(self, gray: np.ndarray, offset: tuple[int, int], deadline: float) -> list[Decoded]:
        for name, prep in [("gray", lambda g: (g, 1.0)), *self._preps]:
            img, scale = prep(gray)
            engines = (self._fixed,) if name == "gray" else (self._zxing, self._fixed, self._zbar)
            for engine in engines:
                got = engine.decode(img)
                if got:
                    ox, oy = offset
                    return [replace(d, engine=f"{d.engine}+{name}",
                                    polygon=tuple((int(x * scale + ox), int(y * scale + oy)) for x, y in d.polygon))
                            for d in got]
                if time.perf_counter() > deadline:
                    return []
        return []

    def decode(self, frame: np.ndarray, budget_ms: float | None = None) -> list[Decoded]:
        deadline = time.perf_counter() + (self.budget_ms if budget_ms is None else budget_ms) / 1000
        gray = to_gray(frame)
        found, misses = self._zxing_with_misses(gray)
        out = {d.data: d for d in found}
        h, w = gray.shape
        for quad in misses[:4]:
            if time.perf_counter() > deadline:
                break
            if any(_overlaps(quad, d.polygon) for d in found):
                continue  # zxing-cpp also reports a decoded code's ghost as a failure
            x0, y0 = quad.min(axis=0)
            x1, y1 = quad.max(axis=0)
            m = 0.25 * max(x1 - x0, y1 - y0) + 8
            x0, y0 = int(max(0, x0 - m)), int(max(0, y0 - m))
            x1, y1 = int(min(w, x1 + m)), int(min(h, y1 + m))
            if x1 - x0 < 16 or y1 - y0 < 16:
                continue
            for d in self._try(gray[y0:y1, x0:x1], (x0, y0), deadline):
                out.setdefault(d.data, d)
        if not out:
            for d in self._try(gray, (0, 0), deadline):
                out.setdefault(d.data, d)
        return list(out.values())


def _overlaps(quad: np.ndarray, polygon) -> bool:
    if len(polygon) < 3:
        return False
    p = np.asarray(polygon, np.float32)
    c = quad.mean(axis=0)
    return bool(p[:, 0].min() <= c[0] <= p[:, 0].max() and p[:, 1].min() <= c[1] <= p[:, 1].max())


_default: QrPipeline | None = None


def decode_frame(frame: np.ndarray, budget_ms: float | None = None) -> list[Decoded]:
    """Every QR code found in a BGR or gray frame (may be empty). ``budget_ms`` bounds the
    fallbacks (default 120 ms; a live camera loop can pass less and try the next frame).
    Safe from several threads: the engines keep no state between calls."""
    global _default
    if _default is None:
        _default = QrPipeline()
    return _default.decode(frame, budget_ms)
