"""One shape for the four device kinds: a config section each package owns, a backend table, a
factory that builds without I/O and refuses an unknown backend, and open()/close()/health().

The config checker and the drivers cannot drift: every key a factory or backend reads is declared
in its package's section (checked by building every backend with a config that refuses any other
key, and by reading the source), and ``kiosk config`` takes exactly these sections."""
from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest

from common.config_keys import Section, UndeclaredKey
from common.health import State

ROOT = Path(__file__).resolve().parents[2]


def kinds():
    """(kind, section, backend table, factory, error class) for the four device kinds."""
    import devices.camera.config as camera_cfg
    import devices.idcard.config as idcard_cfg
    import devices.printer.config as printer_cfg
    import devices.qr.config as qr_cfg
    from devices.camera import BACKENDS as CAMERAS, CameraError, open_camera
    from devices.idcard import BACKENDS as READERS, CardError, open_reader
    from devices.printer import BACKENDS as PRINTERS, PrinterError, open_printer
    from devices.qr import open_scanner
    from devices.qr.scanner import BACKENDS as SCANNERS, ScannerError

    return {
        "idcard": (idcard_cfg.SECTION, READERS, open_reader, CardError),
        "qr": (qr_cfg.SECTION, SCANNERS, open_scanner, ScannerError),
        "camera": (camera_cfg.SECTION, CAMERAS, open_camera, CameraError),
        "printer": (printer_cfg.SECTION, PRINTERS, open_printer, PrinterError),
    }


KINDS = ("idcard", "qr", "camera", "printer")


