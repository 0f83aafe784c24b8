"""`kiosk print`: print (and preview) receipts, tickets and the test page on the configured printer."""
from __future__ import annotations

import json
import sys

from common import clock


def register(sub) -> None:
    from devices.printer.profiles import profile_names

    p = sub.add_parser("print", help="print a receipt, a queue ticket or the test page",
                       description="Print on the printer of [devices.printer] (the sim backend by default, "
                                   "which writes each job's .bin and .png to its out_dir when one is set). "
                                   "A job that cannot print now stays in the spool, sealed with the outbox key.")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="print_command", metavar="WHAT")

    def common(sp):
        sp.add_argument("--out", metavar="PNG", help="also write the preview (exactly the raster sent) to this PNG")
        sp.add_argument("--preview-only", action="store_true", help="write --out and do not print")
        sp.add_argument("--profile", choices=profile_names(),
                        help="paper profile instead of the configured one (devices/printer/profiles.yaml)")

    t = g.add_parser("test", help="print the technician test page (fonts, all Vietnamese letters, QR)")
    common(t)
    t.set_defaults(func=_test)

    r = g.add_parser("receipt", help="print a receipt from a JSON file of receipt data",
                     description="FILE is a JSON object with the receipt layout's keys (docs/printing.md; "
                                 "sample: devices/printer/samples/receipt.json). centre_name defaults to "
                                 "[kiosk].centre_name.")
    r.add_argument("--dossier", metavar="FILE", required=True, help="JSON file with the receipt data")
    r.add_argument("--provisional", action="store_true",
                   help="print the provisional receipt (central unreachable; the file needs local_code)")
    common(r)
    r.set_defaults(func=_receipt)

    k = g.add_parser("ticket", help="print a queue ticket")
    k.add_argument("--number", default="1", help="queue number (default 1)")
    k.add_argument("--service", default="Tiếp nhận hồ sơ", help="service name")
    k.add_argument("--counter", default="1", help="counter to go to")
    k.add_argument("--people-ahead", type=int, default=0, metavar="N", help="people waiting before this number")
    common(k)
    k.set_defaults(func=_ticket)

    rp = g.add_parser("reprint", help="send jobs kept in the spool (after paper out, cover open, no connection, "
                                      "no status answer)")
    rp.add_argument("job_id", nargs="?", help="one job id (default: all, oldest first)")
    rp.set_defaults(func=_reprint)

    d = g.add_parser("discard", help="drop a spooled job without printing it (it did print after all)",
                     description="A job kept because the printer did not confirm it (no_status) may be on the "
                                 "paper: look, and drop it here instead of reprinting it. `kiosk printer jobs` "
                                 "lists the jobs and why each was kept.")
    d.add_argument("job_id", help="the job id")
    d.set_defaults(func=_discard)


def _printer_cfg(args):
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    section = cfg.section("devices.printer")
    if getattr(args, "profile", None):
        section["profile"] = args.profile
    return cfg, section


def _sealed(printer, cfg):
    """Kept jobs are sealed with the outbox key (kiosk.print_spool); without it none is kept."""
    from kiosk.print_spool import seal_spool_from_config

    if printer.spool_dir is not None and not seal_spool_from_config(printer, cfg):
        print("kiosk: the outbox key is not available: a job that cannot print now is not kept for a reprint",
              file=sys.stderr)
    return printer


def _fail(exc) -> int:
    print(f"kiosk: {exc.message_vi}\nkiosk: {exc}", file=sys.stderr)
    if getattr(exc, "job_id", None):
        print(f"kiosk: job {exc.job_id} kept in the spool: `kiosk print reprint {exc.job_id}` when the printer is ready",
              file=sys.stderr)
        if exc.code == "no_status":
            print(f"kiosk: it may have printed: look first, and `kiosk print discard {exc.job_id}` if it did",
                  file=sys.stderr)
    return 1


def _run(args, name: str, data: dict) -> int:
    from devices.printer import PrinterError, open_printer

    cfg, section = _printer_cfg(args)
    try:
        printer = _sealed(open_printer(section), cfg)
        if args.out:
            printer.preview(name, data).save(args.out)
            print(f"preview written to {args.out}")
        if args.preview_only:
            if not args.out:
                print("kiosk: --preview-only needs --out PNG", file=sys.stderr)
                return 2
            return 0
        # not opened first: print_layout spools the job before it connects, so a printer that
        # cannot be reached leaves the job in the spool for `kiosk print reprint`
        try:
            job = printer.print_layout(name, data)
        finally:
            printer.close()
    except PrinterError as exc:
        return _fail(exc)
    extra = f", rendering {job.png_path}" if job.png_path else ""
    print(f"printed {name}: job {job.job_id}, {job.bytes_sent} bytes{extra}")
    return 0


def _test(args) -> int:
    from kiosk.tools.cli import config_from

    k = config_from(args).section("kiosk")
    return _run(args, "test_page", {"centre_name": k["centre_name"], "kiosk_id": k["id"],
                                    "printed_at": clock.now()})


def _receipt(args) -> int:
    from kiosk.tools.cli import config_from

    try:
        with open(args.dossier, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        print(f"kiosk: cannot read {args.dossier}: {exc.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"kiosk: {args.dossier} is not valid JSON (line {exc.lineno}): {exc.msg}", file=sys.stderr)
        return 2
    if not isinstance(data, dict):
        print(f"kiosk: {args.dossier} must hold a JSON object", file=sys.stderr)
        return 2
    data.setdefault("centre_name", config_from(args).section("kiosk")["centre_name"])
    if args.provisional:
        from devices.printer.layout import load_layout

        allowed = load_layout("provisional_receipt")["fields"]
        data = {k: v for k, v in data.items() if k in allowed}
    return _run(args, "provisional_receipt" if args.provisional else "receipt", data)


def _ticket(args) -> int:
    from kiosk.tools.cli import config_from

    data = {"number": args.number, "service": args.service, "counter": args.counter,
            "people_ahead": args.people_ahead, "issued_at": clock.now(),
            "centre_name": config_from(args).section("kiosk")["centre_name"]}
    return _run(args, "ticket", data)


def _reprint(args) -> int:
    from devices.printer import PrinterError, open_printer

    cfg, section = _printer_cfg(args)
    try:
        printer = _sealed(open_printer(section), cfg)
        if not printer.pending() and not args.job_id:
            print("no jobs waiting in the spool")
            return 0
        try:
            jobs = printer.reprint(args.job_id)
        finally:
            printer.close()
    except PrinterError as exc:
        return _fail(exc)
    for job in jobs:
        print(f"reprinted job {job.job_id} ({job.layout}, {job.bytes_sent} bytes)")
    return 0


def _discard(args) -> int:
    from devices.printer import PrinterError, open_printer

    _, section = _printer_cfg(args)
    try:
        open_printer(section).discard(args.job_id)
    except PrinterError as exc:
        print(f"kiosk: {exc.message_vi}\nkiosk: {exc}", file=sys.stderr)
        return 1
    print(f"discarded job {args.job_id}")
    return 0
