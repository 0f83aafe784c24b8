"""QR scanners behind one small interface: ``open()``, ``read(timeout) -> bytes | None``,
``close()``, ``health() -> Health``; picked by ``cfg["backend"]`` from :data:`BACKENDS`; the keys they
read are declared in :mod:`devices.qr.config`. ``open_scanner`` builds one without I/O; ``open()`` does it.

* ``serial`` — a hand-held or built-in scanner in serial (USB CDC) mode that sends each code as one
  line ending in ``terminator``. A line that is not UTF-8 text, holds control characters, stops
  half-way (no terminator within ``partial_line_s``) or never ends is refused with
  :class:`ScannerError`; an unplugged scanner is reopened as soon as its port comes back.
* ``camera`` — the pipeline of :mod:`devices.qr.pipeline` on frames of a camera from
  :mod:`devices.camera`; the same code held in view is returned once, not once per frame, as the
  UTF-8 of its text (a code whose character set is not certain is skipped).
* ``sim`` — codes are "shown" with ``inject(payload)``; what the demo and the tests use.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import unicodedata
from collections.abc import Mapping

from common.health import Health, State
from common.errors import BilingualError

log = logging.getLogger(__name__)

__all__ = ["ScannerError", "SerialScanner", "CameraScanner", "SimScanner", "BACKENDS", "open_scanner", "SIM_CITIZEN_QR"]

#: the simulated citizen's CCCD QR (docs/architecture.md)
SIM_CITIZEN_QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
                  "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")


class ScannerError(BilingualError):
    """A read that must not be used; the scanner itself keeps working."""


_RETRY_VI = "Không đọc được mã QR. Vui lòng đưa mã QR lại gần máy quét và giữ yên."


def check_line(line: bytes) -> bytes:
    """A scanned line → its bytes, if it is UTF-8 text without control characters."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ScannerError(code="garbage", en="the scanner sent bytes that are not UTF-8 text", vi=_RETRY_VI) from None
    if any(unicodedata.category(c) == "Cc" and c != "\t" for c in text):
        raise ScannerError(code="garbage", en="the scanner sent control characters", vi=_RETRY_VI)
    return line


def _settings(cfg: Mapping | None):
    """``cfg`` over the [devices.qr] defaults; reading an undeclared key raises."""
    from devices.qr.config import SECTION  # the section takes its backend names from BACKENDS below

    return SECTION.settings(cfg)


