"""Document capture: a photo of a paper on the desk → a flat, straight, cropped page, checked for
what would make it unreadable, as a JPEG within a size budget, and several pages as one PDF.

    page = capture_document(frame)            # raises DocumentError (no page / cut off / …)
    out = encode_jpeg(page.image, max_bytes=600_000)   # Output(data, sha256, size, media_type)
    pdf = pages_to_pdf([out, out2])            # the JPEGs embedded byte for byte

Every problem a citizen can fix is a :class:`QualityIssue` with a short Vietnamese instruction
and its English twin. Pure image processing: no camera, no files.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from common.errors import BilingualError

__all__ = ["QualityIssue", "DocumentError", "Page", "Output", "find_page", "rectify", "deskew",
           "scan_look", "check_quality", "capture_document", "encode_jpeg", "pages_to_pdf", "ISSUES"]


@dataclass(frozen=True)
class QualityIssue:
    code: str
    message_vi: str
    message_en: str


ISSUES = {
    "no_page": QualityIssue(
        "no_page", "Không tìm thấy giấy tờ trong ảnh. Vui lòng đặt giấy tờ nằm phẳng trong khung hình.",
        "No document found in the picture. Lay the paper flat inside the frame."),
    "cut_off": QualityIssue(
        "cut_off", "Giấy tờ bị cắt mất một phần. Vui lòng đặt cả trang giấy vào trong khung hình.",
        "Part of the page is cut off. Place the whole page inside the frame."),
    "too_small": QualityIssue(
        "too_small", "Giấy tờ ở quá xa. Vui lòng đặt giấy tờ lớn hơn trong khung hình.",
        "The document is too far away. Make it fill more of the frame."),
    "blurred": QualityIssue(
        "blurred", "Ảnh bị mờ. Vui lòng giữ yên giấy tờ và chụp lại.",
        "The picture is blurred. Hold the document still and take it again."),
    "too_dark": QualityIssue(
        "too_dark", "Ảnh quá tối. Vui lòng đặt giấy tờ ở chỗ sáng hơn và chụp lại.",
        "The picture is too dark. Move the document to a brighter place and take it again."),
    "glare": QualityIssue(
        "glare", "Ảnh bị lóa sáng, có chỗ không đọc được. Vui lòng nghiêng giấy tờ một chút và chụp lại.",
        "Glare hides part of the page. Tilt the document slightly and take it again."),
}

# blocking: there is no usable page at all; the rest are warnings the kiosk shows before "retake"
_BLOCKING = {"no_page", "cut_off"}


class DocumentError(BilingualError):
    """A page that cannot be used; ``issue`` is the blocking quality issue, whose texts and code
    are the defaults of the error's own."""

    def __init__(self, *, issue: QualityIssue, en: str | None = None, vi: str | None = None, code: str = "",
                 detail: str = ""):
        super().__init__(en=en or issue.message_en, vi=vi or issue.message_vi, code=code or issue.code, detail=detail)
        self.issue = issue


@dataclass
class Page:
    image: np.ndarray                       # the flat page, BGR
    corners: np.ndarray | None              # TL TR BR BL in the input frame (None: whole image)
    skew_deg: float = 0.0                   # residual rotation removed after the perspective fix
    issues: list[QualityIssue] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues


@dataclass(frozen=True)
class Output:
    data: bytes
    sha256: str
    size: int
    media_type: str
    pixels: tuple[int, int] = (0, 0)       # (width, height); (0, 0) for a PDF


def _output(data: bytes, media_type: str, pixels=(0, 0)) -> Output:
    return Output(data, hashlib.sha256(data).hexdigest(), len(data), media_type, pixels)


