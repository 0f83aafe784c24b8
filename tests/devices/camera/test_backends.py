"""Camera backends: an mp4 read by the opencv backend exactly as a device, file and sim backends."""
from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np
import pytest

from devices.camera import CameraError, frame_to_texture_bytes, open_camera
from common.health import State
from devices.qr import open_scanner
from devices.qr.scanner import SIM_CITIZEN_QR


def _numbered_frame(i: int, w=320, h=240) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : (i + 1) * w // 10] = (0, 0, 255)  # a red bar whose length encodes the frame number
    return img


@pytest.fixture(scope="module")
def mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("cam") / "clip.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    assert out.isOpened()
    for i in range(10):
        out.write(_numbered_frame(i))
    out.release()
    return path


def _bar(frame) -> int:
    red = (frame[120, :, 2] > 128) & (frame[120, :, 1] < 100)
    return int(red.sum() * 10 / frame.shape[1] + 0.5) - 1


def test_opencv_backend_reads_mp4_as_a_device_and_loops(mp4):
    cam = open_camera({"backend": "opencv", "source": str(mp4), "width": 320, "height": 240, "fps": 60})
    try:
        first = cam.frame(timeout=5)
        assert first.shape == (240, 320, 3)
        seen = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(seen) < 10 or cam.reopens < 1):
            seen.add(_bar(cam.wait_next(timeout=5)))
        assert seen == set(range(10))      # every frame came through the worker thread
        assert cam.reopens >= 1            # end of file → reopened, as after an unplug
        assert cam.health().state is State.OK
    finally:
        cam.close()


def test_opencv_backend_missing_file_says_so(tmp_path):
    """A file source that is not there: built without error, then health, open() and frame() say
    which file and which setting, in both languages, at once (not after a frame timeout)."""
    missing = tmp_path / "no-such.mp4"
    cam = open_camera({"backend": "opencv", "source": str(missing), "fps": 15})
    try:
        h = cam.health()
        assert h.state is State.FAILED and str(missing) in h.detail and "source" in h.action
        with pytest.raises(CameraError) as ei:
            cam.open()
        err = ei.value
        assert err.code == "no_file" and str(missing) in err.message_en and "[devices.camera] source" in err.message_en
        assert err.message_vi.startswith("Không tìm thấy tệp") and "mục source" in err.message_vi
        assert cam._thread is None  # nothing left running for an owner that drops the handle
        t0 = time.monotonic()
        with pytest.raises(CameraError) as ei:
            cam.frame(timeout=5)
        assert ei.value.code == "no_file" and time.monotonic() - t0 < 1
    finally:
        cam.close()


@pytest.mark.parametrize("source", ["/dev/video97", "97"])
def test_opencv_backend_missing_device_says_so(source):
    """An unplugged camera (its /dev/videoN node is gone) is not 'no new frame': the error names the
    device and says to check the cable and the source setting."""
    if source.isdigit() and not sys.platform.startswith("linux"):
        pytest.skip("a device index is checked through /dev/videoN, which only Linux has")
    assert not os.path.exists("/dev/video97")
    cam = open_camera({"backend": "opencv", "source": source})
    try:
        assert cam.health().state is State.NEEDS_ATTENTION and "USB cable" in cam.health().action
        for attempt in (cam.open, lambda: cam.frame(timeout=5), lambda: cam.wait_next(timeout=5)):
            with pytest.raises(CameraError) as ei:
                attempt()
            err = ei.value
            assert err.code == "no_camera" and "/dev/video97" in err.message_en
            assert "USB cable" in err.message_en and "[devices.camera] source" in err.message_en
            assert err.message_vi.startswith("Không tìm thấy máy ảnh") and "dây cáp" in err.message_vi
            assert "no new frame" not in str(err)
    finally:
        cam.close()


def test_camera_qr_scanner_turns_camera_failures_into_scanner_errors(tmp_path):
    """Whoever reads a scanner catches ScannerError: the camera backend's camera failing (not there,
    no picture) comes out as one, with the camera's texts and the camera's error as its cause."""
    from devices.qr.scanner import ScannerError

    for camera in ({"backend": "opencv", "source": "/dev/video97"},                          # its own camera
                   open_camera({"backend": "file", "source": str(tmp_path / "gone.png")})):  # a shared one
        scanner = open_scanner({"backend": "camera"}, camera=camera)
        with pytest.raises(ScannerError) as ei:
            scanner.open()
        err = ei.value
        assert err.code == "camera_failed" and isinstance(err.__cause__, CameraError)
        assert err.__cause__.code in str(err) and err.message_vi == err.__cause__.message_vi
        with pytest.raises(ScannerError) as ei:
            scanner.read(timeout=0.5)
        assert ei.value.code == "camera_failed" and isinstance(ei.value.__cause__, CameraError)
        scanner.close()


def test_file_backend_video_loops_deterministically(mp4):
    cam = open_camera({"backend": "file", "source": str(mp4)})
    bars = [_bar(cam.frame()) for _ in range(12)]
    assert bars == list(range(10)) + [0, 1]
    cam.close()


def test_file_backend_image_and_missing(tmp_path):
    p = tmp_path / "still.png"
    cv2.imwrite(str(p), _numbered_frame(4))
    cam = open_camera({"backend": "file", "source": str(p)})
    assert _bar(cam.frame()) == 4 and cam.health().ok
    missing = open_camera({"backend": "file", "source": str(tmp_path / "none.png")})  # built: no I/O yet
    assert missing.health().state is State.FAILED and "not found" in missing.health().detail
    with pytest.raises(CameraError) as ei:
        missing.open()
    assert ei.value.code == "no_file"


