"""Generated pictures for the simulated camera and the tests: a Vietnamese form page, and that page
photographed on a desk at an angle with uneven light — what citizens put under the kiosk camera.

Pure image generation (numpy, OpenCV, Pillow), deterministic for a given seed.
"""
from __future__ import annotations

import importlib.util
import random
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["document_page", "desk_photo", "find_font"]

_PAGE_LINES = [
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 1.15, True),
    ("Độc lập - Tự do - Hạnh phúc", 1.0, True),
    ("", 1, False),
    ("GIẤY CHỨNG SINH", 1.6, True),
    ("", 1, False),
    ("Họ và tên mẹ: Trần Thị Ngọc Ánh", 1, False),
    ("Năm sinh: 1985        Dân tộc: Kinh", 1, False),
    ("Nơi đăng ký thường trú: Số 12 ngõ 34 phố Đội Cấn,", 1, False),
    ("Phường Ba Đình, Thành phố Hà Nội", 1, False),
    ("Đã sinh con vào lúc: 08 giờ 15 phút, ngày 20/11/2026", 1, False),
    ("Tại: Bệnh viện Phụ sản Hà Nội", 1, False),
    ("Số con trong lần sinh này: 01        Giới tính: Nữ", 1, False),
    ("Cân nặng: 3.200 gam", 1, False),
    ("Dự định đặt tên con là: Nguyễn Ngọc Bảo Châu", 1, False),
    ("", 1, False),
    ("Người đỡ đẻ                         Thủ trưởng cơ sở y tế", 1, False),
    ("(Ký, ghi rõ họ tên)                 (Ký, đóng dấu)", 0.9, False),
]


def find_font() -> str | None:
    """A TrueType font with every Vietnamese letter: Kivy's Roboto, else DejaVu Sans."""
    here = Path(__file__).resolve()
    candidates = []
    # find Kivy's bundled font without importing Kivy (its import configures logging and ~/.kivy)
    spec = importlib.util.find_spec("kivy")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(list(spec.submodule_search_locations)[0]) / "data" / "fonts" / "Roboto-Regular.ttf")
    candidates += [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                   here.parent / "DejaVuSans.ttf"]
    for c in candidates:
        if c.is_file():
            return str(c)
    return None


def _titled_lines(title: str) -> list[tuple[str, float, bool]]:
    """A generic official paper headed ``title`` (wrapped), filled in for the simulated citizen."""
    words, heading, line = title.upper().split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 26:
            heading.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    heading.append(line)
    return [*_PAGE_LINES[:3], *[(h, 1.5, True) for h in heading], ("", 1, False),
            ("Họ và tên: Trần Thị Ngọc Ánh", 1, False),
            ("Số định danh cá nhân: 001185012345", 1, False),
            ("Nơi cư trú: Số 12 ngõ 34 phố Đội Cấn,", 1, False),
            ("Phường Ba Đình, Thành phố Hà Nội", 1, False),
            ("Nội dung: như đã khai tại ki-ốt", 1, False),
            ("", 1, False),
            ("Hà Nội, ngày 20 tháng 11 năm 2026", 1, False),
            ("Người làm đơn                         Cơ quan xác nhận", 1, False),
            ("(Ký, ghi rõ họ tên)                 (Ký, đóng dấu)", 0.9, False)]


def document_page(width: int = 1240, title: str | None = None) -> np.ndarray:
    """An A4 form page (BGR, width × width·√2) in Vietnamese, with a stamp-like circle and a QR:
    a birth certificate (giấy chứng sinh), or a paper headed ``title``."""
    return _page(width, title).copy()


@lru_cache(maxsize=4)
def _page(width: int, title: str | None = None) -> np.ndarray:
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    h = int(round(width * 2 ** 0.5))
    img = Image.new("RGB", (width, h), (250, 250, 247))
    draw = ImageDraw.Draw(img)
    path = find_font()
    base = max(12, width // 38)
    y = int(width * 0.09)
    for text, scale, centred in (_PAGE_LINES if title is None else _titled_lines(title)):
        size = int(base * scale)
        font = ImageFont.truetype(path, size) if path else ImageFont.load_default()
        if text:
            tw = draw.textlength(text, font=font)
            x = (width - tw) / 2 if centred else width * 0.09
            draw.text((x, y), text, fill=(25, 25, 30), font=font)
        y += int(size * 1.9)
    page = cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)
    cx, cy, r = int(width * 0.72), int(y + base * 3), int(width * 0.09)
    cv2.circle(page, (cx, cy), r, (40, 40, 200), max(2, width // 300))
    from devices.qr.synth import qr_image

    q = qr_image("kiosk://flow/khai-sinh", scale=max(2, width // 150), border=2)
    qy = min(h - q.shape[0] - 10, cy + r + 20)
    page[qy:qy + q.shape[0], int(width * 0.09):int(width * 0.09) + q.shape[1]] = q[:, :, None]
    return page


def desk_photo(seed: int = 0, size: tuple[int, int] = (1920, 1080), *, tilt: float = 0.12,
               angle: float = 8.0, shadow: float = 0.35, coverage: float = 0.7,
               page: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A photo of ``page`` lying on a wooden desk: perspective ``tilt``, in-plane ``angle`` (deg),
    a soft ``shadow`` (0–1) across it, page height ≈ ``coverage`` of the frame.
    Returns (BGR photo, 4×2 float32 page corners TL TR BR BL in the photo)."""
    import cv2

    from devices.qr.synth import paste_quad

    rng = random.Random(seed)
    w, h = size
    page = document_page() if page is None else page
    # desk: warm brown with wood-like streaks
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grain = np.sin(yy / rng.uniform(9, 15) + 3 * np.sin(xx / rng.uniform(150, 300))) * 12
    desk = np.stack([60 + grain, 95 + grain, 140 + grain], axis=2)
    del grain
    # float32 throughout: a 1080p scene in float64 temporaries peaked at ~250 MB in the kiosk
    desk += np.random.default_rng(seed).standard_normal(desk.shape, dtype=np.float32) * 4
    photo = np.clip(desk, 0, 255, out=desk).astype(np.uint8)
    del desk
    ph = coverage * h
    pw = ph / 2 ** 0.5
    cx, cy = w / 2 + rng.uniform(-0.05, 0.05) * w, h / 2 + rng.uniform(-0.03, 0.03) * h
    quad = np.float32([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    # perspective: the far (top) edge is shorter, as when the camera looks down at an angle
    quad[0, 0] += tilt * pw / 2
    quad[1, 0] -= tilt * pw / 2
    quad[0:2, 1] += tilt * ph * 0.3
    a = np.deg2rad(angle)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    quad = quad @ rot.T + np.float32([cx, cy])
    paste_quad(photo, page, quad)
    # light: a shadow falling across from one side, plus vignetting
    direction = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - w / 2) * np.cos(direction) + (yy - h / 2) * np.sin(direction)) / max(w, h)
    light = 1.0 - shadow * np.clip(ramp + 0.5, 0, 1)
    light *= 1.0 - 0.25 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    del xx, yy, ramp
    lit = photo.astype(np.float32)
    lit *= light[:, :, None]
    lit += np.random.default_rng(seed + 1).standard_normal(lit.shape, dtype=np.float32) * 2.5
    photo = np.clip(lit, 0, 255, out=lit).astype(np.uint8)
    del lit
    photo = cv2.GaussianBlur(photo, (3, 3), 0)
    return photo, quad
