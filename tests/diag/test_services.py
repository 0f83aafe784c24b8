"""With the app's open devices (maintenance screen, heartbeats) the checks ask them instead of
opening the hardware a second time, and leave them open and untouched. The devices here are the
real simulated backends, opened as kiosk.services.KioskServices opens them."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.health import State
from kiosk.diagnostics import format_table, run, run_all

idcard = pytest.importorskip("devices.idcard")
printer_mod = pytest.importorskip("devices.printer")
qr = pytest.importorskip("devices.qr")
camera = pytest.importorskip("devices.camera")


@pytest.fixture
def services(make_cfg):
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    s = SimpleNamespace(reader=idcard.open_reader(cfg["devices.idcard"]),
                        printer=printer_mod.open_printer(cfg["devices.printer"]),
                        scanner=qr.open_scanner(cfg["devices.qr"]),
                        camera=camera.open_camera(cfg["devices.camera"]))
    for device in (s.reader, s.printer, s.scanner, s.camera):  # factories build; the app opens, once
        device.open()
    yield cfg, s
    for device in (s.camera, s.reader, s.scanner, s.printer):
        device.close()


def test_checks_use_the_app_devices_and_leave_them_working(services):
    cfg, s = services
    s.scanner.inject(b"kiosk://flow/khai-sinh")  # a citizen's scan the app has not read yet
    results = run_all(cfg, services=s)
    states = {r.name: r.state for r in results}
    assert states["printer"] is State.OK and states["camera"] is State.OK and states["qr"] is State.OK
    idc = next(r for r in results if r.name == "idcard")
    assert idc.state is State.OK and "test_read" not in idc.health.facts  # no read behind the app's back
    assert s.scanner.read(1.0) == b"kiosk://flow/khai-sinh"  # the citizen's scan was not consumed
    assert s.printer.status().can_print  # still open and usable
    assert s.camera.frame() is not None
    table = format_table(results)
    assert "printer" in table and "overall" in table
    assert "Máy in: Hoạt động bình thường" in table  # the Vietnamese line the maintenance screen shows


def test_the_app_printer_out_of_paper_shows(services):
    cfg, s = services
    s.printer.simulate(paper="out")
    r = run(cfg, "printer", services=s)
    assert r.state is State.NEEDS_ATTENTION and "paper" in r.health.detail


def test_camera_check_in_the_app_opens_the_apps_own_camera_once(make_cfg):
    """Before any citizen has photographed a paper the app holds no camera: the heartbeat's check
    must open it through the app (one handle, kept), not a second handle of its own."""
    from kiosk.services import KioskServices

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    s = KioskServices(cfg)
    assert s.camera is None
    first = run(cfg, "camera", services=s)
    assert first.state is State.OK and s.camera is not None
    held_camera, frames = s.camera, s.camera.frames
    run(cfg, "camera", services=s)
    assert s.camera is held_camera and s.camera.frames == frames + 1  # the same handle, asked again


@pytest.fixture
def serial_pair(tmp_path):
    """A socat pty pair: (the port the kiosk opens, the end that plays the scanner)."""
    import os
    import shutil
    import subprocess
    import time

    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    port, device = tmp_path / "ttyQR", tmp_path / "ttyDEV"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={port}", f"pty,raw,echo=0,link={device}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port) and os.path.exists(device):
            break
        time.sleep(0.01)
    yield str(port), str(device)
    proc.terminate()
    proc.wait(5)


def _started(cfg):
    from kiosk.services import KioskServices

    s = KioskServices(cfg)
    s.start()
    return s


def test_the_app_opens_the_serial_scanner_once(make_cfg, serial_pair):
    """The app used to open the serial scanner a second time after open_scanner had opened it: the
    port is opened exclusively, so the second open failed, the scanner was reported broken at start
    and its working handle was dropped."""
    import serial

    port, device = serial_pair
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False},
                    "devices.qr": {"backend": "serial", "port": port}})
    s = _started(cfg)
    try:
        assert [p for p in s.startup_problems if p.startswith("qr")] == []
        assert s.scanner.health().state is State.OK and s.scanner.health().facts["reconnects"] == 0
        with serial.Serial(device, 9600, timeout=1) as dev:
            dev.write(b"kiosk://flow/khai-sinh\r")
            dev.flush()
        assert s.scanner.read(3) == b"kiosk://flow/khai-sinh"
    finally:
        s.stop()


def test_the_app_starts_the_camera_qr_scanner_on_its_one_camera(make_cfg):
    """The app used to build the camera QR backend without a camera, so it never started. It now
    reads the app's own camera: one handle, shared with document capture, closed by the app."""
    from devices.qr.scanner import SIM_CITIZEN_QR

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False},
                    "devices.qr": {"backend": "camera"}, "devices.camera": {"width": 1280, "height": 720}})
    s = _started(cfg)
    try:
        assert [p for p in s.startup_problems if p.startswith("qr")] == []
        assert s.camera is not None and s.scanner.camera is s.camera
        assert s.open_camera() is s.camera  # the documents screen gets the same handle
        s.camera.hold_qr(SIM_CITIZEN_QR)
        got = None
        for _ in range(5):
            got = s.scanner.read(timeout=1)
            if got == SIM_CITIZEN_QR.encode():
                break
        assert got == SIM_CITIZEN_QR.encode()
        closed = []
        s.camera.close = lambda: closed.append(True)
        s.scanner.close()
        assert closed == []  # the scanner does not close the app's camera; the app does
    finally:
        s.stop()
