"""Scanners: serial over real socat pty pairs (unplug = kill socat), the sim and the camera backend."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import serial

from common.health import State
from devices.qr import open_scanner
from devices.qr.payloads import parse_cccd
from devices.qr.scanner import SIM_CITIZEN_QR, ScannerError, SerialScanner

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


class PtyPair:
    """socat pty pair: ``scanner`` is the end the kiosk opens, ``device`` plays the scanner."""

    def __init__(self, tmp: Path):
        self.scanner = str(tmp / "ttyQR")
        self.device = str(tmp / "ttyDEV")
        self.proc = None

    def plug(self):
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.scanner}", f"pty,raw,echo=0,link={self.device}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(self.scanner) and os.path.exists(self.device):
                return
            time.sleep(0.01)
        raise RuntimeError("socat did not create the ptys")

    def unplug(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(5)
            self.proc = None
        for _ in range(200):
            if not os.path.exists(self.scanner):
                return
            time.sleep(0.01)

    def send(self, data: bytes):
        with serial.Serial(self.device, 9600, timeout=1) as dev:
            dev.write(data)
            dev.flush()


@pytest.fixture
def pty(tmp_path):
    pair = PtyPair(tmp_path)
    pair.plug()
    yield pair
    pair.unplug()


@pytest.fixture
def scanner(pty):
    s = open_scanner({"backend": "serial", "port": pty.scanner, "baudrate": 9600, "terminator": "\r"})
    s.open()
    yield s
    s.close()


def test_serial_reads_vietnamese_line(pty, scanner):
    assert scanner.health().state is State.OK
    pty.send(SIM_CITIZEN_QR.encode() + b"\r")
    data = scanner.read(timeout=3)
    assert data == SIM_CITIZEN_QR.encode()
    assert parse_cccd(data).full_name == "Trần Thị Ngọc Ánh"
    assert scanner.read(timeout=0.2) is None


def test_serial_two_lines_in_one_burst_and_crlf(pty, scanner):
    pty.send(b"kiosk://flow/khai-sinh\r\nkiosk://flow/ket-hon\r\n")
    assert scanner.read(3) == b"kiosk://flow/khai-sinh"
    assert scanner.read(3) == b"kiosk://flow/ket-hon"


def test_serial_garbage_refused_then_next_line_ok(pty, scanner):
    pty.send(b"\xff\xfe\x81garbage\r")
    with pytest.raises(ScannerError) as ei:
        scanner.read(3)
    assert ei.value.code == "garbage" and "mã QR" in ei.value.message_vi
    pty.send(b"\x1b[2Jcontrol\r")
    with pytest.raises(ScannerError):
        scanner.read(3)
    pty.send(b"kiosk://flow/khai-sinh\r")
    assert scanner.read(3) == b"kiosk://flow/khai-sinh"
    assert scanner.health().facts["refused"] == 2


def test_serial_partial_line_refused(pty, scanner):
    pty.send("001185012345|0123".encode())
    with pytest.raises(ScannerError) as ei:
        scanner.read(3)
    assert ei.value.code == "partial"
    pty.send(b"kiosk://flow/khai-sinh\r")
    assert scanner.read(3) == b"kiosk://flow/khai-sinh"


def test_serial_reconnects_after_unplug(pty, scanner):
    pty.send(b"kiosk://flow/a\r")
    assert scanner.read(3) == b"kiosk://flow/a"
    pty.unplug()
    assert scanner.read(timeout=0.5) is None
    assert scanner.health().state in (State.NOT_READY, State.NEEDS_ATTENTION)
    pty.plug()
    assert scanner.read(timeout=1.0) is None  # reopened, nothing sent yet
    assert scanner.health().state is State.OK
    pty.send(b"kiosk://flow/b\r")
    assert scanner.read(3) == b"kiosk://flow/b"
    assert scanner.health().facts["reconnects"] >= 1


def test_serial_missing_port_at_start(tmp_path):
    """The factory does no I/O: a port that is not there is built without error; open() says why,
    read() keeps trying and health() is not ok."""
    s = open_scanner({"backend": "serial", "port": str(tmp_path / "nothing"), "baudrate": 9600, "terminator": "\r"})
    assert s.health().state is State.NOT_READY and "not opened yet" in s.health().detail
    with pytest.raises(ScannerError) as ei:
        s.open()
    assert ei.value.code == "unavailable"
    assert s.read(0.2) is None
    assert s.health().state is State.NOT_READY
    with pytest.raises(ScannerError):
        SerialScanner({"port": ""}).open()


def test_serial_open_is_idempotent(pty):
    """A second open() keeps the one exclusive handle (it used to open the port again and fail)."""
    s = open_scanner({"backend": "serial", "port": pty.scanner})
    s.open()
    handle = s._ser
    s.open()
    assert s._ser is handle and s.health().state is State.OK
    pty.send(b"kiosk://flow/khai-sinh\r")
    assert s.read(3) == b"kiosk://flow/khai-sinh"
    s.close()


def test_serial_loop_url_too_long_line():
    s = SerialScanner({"port": "loop://", "terminator": "\r\n", "max_line": 64})
    s.open()
    s._ser.write(b"x" * 100)
    with pytest.raises(ScannerError) as ei:
        s.read(2)
    assert ei.value.code == "too_long"
    s._ser.write(b"ok\r\n")
    assert s.read(2) == b"ok"
    s.close()


def test_sim_inject():
    s = open_scanner({"backend": "sim"})
    assert s.health().state is State.NOT_READY  # built, not opened
    s.open()
    assert s.read(0.05) is None
    s.inject(SIM_CITIZEN_QR)
    s.inject(b"kiosk://flow/khai-sinh")
    assert s.read(1) == SIM_CITIZEN_QR.encode()
    assert s.read(1) == b"kiosk://flow/khai-sinh"
    s.inject(b"\xff")
    with pytest.raises(ScannerError):
        s.read(1)
    assert s.health().ok


def test_unknown_backend():
    with pytest.raises(ScannerError) as ei:
        open_scanner({"backend": "bluetooth"})
    assert ei.value.code == "unknown_backend"
    for text in (ei.value.message_en, ei.value.message_vi):
        assert "'bluetooth'" in text and "serial, camera, sim" in text


def test_no_personal_data_in_logs(pty, scanner, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    pty.send(SIM_CITIZEN_QR.encode() + b"\r")
    assert scanner.read(3) == SIM_CITIZEN_QR.encode()
    pty.unplug()
    scanner.read(0.3)
    pty.plug()
    assert scanner.read(1.0) is None  # reopened; a scanner sends nothing until the next scan
    pty.send(SIM_CITIZEN_QR.encode() + b"\r")
    assert scanner.read(3) == SIM_CITIZEN_QR.encode()
    text = caplog.text
    assert "reconnect" in text  # the unplug was logged …
    for personal in ("001185012345", "012345678", "Trần", "Đội Cấn", "12051985"):
        assert personal not in text  # … the citizen was not