class StrictSection(dict):
    """A config section that refuses to be read at a key its package does not declare."""

    def __init__(self, section: Section, values: dict):
        super().__init__(values)
        self.section = section
        self.read: set[str] = set()

    def _check(self, key):
        if key not in self.section.keys:
            raise AssertionError(f"[{self.section.name}] {key!r} read but not declared")
        self.read.add(key)

    def __getitem__(self, key):
        self._check(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._check(key)
        return super().get(key, default)

    def __contains__(self, key):
        self._check(key)
        return super().__contains__(key)


def _needs(kind: str, backend: str, tmp_path) -> dict:
    """The settings a backend cannot be built without (none of them is reached at build time)."""
    return {
        ("printer", "network"): {"host": "192.0.2.1"},
        ("printer", "serial"): {"device": str(tmp_path / "ttyNOPE")},
        ("printer", "file"): {"device": str(tmp_path / "lp0")},
        ("printer", "usb"): {"usb_vendor": 0x0416, "usb_product": 0x5011},
        ("qr", "serial"): {"port": str(tmp_path / "ttyNOPE")},
        ("camera", "opencv"): {"source": str(tmp_path / "video9")},
        ("camera", "file"): {"source": str(tmp_path / "none.png")},
    }.get((kind, backend), {})


def _build(kind, backend, tmp_path, section_cls=dict):
    section, table, factory, _ = kinds()[kind]
    cfg = {"backend": backend, **_needs(kind, backend, tmp_path)}
    cfg = StrictSection(section, cfg) if section_cls is StrictSection else cfg
    extra = {}
    if kind == "qr" and backend == "camera":
        import devices.camera.config as camera_cfg

        extra["camera"] = StrictSection(camera_cfg.SECTION, {"backend": "sim", "width": 320, "height": 240})
    return factory(cfg, **extra), cfg, extra


ALL_BACKENDS = [(k, b) for k in KINDS for b in kinds()[k][1]]


@pytest.mark.parametrize("kind, backend", ALL_BACKENDS, ids=lambda v: str(v))
def test_every_key_a_backend_reads_is_declared(kind, backend, tmp_path):
    device, cfg, extra = _build(kind, backend, tmp_path, StrictSection)
    assert "backend" in cfg.read
    for strict in extra.values():  # the camera QR backend builds its camera from the camera section
        assert strict.read
    device.close()


@pytest.mark.parametrize("kind", KINDS)
def test_the_source_reads_only_declared_keys(kind):
    """Every literal key read from a section (``cfg["x"]``, ``cfg.get("x")``, ``settings[…]``) in the
    package's source is declared: a key read only on a path the build test does not take counts too."""
    section = kinds()[kind][0]
    names = {"cfg", "settings", "section", "conf"}
    found = []
    for path in sorted((ROOT / "devices" / kind).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names:
                key = node.slice
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and isinstance(node.func.value, ast.Name) and node.func.value.id in names and node.args):
                key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                found.append((path.relative_to(ROOT).as_posix(), node.lineno, key.value))
    assert found, "the check must see the drivers' reads"
    undeclared = [f"{p}:{line}: {k}" for p, line, k in found if k not in section.keys]
    assert undeclared == []


def test_settings_refuse_an_undeclared_key_and_fill_defaults():
    import devices.qr.config as qr_cfg

    settings = qr_cfg.SECTION.settings({"backend": "serial", "port": "/dev/ttyACM0"})
    assert settings["port"] == "/dev/ttyACM0" and settings["reconnect_s"] == qr_cfg.DEFAULTS["reconnect_s"]
    for read in (lambda: settings["colour"], lambda: settings.get("colour", 1)):
        with pytest.raises(UndeclaredKey, match="colour"):
            read()


@pytest.mark.parametrize("kind", KINDS)
def test_section_invariants(kind):
    section, table, _, _ = kinds()[kind]
    assert section.name == f"devices.{kind}"
    assert set(section.defaults) == set(section.keys), "every device key has a default"
    for key, value in section.defaults.items():
        section.keys[key].validate(value)
        if section.keys[key].kind == "path":
            assert value == "", "a path default would not be resolved against a config file"
    assert section.keys["backend"].choices == tuple(table)  # the config accepts exactly the table's names


def test_printer_profiles_come_from_the_profile_data():
    import devices.printer.config as printer_cfg
    from devices.printer.profiles import profile_names
    from kiosk.tools.cli import build_parser

    assert printer_cfg.KEYS["profile"].choices == tuple(profile_names())
    assert printer_cfg.DEFAULTS["profile"] in profile_names()
    parser = build_parser()
    for argv in (["print", "test", "--profile", "57mm"], ["printer", "emulate", "--profile", "57mm"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
    for name in profile_names():
        assert parser.parse_args(["print", "test", "--profile", name]).profile == name
        assert parser.parse_args(["printer", "emulate", "--profile", name]).profile == name


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_backend_is_a_bilingual_error_naming_the_known_ones(kind):
    section, table, factory, error = kinds()[kind]
    with pytest.raises(error) as ei:
        factory({"backend": "laser"})
    err = ei.value
    assert err.code == "unknown_backend"
    known = ", ".join(table)
    assert "'laser'" in err.message_en and known in err.message_en
    assert "'laser'" in err.message_vi and known in err.message_vi and "không" in err.message_vi


@pytest.fixture
def no_io(monkeypatch):
    """Any device I/O (socket, serial port, camera, pcscd, USB) fails the test."""
    def refuse(*a, **k):
        raise AssertionError("device I/O while building")

    import cv2
    import serial
    import smartcard.System

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(serial, "serial_for_url", refuse)
    monkeypatch.setattr(cv2, "VideoCapture", refuse)
    monkeypatch.setattr(cv2, "imread", refuse)
    monkeypatch.setattr(smartcard.System, "readers", refuse)
    try:
        import escpos.printer

        monkeypatch.setattr(escpos.printer, "Usb", refuse)
    except ImportError:
        pass


@pytest.mark.parametrize("kind, backend", ALL_BACKENDS, ids=lambda v: str(v))
def test_factories_build_without_io(kind, backend, tmp_path, no_io):
    device, _, _ = _build(kind, backend, tmp_path)
    assert hasattr(device, "open") and hasattr(device, "close") and hasattr(device, "health")
    assert not (tmp_path / "lp0").exists()  # the file printer is not opened either


def test_serial_devices_on_a_missing_port_are_built_and_report_failed_health_until_opened(tmp_path):
    from devices.printer import PrinterError, open_printer
    from devices.qr import open_scanner
    from devices.qr.scanner import ScannerError

    printer = open_printer({"backend": "serial", "device": str(tmp_path / "ttyUSB9"), "timeout_s": 0.5})
    health = printer.health()
    assert health.state is State.FAILED and "cannot reach" in health.detail
    with pytest.raises(PrinterError) as ei:
        printer.open()
    assert ei.value.code == "unreachable"
    scanner = open_scanner({"backend": "serial", "port": str(tmp_path / "ttyACM9")})
    assert not scanner.health().ok
    with pytest.raises(ScannerError):
        scanner.open()
    assert not scanner.health().ok


@pytest.mark.parametrize("kind", KINDS)
def test_sim_backends_open_once_close_and_report_health(kind, tmp_path):
    device, _, _ = _build(kind, "sim", tmp_path)
    if kind != "printer":  # the printer's health asks the (simulated) printer itself
        assert device.health().state is State.NOT_READY
    device.open()
    device.open()  # idempotent
    health = device.health()
    assert health.state in (State.OK, State.NEEDS_ATTENTION), health  # idcard: no test CSCA configured here
    device.close()


def test_a_printer_missing_its_setting_says_not_configured_not_job_kept():
    from devices.printer import PrinterError, open_printer

    with pytest.raises(PrinterError) as ei:
        open_printer({"backend": "network", "host": ""})
    assert ei.value.code == "not_configured" and ei.value.job_id is None
    assert "kept for reprinting" not in ei.value.message_en and "kỹ thuật" in ei.value.message_vi
