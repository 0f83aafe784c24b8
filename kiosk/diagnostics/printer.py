"""Printer: the status the printer reports (paper, cover, raw DLE EOT status bytes) and, only when
asked, a test page: printing wastes paper and makes noise in a room full of citizens."""
from __future__ import annotations

from common import clock
from common.health import Health, State
from kiosk.diagnostics.result import Outcome
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import Unavailable, held, need

MESSAGE_VI = {
    State.NEEDS_ATTENTION: "Máy in cần kiểm tra (giấy, nắp máy, đèn báo lỗi)",
    State.FAILED: "Máy in không hoạt động",
}


def test_page_data(cfg) -> dict:
    kiosk = cfg["kiosk"]
    return {"kiosk_id": kiosk["id"], "centre_name": kiosk["centre_name"], "printed_at": clock.now()}


def check(cfg, opts) -> Outcome:
    section = dict(cfg["devices.printer"])
    facts = {"backend": section.get("backend"), "profile": section.get("profile")}
    printer = held(opts, "printer")
    own = printer is None
    try:
        if own:
            printer = need("devices.printer", "open_printer")(section)
            printer.open()
    except Exception as exc:
        if isinstance(exc, (ImportError, Unavailable)):
            raise
        return Health(State.FAILED, f"cannot reach the printer: {exc}",
                      "Check the printer is switched on and its cable (USB, serial or network); "
                      "check [devices.printer] in /etc/kiosk/kiosk.toml.", facts), MESSAGE_VI[State.FAILED]
    try:
        health: Health = printer.health()
        facts.update(plain(health.facts))  # holds "status" with the raw status bytes
        if opts.test_page and health.state in (State.OK, State.NOT_READY):
            try:
                job = printer.print_layout("test_page", test_page_data(cfg))
            except Exception as exc:
                return Health(State.FAILED, f"the test page did not print: {exc}",
                              "Check paper and cover, then run `kiosk diag printer --test-page` again.",
                              facts), MESSAGE_VI[State.FAILED]
            facts["test_page"] = plain(job)
        elif opts.test_page:
            facts["test_page"] = f"not printed: the printer is {health.state.value}"
        return Health(health.state, health.detail or "printer ready", health.action, facts), MESSAGE_VI.get(health.state, "")
    finally:
        try:
            if own:
                printer.close()
        except Exception:  # a printer that vanished mid-check must not mask the real reason
            pass
