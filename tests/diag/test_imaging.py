"""Focus and brightness scores on real images."""
from __future__ import annotations

import cv2
import numpy as np

from kiosk.diagnostics import imaging


def _form(brightness: int = 200) -> np.ndarray:
    """A grey page with black text-like bars, like a form under the document camera."""
    img = np.full((480, 640, 3), brightness, np.uint8)
    for y in range(40, 440, 24):
        for x in range(40, 600, 36):
            cv2.rectangle(img, (x, y), (x + 24, y + 8), (20, 20, 20), -1)
    return img


def test_sharp_form_scores_high_and_blur_low():
    sharp = _form()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 6)
    assert imaging.focus_score(sharp) > 10 * imaging.focus_score(blurred)
    assert imaging.quality_problems(imaging.focus_score(sharp), imaging.brightness_score(sharp)) == []
    problems = imaging.quality_problems(imaging.focus_score(blurred), imaging.brightness_score(blurred))
    assert any("blurred" in p for p in problems)


def test_dark_and_glare_frames_are_named():
    dark = (_form() * 0.1).astype(np.uint8)
    assert any("too dark" in p for p in imaging.quality_problems(imaging.focus_score(dark), imaging.brightness_score(dark)))
    white = np.full((120, 160, 3), 250, np.uint8)
    assert any("too bright" in p for p in imaging.quality_problems(imaging.focus_score(white), imaging.brightness_score(white)))


def test_gray_and_bgra_frames_work_and_jpeg_round_trips():
    gray = cv2.cvtColor(_form(), cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(_form(), cv2.COLOR_BGR2BGRA)
    assert abs(imaging.focus_score(gray) - imaging.focus_score(bgra)) < 1e-6
    jpeg = imaging.encode_jpeg(_form())
    assert jpeg[:2] == b"\xff\xd8"
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)