# --- finding the page -------------------------------------------------------------------------
def _order(pts: np.ndarray) -> np.ndarray:
    """Four points → TL, TR, BR, BL."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    import cv2

    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    return None


def _candidates(small: np.ndarray) -> list[np.ndarray]:
    """Page outlines (as contours) found two ways: the paper is brighter and less coloured than
    the desk (works under uneven light), and its edges are strong (works on a light desk)."""
    import cv2

    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    # paper-ness: bright and unsaturated; normalised by a blurred copy so a shadow does not split it
    paper = cv2.subtract(hsv[:, :, 2], hsv[:, :, 1])
    paper = cv2.GaussianBlur(paper, (5, 5), 0)
    _, mask = cv2.threshold(paper, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, k, iterations=2)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, k)
    out = list(cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0])
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 40, 120)
    k3 = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    edges = cv2.dilate(edges, k3, iterations=2)
    # fill each outline and erode it back, so the dilation does not push the page edges outwards
    filled = np.zeros_like(edges)
    cv2.drawContours(filled, cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0], -1, 255, -1)
    filled = cv2.erode(filled, k3, iterations=2)
    out += list(cv2.findContours(filled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0])
    return out


def _refine(quad: np.ndarray, contour: np.ndarray) -> np.ndarray:
    """Corners from straight lines fitted to each side's contour points: the polygon
    approximation puts vertices a pixel or two off, which shows as desk in the page's corners."""
    import cv2

    pts = contour.reshape(-1, 2).astype(np.float32)
    q = _order(quad)
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        d = b - a
        n = np.linalg.norm(d)
        if n < 1:
            return q
        t = ((pts - a) @ d) / (n * n)
        rel = pts - a
        dist = np.abs(d[0] * rel[:, 1] - d[1] * rel[:, 0]) / n
        side = pts[(t > 0.1) & (t < 0.9) & (dist < max(3.0, 0.02 * n))]
        if len(side) < 10:
            return q
        vx, vy, x0, y0 = cv2.fitLine(side, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.float32([x0, y0]), np.float32([vx, vy])))
    out = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([[d1[0], -d2[0]], [d1[1], -d2[1]]], np.float64)
        if abs(np.linalg.det(m)) < 1e-6:
            return q
        t = np.linalg.solve(m, (p2 - p1).astype(np.float64))
        out.append(p1 + t[0] * d1)
    refined = np.float32(out)
    # a refinement that moves a corner far is a misfit: keep the polygon's corners then
    return refined if np.abs(refined - q).max() < 0.05 * np.linalg.norm(q[2] - q[0]) else q


def find_page(frame: np.ndarray, work_px: int = 800) -> tuple[np.ndarray | None, dict]:
    """The page's corners (TL TR BR BL, frame coordinates) or None, plus what was seen:
    ``area`` (fraction of the frame) and ``touches_border``."""
    import cv2

    h, w = frame.shape[:2]
    scale = work_px / max(h, w)
    small = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1 else frame.copy()
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    sh, sw = small.shape[:2]
    best, best_area, info = None, 0.0, {"area": 0.0, "touches_border": False}
    for c in _candidates(small):
        area = cv2.contourArea(c) / (sw * sh)
        if area < 0.05 or area > 0.995:
            continue
        quad = _quad_from_contour(c)
        if quad is None:
            continue
        qa = cv2.contourArea(quad) / (sw * sh)
        # the quadrilateral must really describe the blob (not a hull around two objects)
        if qa < 0.05 or area / qa < 0.85 or not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.int32)):
            continue
        if qa > best_area:
            quad = _refine(quad, c)
            x, y, bw, bh = cv2.boundingRect(c)
            m = 2
            touches = x <= m or y <= m or x + bw >= sw - m or y + bh >= sh - m
            best, best_area, info = quad, qa, {"area": qa, "touches_border": touches}
    if best is None:
        return None, info
    return _order(best / scale if scale < 1 else best), info


