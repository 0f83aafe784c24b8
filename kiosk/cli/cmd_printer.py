"""`kiosk printer`: printer diagnostics for technicians."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("printer", help="printer status, health and spooled jobs")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="printer_command", metavar="ACTION")
    s = g.add_parser("status", help="ask the printer for its status (DLE EOT) and health",
                     description="Online, paper (ok / near_end / out) and cover, as the printer reports them; "
                                 "'unknown' when the backend cannot read (usb, file) or the printer does not "
                                 "answer. Exit status 0 when it can print (or nothing is known), 1 when not.")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_status)
    j = g.add_parser("jobs", help="list the jobs kept in the spool for reprinting")
    j.set_defaults(func=_jobs)


def _status(args) -> int:
    from devices.printer import PrinterError, open_printer
    from kiosk.cli import config_from

    section = config_from(args).section("devices.printer")
    try:
        printer = open_printer(section)
    except PrinterError as exc:
        print(f"kiosk: {exc.message_en}", file=sys.stderr)
        return 1
    try:
        try:
            printer.open()
        except PrinterError:
            pass  # health() reports the unreachable printer
        health = printer.health()
    finally:
        printer.close()
    s = health.facts["status"]
    if args.json:
        print(json.dumps(health.as_dict(), ensure_ascii=False, indent=2))
    else:
        def show(v):
            return "unknown" if v is None else ("yes" if v is True else "no" if v is False else v)
        print(f"printer:    {health.facts['backend']} (profile {health.facts['profile']})")
        print(f"reachable:  {show(s['reachable'])}")
        print(f"online:     {show(s['online'])}")
        print(f"paper:      {s['paper']}")
        print(f"cover open: {show(s['cover_open'])}")
        print(f"spooled:    {health.facts['spooled_jobs']} job(s)")
        print(f"health:     {health.state.value}: {health.detail}" + (f" — {health.action}" if health.action else ""))
    return 1 if s["can_print"] is False else 0


def _jobs(args) -> int:
    from devices.printer import open_printer
    from kiosk.cli import config_from

    printer = open_printer(config_from(args).section("devices.printer"))
    jobs = printer.pending()
    for jid in jobs:
        meta = printer._meta(jid)
        print(f"{jid}  {meta.get('layout', '?')}  {meta.get('bytes', '?')} bytes")
    if not jobs:
        print("no jobs waiting in the spool")
    return 0
