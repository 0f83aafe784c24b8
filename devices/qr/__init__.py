"""QR codes: engines and the frame pipeline, scanners (serial / camera / sim), payload parsers.

    from devices.qr import decode_frame, open_scanner
    scanner = open_scanner(cfg["devices.qr"]); scanner.open(); scanner.read(timeout=1.0)
    from devices.qr.payloads import parse_cccd, parse_receipt, parse_procedure
"""
from __future__ import annotations

from devices.qr.engines import Decoded
from devices.qr.pipeline import decode_frame

__all__ = ["Decoded", "decode_frame", "open_scanner"]


def open_scanner(cfg: dict, camera=None):
    """The scanner ``cfg["backend"]`` names, built and not opened: call ``open()`` (see
    ``devices.qr.scanner``; its ``BACKENDS`` table lists the backends)."""
    from devices.qr.scanner import open_scanner as _open

    return _open(cfg, camera=camera)