# --- flattening --------------------------------------------------------------------------------
def rectify(frame: np.ndarray, corners: np.ndarray, long_side: int | None = None) -> np.ndarray:
    """Warp the quadrilateral ``corners`` to an upright rectangle. A page whose measured shape is
    near A4 gets exactly the A4 ratio (perspective distorts the measured one a little)."""
    import cv2

    tl, tr, br, bl = corners
    wpx = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    hpx = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    ratio = hpx / max(wpx, 1)
    a4 = 2 ** 0.5
    if abs(ratio - a4) / a4 < 0.15:
        ratio = a4
    elif abs(1 / ratio - a4) / a4 < 0.15:
        ratio = 1 / a4
    measured_long = max(wpx, hpx)
    long_side = long_side or int(np.clip(measured_long * 1.15, 1000, 2200))
    if ratio >= 1:
        out_h, out_w = long_side, int(round(long_side / ratio))
    else:
        out_w, out_h = long_side, int(round(long_side * ratio))
    dst = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]])
    m = cv2.getPerspectiveTransform(np.float32(corners), dst)
    return cv2.warpPerspective(frame, m, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _skew_angle(gray: np.ndarray, max_deg: float = 8.0) -> float:
    """Text-line angle by projection profiles: rows of text give the sharpest profile when level."""
    import cv2

    small = cv2.resize(gray, None, fx=600 / max(gray.shape), fy=600 / max(gray.shape), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    if ink.mean() < 1.0:  # a blank page has nothing to level
        return 0.0
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def score(a: float) -> float:
        rot = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, a, 1.0), (w, h))
        prof = rot.sum(axis=1, dtype=np.float64)
        return float(np.var(np.diff(prof)))

    coarse = max(np.arange(-max_deg, max_deg + 0.01, 1.0), key=score)
    fine = max(np.arange(coarse - 1, coarse + 1.01, 0.2), key=score)
    return float(fine)


def deskew(img: np.ndarray, max_deg: float = 8.0) -> tuple[np.ndarray, float]:
    """Rotate so the text lines are level; returns (image, degrees rotated)."""
    import cv2

    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    angle = _skew_angle(gray, max_deg)
    if abs(angle) < 0.3:
        return img, 0.0
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE), angle


