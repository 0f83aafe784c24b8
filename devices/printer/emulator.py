"""A printer that exists only in software: paper state, DLE EOT answers and the printed stream.

``PrinterModel`` is the sim backend's printer and the heart of ``NetworkPrinterEmulator``, a real
TCP listener (port 9100 style, raw ESC/POS) for tests and for technicians without hardware.
Bytes are tokenised as they arrive, so a status query is answered at once and raster data that
happens to contain 10 04 is never mistaken for one.
"""
from __future__ import annotations

import logging
import socket
import threading

from . import escpos_render, status
from .escpos_render import Rendered

log = logging.getLogger(__name__)


_KEEP = object()  # set_state(error=...) not given: None already means "no error"


class PrinterModel:
    def __init__(self, dots: int = 576, *, paper: str = "ok", cover_open: bool = False, online: bool = True,
                 answers_status: bool = True, runs_out_after: int | None = None, error: str | None = None):
        self.dots = dots
        self.paper = paper
        self.cover_open = cover_open
        self.online = online
        self.error = error  # None, or a status.ERRORS name (a jammed cutter: "cutter")
        self.answers_status = answers_status  # False: a printer that ignores DLE EOT
        self.runs_out_after = runs_out_after  # bytes printed before the roll ends (mid-job paper out)
        self.printed = bytearray()   # what reached the paper
        self.discarded = bytearray()  # what arrived while the printer could not print
        self.queries: list[int] = []
        self._pending = b""
        self._lock = threading.Lock()

    def set_state(self, *, paper: str | None = None, cover_open: bool | None = None,
                  online: bool | None = None, error=_KEEP) -> None:
        """Change what the printer reports; ``error=None`` clears an error."""
        if error is not _KEEP:
            if error is not None and error not in dict(status.ERRORS).values():
                raise ValueError(f"error must be None or one of {[n for _, n in status.ERRORS]}")
            self.error = error
        if paper is not None:
            if paper not in ("ok", "near_end", "out"):
                raise ValueError("paper must be ok, near_end or out")
            self.paper = paper
        if cover_open is not None:
            self.cover_open = cover_open
        if online is not None:
            self.online = online

    def answer(self, n: int) -> bytes:
        if not self.answers_status:
            return b""
        return bytes((status.answer(n, online=self.online, paper=self.paper, cover_open=self.cover_open,
                                    error=self.error),))

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return what the printer sends back (status answers)."""
        with self._lock:
            buf = self._pending + data
            commands, used = escpos_render.tokenize(buf, final=False)
            self._pending = buf[used:]
            replies = bytearray()
            for k, cmd in enumerate(commands):
                end = commands[k + 1].offset if k + 1 < len(commands) else used
                if cmd.name == "status_query":
                    self.queries.append(cmd.args[0])
                    replies += self.answer(cmd.args[0])
                    continue
                if self.runs_out_after is not None and len(self.printed) >= self.runs_out_after:
                    self.paper, self.runs_out_after = "out", None
                can_print = self.online and self.paper != "out" and not self.cover_open and self.error is None
                (self.printed if can_print else self.discarded).extend(buf[cmd.offset:end])
            return bytes(replies)

    def render(self) -> Rendered:
        with self._lock:
            return escpos_render.render(bytes(self.printed), self.dots)


class NetworkPrinterEmulator:
    """Raw-TCP printer on 127.0.0.1 (port 0 picks a free one): ``with NetworkPrinterEmulator() as emu``."""

    def __init__(self, model: PrinterModel | None = None, host: str = "127.0.0.1", port: int = 0):
        self.model = model or PrinterModel()
        self._sock = socket.create_server((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="printer-emulator", daemon=True)
        self.connections = 0

    def start(self) -> "NetworkPrinterEmulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._sock.close()
        finally:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except (socket.timeout, TimeoutError):
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    reply = self.model.feed(data)
                except escpos_render.EscposParseError as exc:
                    log.error("emulated printer got a stream it cannot parse: %s", exc)
                    return
                if reply:
                    conn.sendall(reply)
