"""Transports: how bytes reach the printer and status bytes come back.

Each has ``from_config(settings, profile)`` (built without I/O: a missing setting raises
ValueError), ``open()`` (idempotent), ``close()``, ``write(bytes)``, ``can_read`` and
``query(n) -> int | None`` (one DLE EOT answer byte, None when none came within the timeout; an
OSError when the printer cannot be reached at all), and ``job_done(job_id)`` (only the sim writes
something then). network, serial, usb and sim read status; file cannot (the usblp character
device only takes bytes), nor can a USB printer whose interface has no bulk IN endpoint (found
on open: ``can_read`` turns False). A port or interface another process holds raises
:class:`PortBusy`. :data:`BACKENDS` is the table ``[devices.printer] backend`` picks from; the
keys the transports read are declared in :mod:`devices.printer.config`.
"""
from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import status

if TYPE_CHECKING:  # the emulator and the renderer need Pillow: imported when the sim is built
    from .emulator import PrinterModel

log = logging.getLogger(__name__)


class PortBusy(OSError):
    """Another process holds the port (serial flock) or the USB interface: nothing was sent."""


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

            try:
                # exclusive: pyserial takes flock(LOCK_EX) on the port, so a second kiosk process,
                # or `kiosk printer status` run while the kiosk prints, fails at once instead of
                # interleaving its bytes with a job (flock is advisory: `cat > port` is not stopped)
                self._port = serial.serial_for_url(self.device, baudrate=self.baudrate, timeout=self.timeout,
                                                   write_timeout=max(self.timeout, 10.0), exclusive=True)
            except serial.SerialException as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY):
                    raise PortBusy(exc.errno, f"{self.device} is in use by another process (locked); "
                                              f"`fuser -v {self.device}` shows which") from None
                raise

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
    """A USB printer class device through pyusb (libusb): bytes go to the interface's bulk OUT
    endpoint, DLE EOT answers come back on its bulk IN endpoint.

    Talks to pyusb directly rather than through python-escpos' ``Usb``, which assumes endpoints
    0x01/0x82 (many printers use others), resets the device on every open and cannot read with a
    timeout of ours. The endpoints are found from the descriptors: the printer-class interface
    (class 7; else the first with a bulk OUT endpoint, for vendor-class printers). The kernel's
    usblp driver, which owns a plugged-in printer as /dev/usb/lp0, is detached while the kiosk
    holds the printer and attached again on close. Access needs the udev rule
    ``scripts/install-kiosk.sh`` writes for the configured ids.
    """
    name = "usb"
    can_read = True  # False once open() finds no bulk IN endpoint (a unidirectional printer)
    PRINTER_CLASS = 7
    CHUNK = 4096     # bytes per bulk write: the timeout is per chunk, so a slow printer is not a dead one
    DRAIN_MS = 10    # wait for stale bytes before a question

    def __init__(self, vendor: int, product: int, timeout: float = 3.0):
        if not vendor or not product:
            raise ValueError("devices.printer.usb_vendor and usb_product must be set for a USB printer")
        self.vendor, self.product, self.timeout = vendor, product, timeout
        self._dev = self._intf = self._out = self._in = None
        self._detached: int | None = None  # the interface whose kernel driver we detached

    @classmethod
    def from_config(cls, cfg: Mapping, profile) -> "UsbTransport":
        return cls(int(cfg["usb_vendor"]), int(cfg["usb_product"]), float(cfg["timeout_s"]))

    @property
    def ids(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"

    @property
    def _ms(self) -> int:
        return max(1, int(self.timeout * 1000))

    def open(self) -> None:
        if self._dev is not None:
            return
        try:
            import usb.core
            import usb.util
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise OSError(f"USB printing needs pyusb ({exc})") from None
        try:
            dev = usb.core.find(idVendor=self.vendor, idProduct=self.product)
        except usb.core.NoBackendError:
            raise OSError("pyusb finds no libusb on this machine (install libusb-1.0-0)") from None
        if dev is None:
            raise OSError(errno.ENODEV, f"no USB device {self.ids}: not plugged in, switched off, "
                                        "or other ids (`lsusb` lists them)")
        try:
            try:
                cfg = dev.get_active_configuration()
            except usb.core.USBError:  # unconfigured: no kernel driver picked a configuration
                dev.set_configuration()
                cfg = dev.get_active_configuration()
            intf = _printer_interface(cfg)
            if intf is None:
                raise OSError(f"USB device {self.ids} has no interface with a bulk OUT endpoint: is it a printer?")
            if _detach_kernel_driver(dev, intf.bInterfaceNumber):
                self._detached = intf.bInterfaceNumber
            usb.util.claim_interface(dev, intf)
            if intf.bAlternateSetting:
                intf.set_altsetting()
        except OSError as exc:  # pyusb's USBError is one
            self._dev, self._intf = dev, None  # close() gives back a detached driver and the handle
            self.close()
            if not isinstance(exc, usb.core.USBError):
                raise
            if exc.errno == errno.EBUSY:
                raise PortBusy(errno.EBUSY, f"USB printer {self.ids} is claimed by another process") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise PermissionError(errno.EACCES, f"USB printer {self.ids}: access denied (the udev rule of "
                                                    "scripts/install-kiosk.sh gives group kiosk these ids)") from None
            raise OSError(exc.errno, f"USB printer {self.ids}: {exc.strerror or exc}") from None
        self._dev, self._intf = dev, intf
        self._out = _bulk_endpoint(intf, out=True)
        self._in = _bulk_endpoint(intf, out=False)
        self.can_read = self._in is not None
        if not self.can_read:
            log.warning("USB printer %s has no bulk IN endpoint: its status cannot be read", self.ids)

    def close(self) -> None:
        dev, intf, self._dev, self._intf, self._out, self._in = self._dev, self._intf, None, None, None, None
        if dev is None:
            return
        import usb.core
        import usb.util

        try:
            if intf is not None:
                usb.util.release_interface(dev, intf)
            if self._detached is not None:
                # give usblp its printer back, so /dev/usb/lp0 (or CUPS) works once the kiosk lets go
                dev.attach_kernel_driver(self._detached)
        except (usb.core.USBError, NotImplementedError):
            pass  # unplugged meanwhile: nothing left to give back
        finally:
            self._detached = None
            usb.util.dispose_resources(dev)

    def _lost(self, exc: OSError, doing: str) -> OSError:
        """A USB error other than a timeout: the device is gone or broken. Closed, so the next
        call looks for it afresh (it may have been plugged back in)."""
        self.close()
        return OSError(exc.errno, f"USB printer {self.ids}: {doing}: {exc.strerror or exc}")

    def write(self, data: bytes) -> None:
        import usb.core

        self.open()
        sent = 0
        try:
            while sent < len(data):
                sent += self._out.write(data[sent:sent + self.CHUNK], self._ms)
        except usb.core.USBTimeoutError:
            # the printer stopped taking bytes (buffer full and not printing: paper, cover, error)
            raise TimeoutError(errno.ETIMEDOUT, f"USB printer {self.ids} took no data for {self.timeout:g} s "
                                                f"({sent} of {len(data)} bytes sent)") from None
        except usb.core.USBError as exc:
            raise self._lost(exc, f"write failed after {sent} of {len(data)} bytes") from None

    def query(self, n: int) -> int | None:
        import usb.core

        self.open()
        if self._in is None:
            return None
        try:
            self._drain()
            try:
                self._out.write(status.query(n), self._ms)
            except usb.core.USBTimeoutError:
                return None  # present but not taking bytes: no answer, not "unplugged"
            deadline = time.monotonic() + self.timeout
            while (left := deadline - time.monotonic()) > 0:
                try:
                    got = self._in.read(self._in.wMaxPacketSize, max(1, int(left * 1000)))
                except usb.core.USBTimeoutError:
                    return None
                if len(got):
                    return got[0]
                time.sleep(0.005)  # a zero-length packet: the printer had nothing yet; ask again
            return None
        except usb.core.USBError as exc:
            raise self._lost(exc, f"status question {n}") from None

    def _drain(self) -> None:
        """Drop bytes a printer sent late (the answer to an earlier, timed-out question), so
        the next byte read answers the next question."""
        import usb.core

        for _ in range(16):
            try:
                if not len(self._in.read(self._in.wMaxPacketSize, self.DRAIN_MS)):
                    return
            except usb.core.USBTimeoutError:
                return

    def describe(self) -> str:
        extra = " (no bulk IN endpoint: status cannot be read)" if not self.can_read else ""
        return f"usb {self.ids}{extra}"


def _bulk_endpoint(intf, *, out: bool):
    import usb.util

    want = usb.util.ENDPOINT_OUT if out else usb.util.ENDPOINT_IN
    return usb.util.find_descriptor(
        intf, custom_match=lambda e: (usb.util.endpoint_direction(e.bEndpointAddress) == want
                                      and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK))


def _printer_interface(cfg):
    """The printer-class interface (a bidirectional one first), else any with a bulk OUT endpoint."""
    usable = [i for i in cfg if _bulk_endpoint(i, out=True) is not None]
    usable.sort(key=lambda i: (i.bInterfaceClass != UsbTransport.PRINTER_CLASS, _bulk_endpoint(i, out=False) is None))
    return usable[0] if usable else None


def _detach_kernel_driver(dev, number: int) -> bool:
    """Detach usblp (or another kernel driver) from the interface; True when one was detached."""
    try:
        if dev.is_kernel_driver_active(number):
            dev.detach_kernel_driver(number)
            return True
    except NotImplementedError:  # libusb backends without kernel drivers to detach (not Linux)
        pass
    return False


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
