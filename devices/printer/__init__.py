"""Receipts, slips and queue tickets in Vietnamese on ESC/POS printers.

    printer = open_printer(cfg["devices.printer"])   # usb | serial | network | file | sim
    job = printer.print_layout("receipt", data)       # -> PrintJob(job_id, bytes_sent, png_path)
    printer.status()                                  # -> PrinterStatus (DLE EOT; unknown stays unknown)
    render_preview("ticket", data, profile="80mm")    # -> PIL.Image, the raster that will print

Layout names: receipt, provisional_receipt, ticket, test_page (data keys: docs/printing.md);
receipt_from_dossier() / provisional_from_dossier() fill them from the kiosk-dossier/1 document.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from . import backends, document, layout
from .emulator import NetworkPrinterEmulator, PrinterModel
from .errors import LayoutError, PrinterError
from .layout import LAYOUT_NAMES
from .printer import Printer, PrintJob
from .profiles import Profile, get_profile
from .receipt_data import format_fee, provisional_from_dossier, receipt_from_dossier
from .status import PrinterStatus

__all__ = [
    "open_printer", "render_preview", "render_bytes", "Printer", "PrintJob", "PrinterStatus", "PrinterError",
    "LayoutError", "Profile", "get_profile", "LAYOUT_NAMES", "PrinterModel", "NetworkPrinterEmulator",
    "receipt_from_dossier", "provisional_from_dossier", "format_fee",
]


def open_printer(cfg: dict[str, Any], *, profile: "str | dict | Profile | None" = None) -> Printer:
    """A Printer for the ``[devices.printer]`` config section (not yet opened: call ``open()``,
    or let the first job open it). ``profile`` overrides ``cfg["profile"]``."""
    prof = get_profile(profile if profile is not None else cfg.get("profile", "80mm"))
    backend = cfg.get("backend", "sim")
    timeout = float(cfg.get("timeout_s", 3.0))
    try:
        if backend == "sim":
            model = PrinterModel(prof.dots_per_line, paper=cfg.get("sim_paper", "ok"),
                                 cover_open=bool(cfg.get("sim_cover_open", False)))
            transport = backends.SimTransport(cfg.get("out_dir") or None, model)
        elif backend == "network":
            transport = backends.NetworkTransport(cfg.get("host", ""), int(cfg.get("port", 9100)), timeout)
        elif backend == "serial":
            transport = backends.SerialTransport(cfg.get("device", ""), int(cfg.get("baudrate", 19200)), timeout)
        elif backend == "file":
            transport = backends.FileTransport(cfg.get("device", ""))
        elif backend == "usb":
            transport = backends.UsbTransport(int(cfg.get("usb_vendor", 0)), int(cfg.get("usb_product", 0)), timeout)
        else:
            raise ValueError(f"unknown printer backend {backend!r}; expected usb, serial, network, file or sim")
    except ValueError as exc:
        raise PrinterError("unreachable", str(exc)) from None
    spool = cfg.get("spool_dir") or (str(Path(cfg["out_dir"]) / "spool") if cfg.get("out_dir") else None)
    return Printer(transport, prof, spool)


def render_bytes(name: str, data: dict[str, Any], profile: "str | dict | Profile" = "80mm") -> bytes:
    """The ESC/POS bytes a layout prints as, without a printer."""
    prof = get_profile(profile)
    return document.encode(layout.build(name, data, prof), prof)


def render_preview(name: str, data: dict[str, Any], profile: "str | dict | Profile" = "80mm") -> Image.Image:
    """The paper a layout prints as (mode "1", profile width): the same raster the printer gets."""
    prof = get_profile(profile)
    return document.preview(layout.build(name, data, prof), prof)
