"""Generated QR pictures: clean codes, CCCD-style Vietnamese payloads and degraded camera frames.

Used by the simulated camera, the tests and the benchmark, so that all three see the same kinds of
trouble a cheap camera in a bright hall produces: rotation, perspective, blur, noise, low contrast,
small modules, glare, and several codes in one frame. Deterministic for a given ``random.Random``.
"""
from __future__ import annotations

import io
import random
from datetime import date, timedelta

import numpy as np

__all__ = ["qr_image", "cccd_payload", "hard_frame", "DEGRADATIONS", "paste_quad"]

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
           "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Trương", "Lương"]
_MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Thùy", "Xuân", "Kim", "Bảo"]
_GIVEN = ["Ánh", "Hương", "Dũng", "Hùng", "Phượng", "Nguyệt", "Thủy", "Trường", "Đạt", "Hoà", "Huỳnh",
          "Quyết", "Ngữ", "Yến", "Luỹ", "Ưng", "Ờ", "Thư", "Khuê", "Điệp"]
_STREET = ["Đội Cấn", "Nguyễn Thái Học", "Lê Lợi", "Trần Hưng Đạo", "Hàng Bạc", "Điện Biên Phủ", "Quang Trung"]
_WARD = ["Phường Ba Đình", "Phường Hoàn Kiếm", "Xã Đông Anh", "Phường Sài Gòn", "Xã Ứng Hòa", "Phường Huế"]
_CITY = ["Thành phố Hà Nội", "Thành phố Hồ Chí Minh", "Thành phố Huế", "Tỉnh Nghệ An", "Tỉnh Đắk Lắk"]


def qr_image(payload: bytes | str, scale: int = 6, border: int = 4, error: str = "m") -> np.ndarray:
    """A clean QR (never Micro QR: zbar and OpenCV cannot read it) as an 8-bit gray array."""
    import segno
    from PIL import Image

    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    q = segno.make_qr(data, error=error)
    buf = io.BytesIO()
    q.save(buf, kind="png", scale=scale, border=border)
    return np.array(Image.open(io.BytesIO(buf.getvalue())).convert("L"))


def cccd_payload(rng: random.Random) -> str:
    """A random CCCD QR (2021 layout) whose ID agrees with the birth date and sex, as real ones do."""
    female = rng.random() < 0.5
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 66))
    digit = (birth.year - 1900) // 100 * 2 + (1 if female else 0)
    id_number = f"{rng.randrange(1, 97):03d}{digit}{birth.year % 100:02d}{rng.randrange(0, 10**6):06d}"
    old = f"{rng.randrange(0, 10**9):09d}" if rng.random() < 0.7 else ""
    name = " ".join([rng.choice(_FAMILY), rng.choice(_MIDDLE), *(rng.sample(_GIVEN, rng.randint(1, 2)))])
    address = (f"Số {rng.randint(1, 300)} phố {rng.choice(_STREET)}, {rng.choice(_WARD)}, {rng.choice(_CITY)}")
    issue = max(birth + timedelta(days=365 * 14), date(2021, 1, 1)) + timedelta(days=rng.randrange(0, 900))
    return "|".join([id_number, old, name, birth.strftime("%d%m%Y"), "Nữ" if female else "Nam", address,
                     issue.strftime("%d%m%Y")])


def _background(rng: random.Random, h: int, w: int) -> np.ndarray:
    """A busy desk: gradient, blobs, text-like strokes (what makes detectors find false codes)."""
    import cv2

    base = rng.randint(90, 200)
    # a smooth gradient is made small and scaled up (a linear ramp survives resizing exactly)
    yy = np.linspace(0, 1, 9, dtype=np.float32)[:, None]
    xx = np.linspace(0, 1, 16, dtype=np.float32)[None, :]
    small = base + 40 * (xx - 0.5) + 30 * (yy - 0.5)
    tint = np.array([rng.uniform(0.8, 1.1) for _ in range(3)], dtype=np.float32)
    small = np.clip(small[:, :, None] * tint, 0, 255).astype(np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    for _ in range(rng.randint(10, 25)):
        c = tuple(rng.randint(0, 255) for _ in range(3))
        x, y = rng.randrange(w), rng.randrange(h)
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + rng.randint(20, 300), y + rng.randint(5, 120)), c, -1)
        else:
            cv2.circle(img, (x, y), rng.randint(10, 120), c, -1)
    for _ in range(rng.randint(5, 15)):  # lines of "text"
        x, y = rng.randrange(w - 200), rng.randrange(h)
        cv2.putText(img, "".join(rng.choice("ABCDEFGHKLMNOPQRSTUV0123456789 ") for _ in range(rng.randint(8, 30))),
                    (x, y), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.5, 1.5), (20, 20, 20), rng.randint(1, 3))
    return img