def scan_look(img: np.ndarray) -> np.ndarray:
    """A photocopy look: even white paper (shadows divided out), dark text, colours (stamps) kept."""
    import cv2

    k = max(15, (min(img.shape[:2]) // 40) | 1)
    # push near-white to white and deepen the ink a little
    lut = np.clip((np.arange(256) - 60) * 255.0 / (235 - 60), 0, 255).astype(np.uint8)
    res = []
    for ch in [img] if img.ndim == 2 else cv2.split(img):
        # the paper's own brightness: text removed by a dilation, then smoothed
        bg = cv2.medianBlur(cv2.dilate(ch, np.ones((7, 7), np.uint8)), k)
        res.append(cv2.LUT(cv2.divide(ch, bg, scale=255), lut))
    return res[0] if img.ndim == 2 else cv2.merge(res)


# --- quality ----------------------------------------------------------------------------------
def check_quality(page: np.ndarray, info: dict | None = None) -> tuple[list[QualityIssue], dict[str, float]]:
    """Issues that make the flat ``page`` hard to read, and the measurements behind them."""
    import cv2

    gray = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    g = cv2.resize(gray, (1000, int(1000 * gray.shape[0] / gray.shape[1])), interpolation=cv2.INTER_AREA)
    # sharpness: the strongest edges (text strokes) are steep on a sharp page; a percentile of the
    # gradient does not depend on how much text the page holds, unlike the Laplacian variance
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    strong = mag[mag > np.percentile(mag, 97)]
    sharpness = float(np.percentile(mag, 99.5)) if strong.size else 0.0
    # light: the paper's brightness is the upper part of the histogram (text is the lower part)
    paper = float(np.percentile(g, 75))
    blurred = cv2.GaussianBlur(g, (0, 0), 3)
    glare = float((blurred >= 250).mean())
    # detail: variation at the scale of letters, present even when they are blurred (a blank sheet
    # has none, and must not be called blurred)
    detail = float(np.std(g.astype(np.float32) - cv2.GaussianBlur(g, (0, 0), 10).astype(np.float32)))
    metrics = {"sharpness": sharpness, "paper_brightness": paper, "glare_fraction": glare, "detail": detail}
    issues = []
    if info and info.get("touches_border"):
        issues.append(ISSUES["cut_off"])
    if info and 0 < info.get("area", 1.0) < 0.12:
        issues.append(ISSUES["too_small"])
    if paper < 80:
        issues.append(ISSUES["too_dark"])
    if glare > 0.02:
        issues.append(ISSUES["glare"])
    # edges are as steep as the light is bright: judge sharpness relative to the paper's brightness
    if detail > 3 and sharpness < 110 * max(paper, 1) / 255:
        issues.append(ISSUES["blurred"])
    metrics["area"] = float((info or {}).get("area", 0.0))
    return issues, metrics


def capture_document(frame: np.ndarray, *, scan: bool = False, whole: bool = False,
                     long_side: int | None = None) -> Page:
    """Find, flatten, level and crop the page in ``frame``; ``issues`` says what to retake for.

    Raises DocumentError when there is no usable page (not found, or cut off by the frame edge).
    ``whole``: the image already is the page (a flatbed scan): only level and crop it."""
    if whole:
        corners, info = None, {"area": 1.0, "touches_border": False}
        flat = frame
    else:
        corners, info = find_page(frame)
        if corners is None:
            raise DocumentError(issue=ISSUES["no_page"])
        flat = rectify(frame, corners, long_side)
    flat, angle = deskew(flat)
    # trim the sliver of desk that perspective and rotation leave at the edges
    h, w = flat.shape[:2]
    m = max(2, int(0.006 * max(h, w)) + int(abs(np.tan(np.deg2rad(angle))) * max(h, w) / 2))
    flat = flat[m:h - m, m:w - m]
    issues, metrics = check_quality(flat, info)
    blocking = [i for i in issues if i.code in _BLOCKING]
    if blocking:
        raise DocumentError(issue=blocking[0])
    if scan:
        flat = scan_look(flat)
    return Page(np.ascontiguousarray(flat), corners, angle, issues, metrics)


# --- output ------------------------------------------------------------------------------------
def encode_jpeg(img: np.ndarray, max_bytes: int = 800_000, *, min_quality: int = 50,
                max_long_side: int = 2400) -> Output:
    """The best JPEG within ``max_bytes``: lower the quality first (to ``min_quality``), then the size."""
    import cv2

    h, w = img.shape[:2]
    if max(h, w) > max_long_side:
        f = max_long_side / max(h, w)
        img = cv2.resize(img, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA)
    while True:
        for q in (90, 85, 80, 75, 70, 65, 60, 55, 50, 45, 40):
            if q < min_quality:
                break
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
            if ok and len(buf) <= max_bytes:
                return _output(buf.tobytes(), "image/jpeg", (img.shape[1], img.shape[0]))
        if max(img.shape[:2]) < 400:
            raise ValueError(f"cannot fit the page into {max_bytes} bytes")
        img = cv2.resize(img, None, fx=0.85, fy=0.85, interpolation=cv2.INTER_AREA)


def _jpeg_info(data: bytes) -> tuple[int, int, int]:
    """(width, height, components) from a JPEG's SOF marker."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise ValueError("not a JPEG")
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return w, h, data[i + 9]
        i += 2 + length
    raise ValueError("JPEG without a frame header")


def pages_to_pdf(pages: list[Output | bytes], *, page_size=(595.28, 841.89), margin: float = 0.0) -> Output:
    """One PDF with each JPEG as a page, embedded byte for byte (DCTDecode, no re-encoding: the
    pages keep the sha256 the dossier lists). A4 pages, the image fitted and centred."""
    if not pages:
        raise ValueError("no pages")
    objs: list[bytes] = []
    n = len(pages)
    # object numbers: 1 catalog, 2 pages, then per page: page, image, content
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    pw, ph = page_size
    for i, p in enumerate(pages):
        data = p.data if isinstance(p, Output) else bytes(p)
        w, h, comps = _jpeg_info(data)
        cs = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}[comps]
        landscape = w > h
        PW, PH = (ph, pw) if landscape else (pw, ph)
        s = min((PW - 2 * margin) / w, (PH - 2 * margin) / h)
        dw, dh = w * s, h * s
        x, y = (PW - dw) / 2, (PH - dh) / 2
        img_no, content_no = 4 + 3 * i, 5 + 3 * i
        objs.append((f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PW:.2f} {PH:.2f}] "
                     f"/Resources << /XObject << /Im{i} {img_no} 0 R >> >> /Contents {content_no} 0 R >>").encode())
        objs.append(f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {cs} "
                    f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>\nstream\n".encode()
                    + data + b"\nendstream")
        content = f"q {dw:.2f} 0 0 {dh:.2f} {x:.2f} {y:.2f} cm /Im{i} Do Q".encode()
        objs.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for no, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{no} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return _output(bytes(out), "application/pdf")
