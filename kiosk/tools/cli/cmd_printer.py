"""`kiosk printer`: printer diagnostics for technicians."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    from devices.printer.config import SECTION as PRINTER
    from devices.printer.profiles import profile_names

    p = sub.add_parser("printer", help="printer status, health and spooled jobs")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="printer_command", metavar="ACTION")
    s = g.add_parser("status", help="ask the printer for its status (DLE EOT) and health",
                     description="Online, paper (ok / near_end / out), cover and error, as the printer reports "
                                 "them (DLE EOT 1, 2, 4; 3 when it reports an error); 'unknown' when it does not "
                                 "answer or the backend cannot read. Exit status 0 when the printer answered and "
                                 "can print, or when the backend cannot read status at all (file; a USB printer "
                                 "without a bulk IN endpoint: health ok, status unknown). Exit status 1 when it "
                                 "cannot print, cannot be reached (a USB printer not plugged in, a port held by "
                                 "another process), or can be asked but did not answer (health needs_attention: "
                                 "jobs would stay in the spool).")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_status)
    j = g.add_parser("jobs", help="list the jobs kept in the spool for reprinting, and why each was kept")
    j.set_defaults(func=_jobs)
    e = g.add_parser("emulate", help="run a network ESC/POS printer emulator (raw TCP) and save what it prints",
                     description="Listens like a port-9100 printer, answers DLE EOT from the state given here "
                                 "and, when stopped (Ctrl-C or after --jobs cut jobs), writes the paper it "
                                 "printed: DIR/job-NNN.png per cut and DIR/stream.bin. Point a kiosk at it with "
                                 "[devices.printer] backend = \"network\", host and port.")
    e.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    e.add_argument("--port", type=int, default=9100, help="TCP port (default 9100; 0 picks a free one)")
    e.add_argument("--profile", choices=profile_names(), default=PRINTER.defaults["profile"],
                   help="paper profile to emulate (devices/printer/profiles.yaml)")
    e.add_argument("--paper", choices=("ok", "near_end", "out"), default="ok", help="paper state to report")
    e.add_argument("--cover-open", action="store_true", help="report the cover as open")
    e.add_argument("--jobs", type=int, default=0, metavar="N", help="stop after N cut jobs (default: run until Ctrl-C)")
    e.add_argument("--out-dir", metavar="DIR", default=".", help="where to write the PNGs (default: current folder)")
    e.set_defaults(func=_emulate)


def _status(args) -> int:
    from devices.printer import PrinterError, open_printer
    from kiosk.tools.cli import config_from

    section = config_from(args).section("devices.printer")
    try:
        printer = open_printer(section)
    except PrinterError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
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
        print(f"error:      {s['error'] or ('none' if s['known'] else 'unknown')}")
        print(f"spooled:    {health.facts['spooled_jobs']} job(s)")
        print(f"health:     {health.state.value}: {health.detail}" + (f" — {health.action}" if health.action else ""))
    if s["can_print"] is True:
        return 0
    # unknown is acceptable only from a backend that can never know (file); a printer that can
    # be asked and did not answer would keep every job in the spool
    return 0 if s["can_print"] is None and not health.facts["reads_status"] else 1


def _jobs(args) -> int:
    from devices.printer import open_printer
    from kiosk.tools.cli import config_from

    printer = open_printer(config_from(args).section("devices.printer"))
    jobs = printer.pending()
    for jid in jobs:
        meta = printer._meta(jid)
        why = f"  kept: {meta['kept_because']}" if meta.get("kept_because") else ""
        print(f"{jid}  {meta.get('layout', '?')}  {meta.get('bytes', '?')} bytes{why}")
    if not jobs:
        print("no jobs waiting in the spool")
    return 0


def _emulate(args) -> int:
    import time
    from pathlib import Path

    from devices.printer import NetworkPrinterEmulator, PrinterModel, get_profile
    from devices.printer.escpos_render import EscposParseError, tokenize

    model = PrinterModel(get_profile(args.profile).dots_per_line, paper=args.paper, cover_open=args.cover_open)
    try:
        emu = NetworkPrinterEmulator(model, args.host, args.port)
    except OSError as exc:
        print(f"kiosk: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"emulated {args.profile} printer listening on {emu.host}:{emu.port}", flush=True)
    with emu:
        try:
            while True:
                time.sleep(0.1)
                if args.jobs:
                    cuts = sum(1 for c in tokenize(bytes(model.printed), final=False)[0] if c.name == "cut")
                    if cuts >= args.jobs:
                        break
        except KeyboardInterrupt:
            pass
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stream.bin").write_bytes(bytes(model.printed))
    try:
        paper = model.render()
    except EscposParseError as exc:
        print(f"kiosk: the stream received cannot be drawn: {exc}", file=sys.stderr)
        return 1
    tops = [0] + paper.cuts
    if paper.image.height > tops[-1]:
        tops.append(paper.image.height)
    for k in range(1, len(tops)):
        name = out / f"job-{k:03d}.png"
        paper.image.crop((0, tops[k - 1], paper.image.width, tops[k])).save(name)
        print(f"wrote {name}")
    return 0
