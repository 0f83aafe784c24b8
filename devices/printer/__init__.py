"""Receipts, slips and queue tickets in Vietnamese on ESC/POS printers.

    printer = open_printer(cfg["devices.printer"])   # BACKENDS: usb | serial | network | file | sim
    printer.open()                                    # idempotent; the first job opens it too
    job = printer.print_layout("receipt", data)       # -> PrintJob(job_id, bytes_sent, png_path)
    printer.status()                                  # -> PrinterStatus (DLE EOT; unknown stays unknown)
    render_preview("ticket", data, profile="80mm")    # -> PIL.Image, the raster that will print

Layout names: receipt, provisional_receipt, ticket, test_page (data keys: docs/printing.md);
receipt_from_dossier() / provisional_from_dossier() fill them from the kiosk-dossier/1 document.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Light at import (no Pillow): kiosk.config reads the [devices.printer] section from here, and the
# kiosk CLI runs on the central system's machine too. What needs Pillow is loaded on first use.
from .backends import BACKENDS
from .config import SECTION
from .errors import LayoutError, PrinterError
from .profiles import Profile, get_profile, profile_names
from .receipt_data import format_fee, provisional_from_dossier, receipt_from_dossier
from .status import PrinterStatus

if TYPE_CHECKING:
    from PIL import Image

    from .emulator import NetworkPrinterEmulator, PrinterModel
    from .layout import LAYOUT_NAMES
    from .printer import Printer, PrintJob

_LAZY = {"Printer": ".printer", "PrintJob": ".printer", "NetworkPrinterEmulator": ".emulator",
         "PrinterModel": ".emulator", "LAYOUT_NAMES": ".layout"}

__all__ = [
    "open_printer", "render_preview", "render_bytes", "Printer", "PrintJob", "PrinterStatus", "PrinterError",
    "LayoutError", "Profile", "get_profile", "profile_names", "BACKENDS", "LAYOUT_NAMES", "PrinterModel",
    "NetworkPrinterEmulator", "receipt_from_dossier", "provisional_from_dossier", "format_fee",
]


def __getattr__(name: str):
    """``Printer``, ``PrinterModel``, ``LAYOUT_NAMES`` … and the submodules, imported on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def open_printer(cfg: dict[str, Any], *, profile: "str | dict | Profile | None" = None) -> "Printer":
    """The Printer of ``cfg["backend"]`` (the ``[devices.printer]`` section), built without I/O
    and not opened: call ``open()`` (idempotent), or let the first job open it. ``profile``
    overrides ``cfg["profile"]``. An unknown backend raises PrinterError naming the known ones; a
    backend missing its setting (host, device, USB ids) raises PrinterError too."""
    from .printer import Printer

    settings = SECTION.settings(cfg)
    prof = get_profile(profile if profile is not None else settings["profile"])
    transport_cls = SECTION.pick(BACKENDS, settings, PrinterError)
    try:
        transport = transport_cls.from_config(settings, prof)
    except ValueError as exc:
        raise PrinterError(code="not_configured", detail=str(exc)) from None
    out_dir = settings["out_dir"]
    spool = settings["spool_dir"] or (str(Path(out_dir) / "spool") if out_dir else None)
    return Printer(transport, prof, spool)


def render_bytes(name: str, data: dict[str, Any], profile: "str | dict | Profile" = "80mm") -> bytes:
    """The ESC/POS bytes a layout prints as, without a printer."""
    from . import document, layout

    prof = get_profile(profile)
    return document.encode(layout.build(name, data, prof), prof)


def render_preview(name: str, data: dict[str, Any], profile: "str | dict | Profile" = "80mm") -> "Image.Image":
    """The paper a layout prints as (mode "1", profile width): the same raster the printer gets."""
    from . import document, layout

    prof = get_profile(profile)
    return document.preview(layout.build(name, data, prof), prof)
