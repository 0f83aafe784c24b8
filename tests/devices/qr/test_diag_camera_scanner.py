"""`kiosk --config F diag --json` with the camera QR backend on the opencv camera, as a kiosk with a
USB camera is set up, the camera's ``source`` a video file (MJPG in .avi: no extra codecs) in which
a citizen holds up a CCCD QR. The QR check must read it (reporting its kind, never its content);
with the camera unplugged it must say so and what to do."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.qr.scanner import SIM_CITIZEN_QR
from devices.qr.synth import paste_quad, qr_image
from kiosk.tools.cli import main


@pytest.fixture(scope="module")
def cccd_clip(tmp_path_factory) -> Path:
    """24 frames (~1.6 s at 15 fps) of a printed form; the CCCD QR comes into view at frame 4, tilted."""
    path = tmp_path_factory.mktemp("clip") / "cccd.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (800, 600))
    assert out.isOpened(), "OpenCV cannot write MJPG"
    card = qr_image(SIM_CITIZEN_QR, scale=4)
    form = np.full((600, 800, 3), 200, np.uint8)
    for y in range(40, 580, 24):  # lines of "text": what the camera check scores for focus
        for x in range(30, 770, 36):
            cv2.rectangle(form, (x, y), (x + 24, y + 8), (20, 20, 20), -1)
    for i in range(24):
        frame = form.copy()
        if i >= 4:
            paste_quad(frame, card, np.float32([[220, 90], [610, 110], [590, 520], [200, 500]]))
        out.write(frame)
    out.release()
    assert path.stat().st_size > 0
    return path


def _config(tmp_path: Path, source: str) -> Path:
    var = tmp_path / "var"
    text = f"""
[paths]
data_dir = "{var}"
[logging]
file = "{var / 'log' / 'kiosk.log'}"
[outbox]
path = "{var / 'outbox' / 'outbox.sqlite3'}"
key_file = "{var / 'outbox' / 'outbox.key'}"
[flows]
bundle_dir = "{var / 'flows'}"
[devices.printer]
out_dir = "{var / 'printer'}"
spool_dir = "{var / 'printer' / 'spool'}"
[devices.qr]
backend = "camera"
[devices.camera]
backend = "opencv"
source = "{source}"
width = 800
height = 600
fps = 15
"""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _diag(capsys, cfg: Path, *check: str) -> dict:
    main(["--config", str(cfg), "diag", "--json", *check])
    out = capsys.readouterr().out
    return json.loads(out), out


def test_diag_reads_the_cccd_qr_from_a_video_file(tmp_path, capsys, cccd_clip):
    report, out = _diag(capsys, _config(tmp_path, str(cccd_clip)))
    checks = {c["name"]: c for c in report["checks"]}
    qr = checks["qr"]
    assert qr["state"] == "ok", qr
    assert qr["facts"]["backend"] == "camera" and qr["facts"]["test_scan"] == {"bytes": len(SIM_CITIZEN_QR.encode()),
                                                                              "kind": "id card"}
    assert checks["camera"]["state"] == "ok", json.dumps(checks["camera"])  # the same clip: a sharp, lit picture
    for personal in ("001185012345", "Ngọc Ánh", "Đội Cấn", "12051985"):
        assert personal not in out  # the kind and length of the code, never its content


def test_diag_says_the_camera_is_unplugged(tmp_path, capsys):
    report, _ = _diag(capsys, _config(tmp_path, "/dev/video97"), "qr")
    qr = report["checks"][0]
    assert qr["state"] == "needs_attention", qr
    assert "no camera at /dev/video97" in qr["detail"] and "USB cable" in qr["action"]
    assert "source" in qr["action"] and qr["message_vi"] == "Camera của máy quét QR không có hình"


def test_diag_says_the_video_file_is_missing(tmp_path, capsys):
    missing = tmp_path / "nowhere.avi"
    report, _ = _diag(capsys, _config(tmp_path, str(missing)), "qr", )
    qr = report["checks"][0]
    assert qr["state"] == "needs_attention" and f"camera file not found: {missing}" in qr["detail"], qr
    report, _ = _diag(capsys, _config(tmp_path, str(missing)), "camera")
    cam = report["checks"][0]
    assert cam["state"] == "needs_attention" and "camera file not found" in cam["detail"] and "source" in cam["action"]
