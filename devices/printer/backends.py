"""Transports: how bytes reach the printer and status bytes come back.

Each has ``from_config(settings, profile)`` (built without I/O: a missing setting raises
ValueError), ``open()`` (idempotent), ``close()``, ``write(bytes)``, ``can_read`` and
``query(n) -> int | None`` (one DLE EOT answer byte, None when none came), and ``job_done(job_id)``
(only the sim writes something then). Only network, serial and sim can read status; usb and file
report unknown. :data:`BACKENDS` is the table ``[devices.printer] backend`` picks from; the keys
the transports read are declared in :mod:`devices.printer.config`.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import status

if TYPE_CHECKING:  # the emulator and the renderer need Pillow: imported when the sim is built
    from .emulator import PrinterModel

log = logging.getLogger(__name__)


class Transport:
    name = "base"
    can_read = False

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "Transport":  # pragma: no cover - abstract
        """The transport for the ``[devices.printer]`` settings ``cfg`` and the paper ``profile``."""
        raise NotImplementedError

    def open(self) -> None: ...
    def close(self) -> None: ...

    def write(self, data: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def query(self, n: int) -> int | None:
        return None

    def job_done(self, job_id: str) -> Path | None:
        return None

    def describe(self) -> str:
        return self.name


class NetworkTransport(Transport):
    """Raw TCP (JetDirect, port 9100). One connection, kept between jobs; after an error it is
    closed so the next call connects afresh."""
    name = "network"
    can_read = True

    def __init__(self, host: str, port: int = 9100, timeout: float = 3.0):
        if not host:
            raise ValueError("devices.printer.host is empty: a network printer needs a host name or address")
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "NetworkTransport":
        return cls(cfg["host"], int(cfg["port"]), float(cfg["timeout_s"]))

    def open(self) -> None:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def write(self, data: bytes) -> None:
        try:
            self.open()
            self._sock.sendall(data)
        except OSError:
            # data may have gone in part: never resent here; the caller keeps the job spooled
            self.close()
            raise

    def query(self, n: int) -> int | None:
        self.open()
        sock = self._sock
        sock.setblocking(False)
        try:  # drop stale answers from an earlier, timed-out query
            while sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            sock.settimeout(self.timeout)
        sock.sendall(status.query(n))
        try:
            got = sock.recv(1)
        except (socket.timeout, TimeoutError):
            return None
        if not got:
            self.close()
            raise ConnectionError("the printer closed the connection")
        return got[0]

    def describe(self) -> str:
        return f"network {self.host}:{self.port}"


class SerialTransport(Transport):
    name = "serial"
    can_read = True

    def __init__(self, device: str, baudrate: int = 19200, timeout: float = 3.0):
        if not device:
            raise ValueError("devices.printer.device is empty: a serial printer needs a port such as /dev/ttyUSB0")
        self.device, self.baudrate, self.timeout = device, baudrate, timeout
        self._port = None

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "SerialTransport":
        return cls(cfg["device"], int(cfg["baudrate"]), float(cfg["timeout_s"]))

    def open(self) -> None:
        if self._port is None:
            import serial  # pyserial

            self._port = serial.serial_for_url(self.device, baudrate=self.baudrate, timeout=self.timeout,
                                               write_timeout=max(self.timeout, 10.0))

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def write(self, data: bytes) -> None:
        self.open()
        # a raster receipt is ~85 kB: at 19200 baud that is ~45 s on the wire, so the write
        # timeout grows with the job instead of failing a healthy but slow printer
        self._port.write_timeout = self.timeout + len(data) * 10 / self.baudrate * 1.5
        self._port.write(data)
        self._port.flush()

    def query(self, n: int) -> int | None:
        self.open()
        self._port.reset_input_buffer()
        self._port.write(status.query(n))
        self._port.flush()
        got = self._port.read(1)
        return got[0] if got else None

    def describe(self) -> str:
        return f"serial {self.device} at {self.baudrate} baud"


class FileTransport(Transport):
    """Appends to a file or character device (e.g. /dev/usb/lp0 with the usblp driver)."""
    name = "file"

    def __init__(self, path: str):
        if not path:
            raise ValueError("devices.printer.device is empty: the file backend needs a path")
        self.path = path
        self._fh = None

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "FileTransport":
        return cls(cfg["device"])

    def open(self) -> None:
        if self._fh is None:
            self._fh = open(self.path, "ab", buffering=0)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            finally:
                self._fh = None

    def write(self, data: bytes) -> None:
        self.open()
        self._fh.write(data)

    def describe(self) -> str:
        return f"file {self.path}"


class UsbTransport(Transport):
    """USB printer class device through python-escpos (pyusb). Status stays unknown: reading
    back over USB differs per vendor and is not verified here."""
    name = "usb"

    def __init__(self, vendor: int, product: int, timeout: float = 3.0):
        if not vendor or not product:
            raise ValueError("devices.printer.usb_vendor and usb_product must be set for a USB printer")
        self.vendor, self.product, self.timeout = vendor, product, timeout
        self._p = None

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "UsbTransport":
        return cls(int(cfg["usb_vendor"]), int(cfg["usb_product"]), float(cfg["timeout_s"]))

    def open(self) -> None:
        if self._p is None:
            try:
                from escpos.printer import Usb
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise OSError(f"USB printing needs pyusb ({exc})") from None
            p = Usb(self.vendor, self.product, timeout=int(self.timeout * 1000))
            try:
                p.open()
            except Exception as exc:  # escpos' DeviceNotFoundError / pyusb's USBError are not OSErrors
                raise OSError(f"USB printer {self.vendor:04x}:{self.product:04x}: {exc}") from None
            self._p = p

    def close(self) -> None:
        if self._p is not None:
            try:
                self._p.close()
            finally:
                self._p = None

    def write(self, data: bytes) -> None:
        self.open()
        try:
            self._p._raw(data)
        except Exception as exc:  # pyusb raises its own USBError, not OSError
            raise OSError(str(exc)) from exc

    def describe(self) -> str:
        return f"usb {self.vendor:04x}:{self.product:04x}"


class SimTransport(Transport):
    """The simulated printer: keeps the bytes and writes, per job, ``<job>.bin`` and the PNG its
    own ESC/POS renderer makes of them into ``out_dir``."""
    name = "sim"
    can_read = True

    def __init__(self, out_dir: str | Path | None, model: "PrinterModel"):
        self.out_dir = Path(out_dir) if out_dir else None
        self.model = model
        self._job_start = 0

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "SimTransport":
        from .emulator import PrinterModel

        model = PrinterModel(profile.dots_per_line, paper=cfg["sim_paper"], cover_open=bool(cfg["sim_cover_open"]))
        return cls(cfg["out_dir"] or None, model)

    def write(self, data: bytes) -> None:
        reply = self.model.feed(data)
        if reply:
            log.debug("sim printer answered %d status byte(s) inside a job", len(reply))

    def query(self, n: int) -> int | None:
        got = self.model.feed(status.query(n))
        return got[0] if got else None

    def job_done(self, job_id: str) -> Path | None:
        data = bytes(self.model.printed[self._job_start:])
        self._job_start = len(self.model.printed)
        if self.out_dir is None or not data:
            return None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / f"{job_id}.bin").write_bytes(data)
        png = self.out_dir / f"{job_id}.png"
        from . import escpos_render

        escpos_render.render(data, self.model.dots).image.save(png)
        return png

    def describe(self) -> str:
        return f"sim (out_dir {self.out_dir})" if self.out_dir else "sim"


#: backend name → transport class; ``[devices.printer] backend`` accepts exactly these names
BACKENDS: dict[str, type[Transport]] = {
    "usb": UsbTransport, "serial": SerialTransport, "network": NetworkTransport, "file": FileTransport,
    "sim": SimTransport,
}