def test_texture_bytes_are_rgba_bottom_up():
    frame = np.zeros((2, 3, 3), np.uint8)
    frame[0, 0] = (255, 0, 0)   # top-left pixel blue (BGR)
    data, size = frame_to_texture_bytes(frame)
    assert size == (3, 2) and len(data) == 3 * 2 * 4
    bottom_row_first = np.frombuffer(data, np.uint8).reshape(2, 3, 4)
    assert tuple(bottom_row_first[1, 0]) == (0, 0, 255, 255)  # top row comes last, as RGBA
    data, size = frame_to_texture_bytes(np.zeros((1080, 1920, 3), np.uint8), size=(640, 360))
    assert size == (640, 360) and len(data) == 640 * 360 * 4


def test_sim_camera_scene_and_camera_qr_scanner():
    cam = open_camera({"backend": "sim", "width": 1280, "height": 720})
    f = cam.frame()
    assert f.shape == (720, 1280, 3) and cam.health().ok
    scanner = open_scanner({"backend": "camera"}, camera=cam)
    assert scanner.read(timeout=0.3) in (None, b"kiosk://flow/khai-sinh")  # the page's own QR may be read
    cam.hold_qr(SIM_CITIZEN_QR)
    got = None
    for _ in range(5):
        got = scanner.read(timeout=1)
        if got == SIM_CITIZEN_QR.encode():
            break
    assert got == SIM_CITIZEN_QR.encode()
    assert scanner.read(timeout=0.3) in (None, b"kiosk://flow/khai-sinh")  # held still: not read twice


def test_unknown_backend():
    with pytest.raises(CameraError) as ei:
        open_camera({"backend": "webcam"})
    assert ei.value.code == "unknown_backend"
    for text in (ei.value.message_en, ei.value.message_vi):
        assert "'webcam'" in text and "opencv, file, sim" in text


def test_factory_does_no_io_and_open_is_idempotent(tmp_path, mp4):
    cam = open_camera({"backend": "opencv", "source": str(mp4), "fps": 15})
    assert cam._thread is None and cam.health().state is State.NOT_READY  # no grab thread yet
    cam.open()
    thread = cam._thread
    cam.open()
    assert cam._thread is thread  # one grab thread, not two
    cam.close()
    sim = open_camera({"backend": "sim", "width": 320, "height": 240})
    assert sim.health().state is State.NOT_READY
    sim.open()
    assert sim.health().ok


def test_opencv_backend_reconnects_when_the_source_appears(tmp_path, mp4):
    """A camera that is unplugged at start (source missing) delivers once it is plugged in."""
    src = tmp_path / "late.mp4"
    cam = open_camera({"backend": "opencv", "source": str(src), "fps": 30, "reconnect_s": 0.2})
    try:
        with pytest.raises(CameraError):
            cam.frame(timeout=0.3)
        tmp = tmp_path / "late.tmp"
        tmp.write_bytes(mp4.read_bytes())
        tmp.rename(src)  # appears atomically, as a device node does
        assert cam.frame(timeout=5).shape == (240, 320, 3)
        assert cam.health().state is State.OK
    finally:
        cam.close()


def test_camera_qr_scanner_over_opencv_backend(tmp_path):
    """A clip in which the citizen shows the CCCD QR, read through the threaded opencv backend."""
    from devices.qr.synth import paste_quad, qr_image

    path = tmp_path / "qr.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (960, 540))
    for i in range(8):
        frame = np.full((540, 960, 3), 90, np.uint8)
        if i >= 3:  # the card comes into view at frame 3
            paste_quad(frame, qr_image(SIM_CITIZEN_QR, scale=4), np.float32([[300, 60], [720, 80], [700, 500], [290, 480]]))
        out.write(frame)
    out.release()
    cam = open_camera({"backend": "opencv", "source": str(path), "fps": 30})
    try:
        scanner = open_scanner({"backend": "camera"}, camera=cam)
        assert scanner.read(timeout=10) == SIM_CITIZEN_QR.encode()
    finally:
        cam.close()



def test_sim_camera_shows_the_paper_placed_under_it():
    """The scripted citizen lays each document under the simulated camera; the picture changes to
    that paper (its heading is what differs) and the page is still found where it lies."""
    from devices.camera.document import find_page

    cam = open_camera({"backend": "sim", "width": 1280, "height": 720})
    certificate = cam.frame()
    cam.place_page("Văn bản đồng ý của chủ hộ")
    consent = cam.frame()
    diff = cv2.absdiff(certificate, consent).max(axis=2)
    assert (diff > 60).mean() > 0.005  # another paper, not noise
    corners, _ = find_page(consent)
    assert corners is not None
    cam.place_page(None)
    assert cv2.absdiff(certificate, cam.frame()).max() < 10  # the birth certificate again


def test_camera_qr_scanner_kept_after_a_failed_open_reads_once_the_camera_comes(tmp_path):
    """Built and kept while its camera is not there (as the app keeps its devices): open() and
    read() say why, and once the camera delivers, the same scanner reads the code."""
    from devices.qr.scanner import ScannerError
    from devices.qr.synth import qr_image

    src = tmp_path / "late.png"
    cam = open_camera({"backend": "opencv", "source": str(src), "fps": 30, "reconnect_s": 0.2})
    scanner = open_scanner({"backend": "camera"}, camera=cam)
    try:
        with pytest.raises(ScannerError):
            scanner.open()
        with pytest.raises(ScannerError):
            scanner.read(timeout=0.3)
        tmp = tmp_path / "late.tmp.png"
        cv2.imwrite(str(tmp), qr_image(SIM_CITIZEN_QR))
        tmp.rename(src)
        assert scanner.read(timeout=5) == SIM_CITIZEN_QR.encode()
        assert scanner.health().state is State.OK
    finally:
        cam.close()
