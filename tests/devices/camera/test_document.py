"""Document capture on synthetic photos: a form page on a wooden desk, at an angle, with shadow."""
from __future__ import annotations

import shutil
import subprocess

import cv2
import numpy as np
import pytest

from devices.camera.document import (
    DocumentError, capture_document, check_quality, deskew, encode_jpeg, find_page, pages_to_pdf, scan_look,
)
from devices.camera.scene import desk_photo, document_page
from devices.qr import decode_frame


@pytest.fixture(scope="module")
def photos():
    return {
        "angled": desk_photo(1, tilt=0.12, angle=8, shadow=0.35),
        "steep": desk_photo(2, tilt=0.22, angle=17, shadow=0.5),
        "other_way": desk_photo(3, tilt=0.1, angle=-22, shadow=0.2, coverage=0.8),
    }


def _similarity(flat: np.ndarray) -> float:
    """Correlation of the flattened page with the page that was photographed."""
    ref = cv2.cvtColor(document_page(), cv2.COLOR_BGR2GRAY)
    got = cv2.cvtColor(scan_look(flat), cv2.COLOR_BGR2GRAY)  # compare ink, not the shadow
    size = (300, 424)
    a = cv2.GaussianBlur(cv2.resize(ref, size, interpolation=cv2.INTER_AREA), (5, 5), 0).astype(np.float32)
    b = cv2.GaussianBlur(cv2.resize(got, size, interpolation=cv2.INTER_AREA), (5, 5), 0).astype(np.float32)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize("name", ["angled", "steep", "other_way"])
def test_angled_photo_comes_out_flat_and_readable(photos, name):
    photo, quad = photos[name]
    corners, info = find_page(photo)
    assert corners is not None and not info["touches_border"]
    assert np.abs(corners - quad).max() < 0.004 * photo.shape[0]
    page = capture_document(photo)
    assert page.ok, [i.code for i in page.issues]
    h, w = page.image.shape[:2]
    assert abs(h / w - 2 ** 0.5) < 0.03          # A4, upright
    assert _similarity(page.image) > 0.85         # the same page, not a warped crop
    assert abs(page.skew_deg) <= 1.0
    # readable: the small QR printed on the form decodes from the flattened page
    assert "kiosk://flow/khai-sinh" in [d.text for d in decode_frame(page.image)]


def test_scan_look_whitens_the_paper(photos):
    photo, _ = photos["steep"]   # the strongest shadow
    plain = capture_document(photo)
    scan = capture_document(photo, scan=True)
    g0 = cv2.cvtColor(plain.image, cv2.COLOR_BGR2GRAY)
    g1 = cv2.cvtColor(scan.image, cv2.COLOR_BGR2GRAY)
    assert np.percentile(g1, 60) >= 245 > np.percentile(g0, 60)
    # the shadow is divided out: left and right halves of the paper end up equally white
    assert abs(np.median(g1[:, : g1.shape[1] // 3]) - np.median(g1[:, -g1.shape[1] // 3:])) < 6


def test_deskew_levels_a_rotated_page():
    page = document_page(900)
    h, w = page.shape[:2]
    tilted = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), 4.0, 1.0), (w, h),
                            borderMode=cv2.BORDER_REPLICATE)
    _, angle = deskew(tilted)
    assert abs(angle + 4.0) < 0.5
    _, angle = deskew(page)
    assert angle == 0.0


@pytest.mark.parametrize("trouble,code", [
    ("blur", "blurred"), ("dark", "too_dark"), ("glare", "glare"), ("far", "too_small"),
])
def test_quality_issues(photos, trouble, code):
    photo, quad = photos["angled"]
    if trouble == "blur":
        photo = cv2.GaussianBlur(photo, (0, 0), 3)
    elif trouble == "dark":
        photo = (photo * 0.3).astype(np.uint8)
    elif trouble == "glare":
        c = quad.mean(axis=0)
        yy, xx = np.mgrid[0:photo.shape[0], 0:photo.shape[1]].astype(np.float32)
        blob = 400 * np.exp(-(((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * 90.0 ** 2)))
        photo = np.clip(photo + blob[:, :, None], 0, 255).astype(np.uint8)
    elif trouble == "far":
        photo, _ = desk_photo(4, coverage=0.4)
    page = capture_document(photo)
    codes = [i.code for i in page.issues]
    assert code in codes
    issue = next(i for i in page.issues if i.code == code)
    assert issue.message_vi and issue.message_en and "Vui lòng" in issue.message_vi


def test_no_page_and_cut_off():
    desk, _ = desk_photo(5)
    empty = desk.copy()
    empty[:] = cv2.GaussianBlur(desk, (0, 0), 1)[0:1, 0:1]  # a plain desk, nothing on it
    with pytest.raises(DocumentError) as ei:
        capture_document(empty)
    assert ei.value.code == "no_page" and "Không tìm thấy giấy tờ" in ei.value.message_vi
    photo, quad = desk_photo(6, coverage=0.8, angle=0, tilt=0.05)
    cut = photo[:, : int(quad[:, 0].max() - 120)]  # the camera sees only part of the page
    with pytest.raises(DocumentError) as ei:
        capture_document(cut)
    assert ei.value.code == "cut_off"


def test_blank_sheet_is_not_called_blurred():
    issues, metrics = check_quality(np.full((1400, 1000, 3), 225, np.uint8))
    assert issues == [] and metrics["detail"] < 1


def test_jpeg_budget_and_pdf(photos, tmp_path):
    pages = [capture_document(photos[n][0]) for n in ("angled", "other_way")]
    outs = []
    for budget in (400_000, 40_000):
        o = encode_jpeg(pages[0].image, max_bytes=budget)
        assert o.size <= budget and o.media_type == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(o.data, np.uint8), cv2.IMREAD_COLOR) is not None
        outs.append(o)
    assert outs[0].sha256 != outs[1].sha256 and len(outs[0].sha256) == 64
    jpegs = [encode_jpeg(p.image, max_bytes=300_000) for p in pages]
    pdf = pages_to_pdf(jpegs)
    assert pdf.data.startswith(b"%PDF-1.4") and pdf.data.rstrip().endswith(b"%%EOF")
    for j in jpegs:  # embedded byte for byte: the attachment hashes still hold inside the PDF
        assert j.data in pdf.data
    assert pdf.data.count(b"/Type /Page ") == 2
    if shutil.which("gs"):
        path = tmp_path / "doc.pdf"
        path.write_bytes(pdf.data)
        subprocess.run(["gs", "-q", "-dSAFER", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pnggray", "-r30",
                        f"-sOutputFile={tmp_path}/p%d.png", str(path)], check=True, timeout=60)
        rendered = sorted(tmp_path.glob("p*.png"))
        assert len(rendered) == 2
        img = cv2.imread(str(rendered[0]), cv2.IMREAD_GRAYSCALE)
        assert img.mean() > 150 and img.min() < 100   # a white page with dark text on it
    with pytest.raises(ValueError):
        pages_to_pdf([])