class SerialScanner:
    def __init__(self, cfg: Mapping | None = None, camera=None):
        cfg = _settings(cfg)
        self.port = cfg["port"]
        self.baudrate = int(cfg["baudrate"])
        self.terminator = (cfg["terminator"] or _settings(None)["terminator"]).encode("ascii")
        self.partial_line_s = float(cfg["partial_line_s"])
        self.max_line = int(cfg["max_line"])
        self.reconnect_s = float(cfg["reconnect_s"])
        self._ser = None
        self._buf = bytearray()
        self._last_byte = 0.0
        self._next_attempt = 0.0
        self._error = ""
        self._down_since: float | None = None
        self.reads = 0
        self.refused = 0
        self.reconnects = 0
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------
    def open(self) -> None:
        """Open the port (once: an open scanner stays as it is); raises ScannerError if it is
        missing (read() keeps retrying later, health() says why)."""
        if self._ser is not None:
            return
        if not self.port:
            raise ScannerError(code="no_port", en="no serial port configured ([devices.qr] port)",
                               vi="Máy quét mã QR chưa được cài đặt. Vui lòng báo cán bộ hỗ trợ.")
        if not self._connect():
            raise ScannerError(code="unavailable", en=f"cannot open the scanner's serial port: {self._error}",
                               vi="Máy quét mã QR chưa sẵn sàng. Vui lòng báo cán bộ hỗ trợ.")

    def _connect(self) -> bool:
        import serial

        try:
            # exclusive: a second kiosk process must not steal half of every line
            self._ser = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.05, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            self._ser = None
            self._error = str(exc).split(":")[0][:120]
            self._next_attempt = time.monotonic() + self.reconnect_s
            if self._down_since is None:
                self._down_since = time.monotonic()
            return False
        if self._down_since is not None:
            self.reconnects += 1
            log.info("QR scanner reconnected on %s", self.port)
        self._down_since = None
        self._error = ""
        self._buf.clear()
        return True

    def _drop(self, why: str) -> None:
        log.warning("QR scanner lost (%s); reconnecting", why)
        try:
            self._ser.close()
        except Exception:  # already gone with the device
            pass
        self._ser = None
        self._error = why
        self._down_since = time.monotonic()
        self._next_attempt = time.monotonic() + self.reconnect_s
        self._buf.clear()  # half a line from before the unplug is not a code

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            finally:
                self._ser = None

    # -- reading ---------------------------------------------------------------------------
    def read(self, timeout: float | None = 1.0) -> bytes | None:
        """The next scanned code (without terminator), or None if none came within ``timeout``.

        Raises ScannerError for a line that must not be used (garbage, partial, too long); the
        bad bytes are discarded so the next read starts clean."""
        import serial

        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                line = self._take_line()
                if line is not None:
                    return line
                now = time.monotonic()
                if self._buf and now - self._last_byte > self.partial_line_s:
                    self._buf.clear()
                    self.refused += 1
                    raise ScannerError(code="partial", en="the scanner sent a line without its terminator "
                                       "(check the terminator setting)", vi=_RETRY_VI)
                if deadline is not None and now >= deadline:
                    return None
                if self._ser is None:
                    if now < self._next_attempt or not self._connect():
                        time.sleep(min(0.05, max(0.0, (deadline or now + 1) - now)))
                    continue
                try:
                    chunk = self._ser.read(max(1, self._ser.in_waiting))
                except (serial.SerialException, OSError, TypeError) as exc:
                    # TypeError: pyserial on a vanished pty fd; all mean "unplugged"
                    self._drop(type(exc).__name__)
                    continue
                if chunk:
                    self._buf += chunk
                    self._last_byte = time.monotonic()

    def _take_line(self) -> bytes | None:
        while True:
            idx = self._buf.find(self.terminator)
            if idx < 0:
                if len(self._buf) > self.max_line:
                    self._buf.clear()
                    self.refused += 1
                    raise ScannerError(code="too_long", en="the scanner sent a line longer than any QR code", vi=_RETRY_VI)
                return None
            line = bytes(self._buf[:idx])
            del self._buf[: idx + len(self.terminator)]
            # a scanner set to CR LF while we expect CR leaves an LF at the start of the next line
            line = line.strip(b"\r\n")
            if not line:
                continue
            try:
                check_line(line)
            except ScannerError:
                self.refused += 1
                raise
            self.reads += 1
            return line

    def health(self) -> Health:
        facts = {"port": self.port, "baudrate": self.baudrate, "reads": self.reads, "refused": self.refused,
                 "reconnects": self.reconnects}
        if not self.port:
            return Health(State.FAILED, "no serial port configured", "set [devices.qr] port", facts)
        if self._ser is None:
            down = time.monotonic() - self._down_since if self._down_since is not None else 0.0
            if down < 5:
                return Health(State.NOT_READY, f"serial port not open ({self._error or 'not opened yet'})",
                              "wait: the scanner is reopened automatically", facts)
            return Health(State.NEEDS_ATTENTION, f"scanner unplugged or port missing for {down:.0f} s "
                          f"({self._error})", "check the scanner's USB cable and the port name", facts)
        return Health(State.OK, f"scanner on {self.port}", "", facts)


class SimScanner:
    """Codes are shown with ``inject``; a real implementation of the interface, not a mock."""

    def __init__(self, cfg: Mapping | None = None, camera=None):
        _settings(cfg)  # the sim reads no key; the declared ones are still the only ones it may read
        self._q: queue.Queue[bytes] = queue.Queue()
        self._open = False
        self.reads = 0

    def open(self) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    def inject(self, payload: bytes | str) -> None:
        self._q.put(payload.encode("utf-8") if isinstance(payload, str) else bytes(payload))

    def read(self, timeout: float | None = 1.0) -> bytes | None:
        try:
            data = self._q.get(timeout=timeout) if timeout is None or timeout > 0 else self._q.get_nowait()
        except queue.Empty:
            return None
        check_line(data)
        self.reads += 1
        return data

    def health(self) -> Health:
        facts = {"queued": self._q.qsize(), "reads": self.reads}
        if not self._open:
            return Health(State.NOT_READY, "simulated QR scanner not opened", "", facts)
        return Health(State.OK, "simulated QR scanner", "", facts)


