"""Picture quality scores for the camera check (pure: arrays in, numbers out).

Focus is the variance of the Laplacian: edges make it large, blur flattens it. Brightness is the
mean grey level. Both are rough on purpose: they tell a technician "lens dirty or out of focus"
or "lamp off", not a photographic grade.
"""
from __future__ import annotations

import numpy as np

FOCUS_MIN = 60.0         # below: blurred or smeared lens (a printed form scores in the hundreds)
BRIGHTNESS_MIN = 40.0    # 0–255; below: lamp off or lens covered
BRIGHTNESS_MAX = 225.0   # above: glare or over-exposure


def to_gray(frame: np.ndarray) -> np.ndarray:
    import cv2

    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def focus_score(frame: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(to_gray(frame), cv2.CV_64F).var())


def brightness_score(frame: np.ndarray) -> float:
    return float(to_gray(frame).mean())


def quality_problems(focus: float, brightness: float) -> list[str]:
    problems = []
    if brightness < BRIGHTNESS_MIN:
        problems.append(f"too dark (brightness {brightness:.0f}/255)")
    elif brightness > BRIGHTNESS_MAX:
        problems.append(f"too bright (brightness {brightness:.0f}/255)")
    if focus < FOCUS_MIN:
        problems.append(f"blurred (focus {focus:.0f}, want ≥ {FOCUS_MIN:.0f})")
    return problems


def encode_jpeg(frame: np.ndarray, quality: int = 85) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise ValueError("cannot encode the frame as JPEG")
    return buf.tobytes()