def paste_quad(dst: np.ndarray, src: np.ndarray, quad: np.ndarray) -> None:
    """Warp ``src`` (gray or BGR) onto the quadrilateral ``quad`` (4×2, TL TR BR BL) of ``dst`` in place."""
    import cv2

    if src.ndim == 2:
        src = cv2.cvtColor(src, cv2.COLOR_GRAY2BGR)
    h, w = src.shape[:2]
    quad = np.float32(quad)
    # warp only into the quad's bounding box: a full-frame warp costs ~10× more at 1080p
    x0, y0 = np.floor(np.maximum(quad.min(axis=0), 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(quad.max(axis=0) + 1, (dst.shape[1], dst.shape[0]))).astype(int)
    if x1 <= x0 or y1 <= y0:
        return
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), quad - np.float32([x0, y0]))
    size = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpPerspective(src, m, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size) > 127
    dst[y0:y1, x0:x1][mask] = warped[mask]


DEGRADATIONS = ("clean", "rotation", "perspective", "blur", "noise", "low_contrast", "small", "glare", "multi",
                "combo")


def _place(rng: random.Random, code: np.ndarray, w: int, h: int, size: float, angle: float,
           persp: float) -> np.ndarray:
    cx, cy = rng.uniform(size, w - size), rng.uniform(size, h - size)
    half = size / 2
    quad = np.float32([[-half, -half], [half, -half], [half, half], [-half, half]])
    quad += np.float32([[rng.uniform(-persp, persp) * size for _ in range(2)] for _ in range(4)])
    a = np.deg2rad(angle)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return quad @ rot.T + np.float32([cx, cy])


def hard_frame(rng: random.Random, payloads: list[str], kind: str, size: tuple[int, int] = (1920, 1080)
               ) -> np.ndarray:
    """A BGR frame of ``size`` (w, h) showing ``payloads`` as QR codes, degraded as ``kind`` says."""
    import cv2

    w, h = size
    parts = set(kind.split("+"))
    if "combo" in parts:  # two milder troubles at once, as in real halls
        parts |= set(rng.sample(["blur", "low_contrast", "glare", "rotation", "small", "perspective", "noise"], 2))
    img = _background(rng, h, w)
    angle = rng.uniform(-12, 12)
    persp = 0.02
    modules_px = rng.uniform(4.0, 7.0)
    if "rotation" in parts:
        angle = rng.uniform(0, 360)
    if "perspective" in parts:
        persp = rng.uniform(0.12, 0.22)
    if "small" in parts:
        modules_px = rng.uniform(1.8, 2.6)
    for i, text in enumerate(payloads):
        code = qr_image(text, scale=8, border=4)
        n_modules = code.shape[0] / 8
        side = n_modules * modules_px
        quad = _place(rng, code, w, h, side, angle + (rng.uniform(-40, 40) if i else 0), persp)
        if "multi" in parts:  # keep codes apart: each in its own vertical band
            band = w / len(payloads)
            quad[:, 0] += (band * i + band / 2) - quad[:, 0].mean()
            quad[:, 0] = np.clip(quad[:, 0], 2, w - 3)
        paste_quad(img, code, quad)
    # (uint8 arithmetic through OpenCV: saturating and ~10× faster than float numpy on 1080p)
    if "low_contrast" in parts:
        mid = rng.uniform(70, 180)
        a = rng.uniform(0.08, 0.16)
        img = cv2.convertScaleAbs(img, alpha=a, beta=mid - 128 * a)
    if "glare" in parts:
        # a bright specular blob over part of the code, as laminated cards do under hall lights
        q = quad.mean(axis=0)  # the last code placed
        cx, cy = q[0] + rng.uniform(-0.2, 0.2) * side, q[1] + rng.uniform(-0.2, 0.2) * side
        r = side * rng.uniform(0.20, 0.35)
        peak = rng.uniform(160, 260)
        x0, x1 = int(max(0, cx - 4 * r)), int(min(w, cx + 4 * r))
        y0, y1 = int(max(0, cy - 4 * r)), int(min(h, cy + 4 * r))
        if x1 > x0 and y1 > y0:
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))) * peak
            roi = img[y0:y1, x0:x1]
            img[y0:y1, x0:x1] = cv2.add(roi, cv2.merge([np.clip(blob, 0, 255).astype(np.uint8)] * 3))
    if "blur" in parts:
        # blur up to ~1.6 module widths: beyond that no decoder reads the code and the kiosk
        # simply takes the next frame, so such frames measure nothing
        k_max = max(3, int(1.6 * modules_px) | 1)
        k = rng.choice([max(3, k_max - 2), k_max])
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (k, k), 0)
        else:  # motion blur: the citizen's hand moves
            kern = np.zeros((k, k), np.float32)
            kern[k // 2, :] = 1.0 / k
            m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1)
            kern = cv2.warpAffine(kern, m, (k, k))
            img = cv2.filter2D(img, -1, kern / max(kern.sum(), 1e-6))
    sigma = rng.uniform(25, 40) if "noise" in parts else 3.0  # every camera has some sensor noise
    noise = np.empty(img.shape, np.float32)
    cv2.setRNGSeed(rng.randrange(2**31))
    cv2.randn(noise, 0.0, sigma)
    img = cv2.add(img, noise, dtype=cv2.CV_8U)
    return img
