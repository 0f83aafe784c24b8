"""Serve a virtual card to a real pcscd through the vsmartcard ``vpcd`` reader driver.

The card side connects to the driver (TCP 127.0.0.1:35963 for reader ``Virtual PCD 00 00``).
Frames: 2-byte big-endian length + payload; a 1-byte payload is a control code (00 power off,
01 power on, 02 reset, 04 get ATR), anything longer is a C-APDU answered by the R-APDU.
TCP_NODELAY, and TCP_QUICKACK re-armed before each recv, avoid ~40 ms delayed-ACK stalls per APDU.
"""
from __future__ import annotations

import logging
import socket
import threading
import time

from devices.idcard.vcard.card import VirtualCard

log = logging.getLogger(__name__)
DEFAULT_PORT = 35963


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        if hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class VpcdCard:
    """Runs a :class:`VirtualCard` against vpcd in a background thread (``start``/``stop``)."""

    def __init__(self, dataset: str = "default", host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 latency_s: float = 0.0):
        self.card = VirtualCard(dataset)
        self.host, self.port, self.latency_s = host, port, latency_s
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connected = threading.Event()

    def start(self, timeout: float = 10.0) -> "VpcdCard":
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self._sock = sock
        self.connected.set()
        self._thread = threading.Thread(target=self._serve, name="vpcd-card", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        sock = self._sock
        try:
            while not self._stop.is_set():
                head = _recv_exact(sock, 2)
                if head is None:
                    break
                payload = _recv_exact(sock, int.from_bytes(head, "big"))
                if payload is None:
                    break
                if len(payload) == 1:
                    code = payload[0]
                    if code in (0x00, 0x01, 0x02):
                        self.card.reset()
                    elif code == 0x04:
                        sock.sendall(len(self.card.atr).to_bytes(2, "big") + self.card.atr)
                    continue
                if self.latency_s:
                    time.sleep(self.latency_s)
                resp = self.card.process(payload)
                sock.sendall(len(resp).to_bytes(2, "big") + resp)
        except OSError:
            pass
        finally:
            self.connected.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def serve_forever(dataset: str, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Keep a virtual card on the vpcd reader until interrupted (reconnects when pcscd restarts)."""
    while True:
        card = VpcdCard(dataset, host, port).start(timeout=3600)
        log.info("virtual card %s connected to vpcd %s:%d", dataset, host, port)
        while card.connected.is_set():
            time.sleep(0.2)
        card.stop()
        time.sleep(0.5)
