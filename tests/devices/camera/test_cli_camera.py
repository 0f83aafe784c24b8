"""`kiosk camera snapshot` and `kiosk camera scan-document` end to end on real files."""
from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from devices.camera.scene import desk_photo
from kiosk.tools.cli import main


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("docs")
    paths = []
    for seed, kw in [(11, dict(tilt=0.15, angle=10)), (12, dict(tilt=0.1, angle=-14, shadow=0.45))]:
        img, _ = desk_photo(seed, **kw)
        p = d / f"photo{seed}.jpg"
        cv2.imwrite(str(p), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(str(p))
    return paths


def test_snapshot_sim_and_file(tmp_path, photo_files, capsys):
    out = tmp_path / "snap.png"
    assert main(["camera", "snapshot", str(out), "--backend", "sim"]) == 0
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (1080, 1920, 3)
    out2 = tmp_path / "snap.jpg"
    assert main(["camera", "snapshot", str(out2), "--backend", "opencv", "--source", photo_files[0],
                 "--timeout", "5"]) == 0
    assert cv2.imread(str(out2)).shape == (1080, 1920, 3)
    assert main(["camera", "snapshot", str(tmp_path / "x.png"), "--backend", "file",
                 "--source", str(tmp_path / "none.png")]) == 1


def test_scan_document_jpeg(tmp_path, photo_files, capsys):
    out = tmp_path / "page.jpg"
    assert main(["camera", "scan-document", photo_files[0], str(out), "--max-bytes", "250000", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    data = out.read_bytes()
    assert len(data) <= 250_000 and res["sha256"] == hashlib.sha256(data).hexdigest()
    page = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert abs(page.shape[0] / page.shape[1] - 2 ** 0.5) < 0.03
    assert res["pages"][0]["issues"] == []


def test_scan_document_pdf_and_refusals(tmp_path, photo_files, capsys):
    out = tmp_path / "doc.pdf"
    assert main(["camera", "scan-document", *photo_files, str(out), "--scan"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and hashlib.sha256(out.read_bytes()).hexdigest() in lines[-1]
    assert out.read_bytes().count(b"/Type /Page ") == 2
    # a photo of an empty desk: the citizen's message, nothing written
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((720, 1280, 3), (60, 95, 140), np.uint8))
    assert main(["camera", "scan-document", str(empty), str(tmp_path / "no.jpg")]) == 1
    err = capsys.readouterr().err
    assert "Không tìm thấy giấy tờ" in err and "No document found" in err
    assert not (tmp_path / "no.jpg").exists()
    assert main(["camera", "scan-document", *photo_files, str(tmp_path / "two.jpg")]) == 2
    # strict: a blurred photo is refused instead of written
    blurred = tmp_path / "blurred.jpg"
    cv2.imwrite(str(blurred), cv2.GaussianBlur(cv2.imread(photo_files[0]), (0, 0), 3.5))
    assert main(["camera", "scan-document", str(blurred), str(tmp_path / "b.jpg"), "--strict"]) == 1
    assert "Ảnh bị mờ" in capsys.readouterr().err
    assert main(["camera", "scan-document", str(blurred), str(tmp_path / "b.jpg")]) == 0
