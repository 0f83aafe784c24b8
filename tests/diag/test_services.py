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
    s.camera.open()
    yield cfg, s
    s.camera.close()
    s.reader.close()
    s.printer.close()


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
