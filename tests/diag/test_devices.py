"""Device checks with the device present, absent and failing, on the simulated backends and on
real stand-ins: a TCP printer emulator on 127.0.0.1, socat pty pairs for the serial scanner,
image files for the camera."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.health import State
from kiosk.tools.cli import main
from kiosk.diagnostics import Options, run

from .conftest import free_port

printer_mod = pytest.importorskip("devices.printer")


def _cli(cfg, *args) -> int:
    return main(["--config", str(cfg.sources[-1]), "diag", *args])


# --- printer ------------------------------------------------------------------------------------
def test_printer_sim_ok_with_status_bytes(make_cfg):
    r = run(make_cfg(), "printer")
    assert r.state is State.OK
    assert set(r.health.facts["status"]["raw"]) == {"1", "2", "4"}  # DLE EOT 1/2/4 answers


def test_printer_out_of_paper_says_what_to_do_and_exit_code_3(make_cfg, capsys):
    cfg = make_cfg({"devices.printer": {"sim_paper": "out"}})
    r = run(cfg, "printer")
    assert r.state is State.NEEDS_ATTENTION and "paper" in r.health.detail and "paper roll" in r.health.action
    assert r.message_vi.startswith("Máy in cần kiểm tra")
    assert _cli(cfg, "printer") == 3
    assert "load a new paper roll" in capsys.readouterr().out


def test_printer_cover_open(make_cfg):
    r = run(make_cfg({"devices.printer": {"sim_cover_open": True}}), "printer")
    assert r.state is State.NEEDS_ATTENTION and "cover" in r.health.detail


def test_network_printer_present_then_out_of_paper(make_cfg):
    model = printer_mod.PrinterModel()
    with printer_mod.NetworkPrinterEmulator(model) as emu:
        cfg = make_cfg({"devices.printer": {"backend": "network", "host": "127.0.0.1", "port": emu.port}})
        assert run(cfg, "printer").state is State.OK
        model.set_state(paper="out")
        r = run(cfg, "printer")
        assert r.state is State.NEEDS_ATTENTION and "paper" in r.health.detail


def test_network_printer_unplugged_fails_exit_code_1(make_cfg):
    cfg = make_cfg({"devices.printer": {"backend": "network", "host": "127.0.0.1", "port": free_port(), "timeout_s": 1.0}})
    r = run(cfg, "printer")
    assert r.state is State.FAILED and r.health.action
    assert _cli(cfg, "printer") == 1


def test_test_page_only_when_asked(make_cfg):
    cfg = make_cfg()
    out_dir = Path(cfg["devices.printer"]["out_dir"])
    run(cfg, "printer")
    assert not list(out_dir.glob("*.png"))  # a status check prints nothing
    r = run(cfg, "printer", Options(test_page=True))
    assert r.state is State.OK and r.health.facts["test_page"]["layout"] == "test_page"
    assert Path(r.health.facts["test_page"]["png_path"]).exists()


def test_no_test_page_on_a_printer_out_of_paper(make_cfg):
    r = run(make_cfg({"devices.printer": {"sim_paper": "out"}}), "printer", Options(test_page=True))
    assert r.health.facts["test_page"].startswith("not printed")


# --- camera -------------------------------------------------------------------------------------
def _form_image(path: Path, blur: float = 0) -> Path:
    img = np.full((480, 640, 3), 200, np.uint8)
    for y in range(40, 440, 24):
        for x in range(40, 600, 36):
            cv2.rectangle(img, (x, y), (x + 24, y + 8), (20, 20, 20), -1)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    cv2.imwrite(str(path), img)
    return path


def test_camera_sim_ok_with_scores(make_cfg):
    pytest.importorskip("devices.camera")
    r = run(make_cfg(), "camera")
    assert r.state is State.OK, r.health
    assert r.health.facts["focus"] > 0 and 0 < r.health.facts["brightness"] < 255


def test_camera_file_sharp_ok_blurred_needs_attention(make_cfg, tmp_path):
    pytest.importorskip("devices.camera")
    sharp = _form_image(tmp_path / "sharp.png")
    assert run(make_cfg({"devices.camera": {"backend": "file", "source": str(sharp)}}), "camera").state is State.OK
    blurred = _form_image(tmp_path / "blurred.png", blur=8)
    r = run(make_cfg({"devices.camera": {"backend": "file", "source": str(blurred)}}), "camera")
    assert r.state is State.NEEDS_ATTENTION and "blurred" in r.health.detail and "lens" in r.health.action


def test_camera_gone(make_cfg, tmp_path, monkeypatch):
    pytest.importorskip("devices.camera")
    # a missing device never gives a frame: waiting the full 5 s product timeout proves nothing more
    monkeypatch.setattr("kiosk.diagnostics.camera.FRAME_TIMEOUT_S", 1.0)
    cfg = make_cfg({"devices.camera": {"backend": "opencv", "source": str(tmp_path / "video99")}})
    r = run(cfg, "camera")
    assert r.state is State.NEEDS_ATTENTION and "no picture" in r.health.detail
    assert "USB" in r.health.action


# --- QR scanner ---------------------------------------------------------------------------------
def test_qr_sim_test_scan(make_cfg):
    r = run(make_cfg(), "qr")
    assert r.state is State.OK and r.health.facts["test_scan"] == "injected payload read back"


def test_qr_camera_backend_on_the_sim_camera(make_cfg):
    r = run(make_cfg({"devices.qr": {"backend": "camera"}}), "qr")
    assert r.state is State.OK, r.health


def test_qr_serial_unplugged(make_cfg, tmp_path):
    r = run(make_cfg({"devices.qr": {"backend": "serial", "port": str(tmp_path / "ttyACM9")}}), "qr")
    assert r.state is State.NEEDS_ATTENTION and "dialout" in r.health.action


@pytest.fixture
def pty_pair(tmp_path):
    if not shutil.which("socat"):
        pytest.skip("socat not installed")
    a, b = tmp_path / "scanner", tmp_path / "kiosk"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()) and time.monotonic() < deadline:
        time.sleep(0.02)
    yield a, b
    proc.terminate()
    proc.wait(5)


def test_qr_serial_real_scan_reports_kind_not_content(make_cfg, pty_pair):
    scanner_end, kiosk_end = pty_pair
    cfg = make_cfg({"devices.qr": {"backend": "serial", "port": str(kiosk_end)}})
    cccd = "001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|Số 12 ngõ 34 phố Đội Cấn|15062023\r".encode()

    def scan():
        time.sleep(0.5)
        with open(scanner_end, "wb") as fh:
            fh.write(cccd)

    threading.Thread(target=scan, daemon=True).start()
    r = run(cfg, "qr", Options(scan_timeout_s=8))
    assert r.state is State.OK, r.health
    assert r.health.facts["test_scan"]["kind"] == "id card"
    assert "Ngọc Ánh" not in repr(r.as_dict()) and "001185012345" not in repr(r.as_dict())


def test_qr_serial_present_but_nothing_scanned(make_cfg, pty_pair):
    _, kiosk_end = pty_pair
    cfg = make_cfg({"devices.qr": {"backend": "serial", "port": str(kiosk_end)}})
    assert run(cfg, "qr").state is State.OK  # present; no scan asked for
    r = run(cfg, "qr", Options(scan_timeout_s=0.5))
    assert r.state is State.NEEDS_ATTENTION and "no code scanned" in r.health.detail
