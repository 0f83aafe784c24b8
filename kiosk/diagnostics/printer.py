"""Printer: the status the printer reports (paper, cover, raw status bytes) and, only when asked,
a test page: printing wastes paper and makes noise in a room full of citizens."""
from __future__ import annotations

import datetime as dt

from devices.health import Health, State
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import Unavailable, need

MESSAGE_VI = {
    State.NEEDS_ATTENTION: "Máy in cần kiểm tra (giấy, nắp máy)",
    State.FAILED: "Máy in không hoạt động",
}


def read_status(cfg) -> dict:
    """Open the printer, read status and health, close it: {"status": …, "health": Health}."""
    open_printer = need("devices.printer", "open_printer")
    printer = open_printer(dict(cfg["devices.printer"]))
    try:
        if hasattr(printer, "open"):
            printer.open()
        status = printer.status() if hasattr(printer, "status") else None
        return {"printer": printer, "status": status, "health": printer.health()}
    finally:
        if hasattr(printer, "close"):
            try:
                printer.close()
            except Exception:  # a printer that vanished mid-check must not mask the real reason
                pass


def test_page_data(cfg) -> dict:
    from kiosk.diagnostics.versions import app_version

    kiosk = cfg["kiosk"]
    return {"kiosk_id": kiosk["id"], "centre_name": kiosk["centre_name"], "app_version": app_version(),
            "printed_at": dt.datetime.now().astimezone().isoformat(timespec="seconds")}


def check(cfg, opts) -> Health:
    section = cfg["devices.printer"]
    facts = {"backend": section.get("backend"), "profile": section.get("profile")}
    try:
        got = read_status(cfg)
    except Exception as exc:
        if isinstance(exc, (ImportError, Unavailable)):
            raise
        return Health(State.FAILED, f"cannot reach the printer: {exc}",
                      "Check the printer is switched on and its cable (USB, serial or network); "
                      "check [devices.printer] in /etc/kiosk/kiosk.toml.", facts), MESSAGE_VI[State.FAILED]
    health: Health = got["health"]
    facts.update(plain(health.facts))
    if got["status"] is not None:
        facts["status"] = plain(got["status"])
    if opts.test_page and health.state in (State.OK, State.NOT_READY):
        printer = need("devices.printer", "open_printer")(dict(section))
        try:
            if hasattr(printer, "open"):
                printer.open()
            job = printer.print_layout("test_page", test_page_data(cfg))
            facts["test_page"] = plain(job)
        except Exception as exc:
            return Health(State.FAILED, f"the test page did not print: {exc}",
                          "Check paper and cover, then run `kiosk diag printer --test-page` again.", facts), MESSAGE_VI[State.FAILED]
        finally:
            if hasattr(printer, "close"):
                printer.close()
    elif opts.test_page:
        facts["test_page"] = f"not printed: printer is {health.state.value}"
    return Health(health.state, health.detail or "printer ready", health.action, facts), MESSAGE_VI.get(health.state, "")