class CameraScanner:
    """QR codes from a camera's frames. ``repeat_s``: how long the same code stays "already read".

    ``camera``: a camera object (the app's one handle, shared with document capture: opened here,
    closed by its owner) or the ``[devices.camera]`` section (a camera of its own, closed with the
    scanner)."""

    def __init__(self, cfg: Mapping | None = None, camera=None):
        cfg = _settings(cfg)
        if camera is None:
            raise ScannerError(code="no_camera", en="the camera QR backend needs a camera",
                               vi="Máy quét mã QR chưa được cài đặt. Vui lòng báo cán bộ hỗ trợ.")
        self._owns_camera = isinstance(camera, Mapping)
        if self._owns_camera:
            from devices.camera import open_camera

            camera = open_camera(camera)  # built, not opened: open() does that
        self.camera = camera
        self.repeat_s = float(cfg["repeat_s"])
        # a live loop sees a new frame every ~70 ms: spending more on one hard frame only delays it
        self.budget_ms = float(cfg["budget_ms"])
        self._seen: dict[bytes, float] = {}
        self.reads = 0

    @staticmethod
    def _camera_failed(exc: BilingualError) -> ScannerError:
        # whoever reads a scanner handles ScannerError; the camera's own texts say what to do
        # (check the cable, the source setting) and its code stays in the detail and the cause
        return ScannerError(code="camera_failed", en=f"the QR scanner's camera failed: {exc.message_en}",
                            vi=exc.message_vi, detail=f"camera error {exc.code or type(exc).__name__}")

    def open(self) -> None:
        """Opens the camera (idempotent: a shared camera the app already opened stays as it is);
        raises ScannerError ``camera_failed``, caused by the camera's error, when it is not there."""
        from devices.camera import CameraError

        try:
            self.camera.open()
        except CameraError as exc:
            raise self._camera_failed(exc) from exc

    def close(self) -> None:
        if self._owns_camera:
            self.camera.close()

    def read(self, timeout: float | None = 1.0) -> bytes | None:
        """The next code in view that was not read in the last ``repeat_s``, as UTF-8 text, or None
        after ``timeout``. A camera that gives no picture raises ScannerError ``camera_failed``."""
        from devices.camera import CameraError
        from devices.qr.pipeline import decode_frame

        deadline = None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            # a threaded camera: wait for a new frame rather than decode the same one twice
            grab = getattr(self.camera, "wait_next", None) or self.camera.frame
            try:
                frame = grab(2.0)
            except CameraError as exc:
                raise self._camera_failed(exc) from exc
            now = time.monotonic()
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.repeat_s}
            for d in decode_frame(frame, self.budget_ms):
                if d.text is None:  # character set not certain: never shown to anyone
                    continue
                fresh = d.data not in self._seen
                self._seen[d.data] = now
                if fresh:
                    self.reads += 1
                    # a read is UTF-8 text, as from a serial scanner, whatever charset the code used
                    return d.text.encode("utf-8")
        return None

    def health(self) -> Health:
        h = self.camera.health()
        return Health(h.state, f"camera QR scanner: {h.detail}", h.action, {**h.facts, "reads": self.reads})


#: backend name → class, each built as ``cls(settings, camera=…)`` (only the camera backend uses
#: ``camera``); ``[devices.qr] backend`` accepts exactly these names
BACKENDS = {"serial": SerialScanner, "camera": CameraScanner, "sim": SimScanner}


def open_scanner(cfg: Mapping | None, camera=None):
    """The scanner of ``cfg["backend"]``, built without I/O and not opened: call ``open()``
    (idempotent; a serial scanner whose port is missing raises ScannerError there, and its
    ``read`` keeps trying). ``camera``: a camera object or the ``[devices.camera]`` section,
    used by the camera backend only. An unknown backend raises ScannerError naming the known ones."""
    settings = _settings(cfg)
    from devices.qr.config import SECTION

    return SECTION.pick(BACKENDS, settings, ScannerError)(settings, camera=camera)
