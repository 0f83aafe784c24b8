"""`kiosk diag`: technician diagnostics, the support bundle and a manual heartbeat."""
from __future__ import annotations

import argparse
import json
import sys

from common import clock

EPILOG = """exit codes:
  0  everything ok (or only "not ready", e.g. no card on the reader)
  1  at least one check failed
  2  usage or configuration error
  3  nothing failed, but something needs attention (paper out, reader unplugged, clock off …)

states: ok · not_ready (transient: wait or retry) · needs_attention (a person must act, the
action line says what) · failed (broken or misconfigured). See docs/technician-guide.md."""

HELP = {
    "idcard": "card reader: reader list (from pcscd), the card's ATR and a test read (the simulated "
              "card on the sim backend; on a real reader put a test card on it and give its --can)",
    "qr": "QR scanner: open it and test a scan (sim: a known payload is injected and read back; "
          "real scanner: --scan-timeout N waits N seconds for you to scan any code)",
    "camera": "camera: one frame, scored for focus (variance of the Laplacian) and brightness",
    "printer": "printer: status and raw status bytes; --test-page prints the test page",
    "network": "network and central system: DNS, TCP, TLS (https), HTTP answer and clock skew",
    "outbox": "outbox: dossiers waiting, age of the oldest, last sync error",
    "disk": "free space where the data directory lives",
    "memory": "available memory",
    "temperature": "temperatures from /sys/class/thermal, where the PC exposes them",
    "versions": "versions of the app, the flow bundle, Kivy, OpenCV, pyscard, python-escpos …",
}


def _options(p: argparse.ArgumentParser, suppress: bool) -> None:
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    p.add_argument("--json", action="store_true", default=d(False), help="print JSON instead of the table")
    p.add_argument("--timeout", type=float, default=d(30.0), metavar="S", help="give up on a check after S seconds (default 30)")


def _device_options(p: argparse.ArgumentParser, suppress: bool, names: set[str]) -> None:
    d = (lambda v: argparse.SUPPRESS) if suppress else (lambda v: v)
    if "printer" in names:
        p.add_argument("--test-page", action="store_true", default=d(False), help="print the printer's test page")
    if "idcard" in names:
        p.add_argument("--can", default=d(""), metavar="CAN", help="CAN (6 digits) of the test card on a real reader, for a test read")
    if "qr" in names:
        p.add_argument("--scan-timeout", type=float, default=d(0.0), metavar="S",
                       help="wait S seconds for a code to be scanned on a real scanner")


def register(sub) -> None:
    from kiosk.diagnostics.runner import NAMES

    p = sub.add_parser(
        "diag", help="check every device and service, write a support bundle",
        description="Run every check (no CHECK) or one (kiosk diag CHECK) and print a table, or JSON with --json.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_run, check=None, group_parser=p)
    _options(p, False)
    _device_options(p, False, set(NAMES))
    g = p.add_subparsers(dest="diag_command", metavar="CHECK | bundle | heartbeat")
    for name in NAMES:
        c = g.add_parser(name, help=HELP[name], description=HELP[name], epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
        c.set_defaults(func=_run, check=name)
        _options(c, True)
        _device_options(c, True, {name})
    b = g.add_parser(
        "bundle", help="write a support zip (config without secrets, redacted logs, diag results, versions)",
        description="Write a zip for support: config with secrets removed, logs and APDU logs passed through "
                    "the personal-data redaction, printer status bytes, versions and every check's result. "
                    "A camera snapshot is included only with --maintenance.")
    b.add_argument("--out", metavar="ZIP", help="where to write it (default: DATA_DIR/support/kiosk-ID-TIME.zip)")
    b.add_argument("--maintenance", action="store_true",
                   help="maintenance mode: nobody stands in front of the kiosk, so a camera snapshot may be included")
    b.add_argument("--no-journal", action="store_true", help="leave the systemd journal out")
    b.add_argument("--timeout", type=float, default=30.0, metavar="S", help="give up on a check after S seconds (default 30)")
    b.set_defaults(func=_bundle)
    h = g.add_parser(
        "heartbeat", help="send one heartbeat to the central system now and print it",
        description="Build the heartbeat from the checks that do not open devices (the running kiosk app "
                    "holds them) and send it to the central system; prints the payload.")
    h.set_defaults(func=_heartbeat)


def _logging() -> None:
    # device modules may warn while being probed: through the redaction filter, to stderr only
    from kiosk.logs import setup_logging

    setup_logging("WARNING")


def _run(args) -> int:

    from kiosk.tools.cli import config_from
    from kiosk.diagnostics import Options, exit_code, run, run_all
    from kiosk.diagnostics.report import render

    cfg = config_from(args)
    _logging()
    opts = Options(test_page=getattr(args, "test_page", False), can=getattr(args, "can", ""),
                   scan_timeout_s=getattr(args, "scan_timeout", 0.0), timeout_s=args.timeout)
    results = [run(cfg, args.check, opts)] if args.check else run_all(cfg, opts)
    code = exit_code(results)
    if args.json:
        print(json.dumps({"kiosk_id": cfg["kiosk"]["id"], "exit_code": code,
                          "checks": [r.as_dict() for r in results]}, ensure_ascii=False, indent=2, default=str))
    else:
        now = clock.now().strftime("%Y-%m-%d %H:%M %z")
        print(render(results, header=f"kiosk {cfg['kiosk']['id']} — {now}\n", colour=sys.stdout.isatty()))
    return code


def _bundle(args) -> int:
    from kiosk.tools.cli import config_from
    from kiosk.diagnostics import Options, run_all
    from kiosk.diagnostics.bundle import build_bundle

    cfg = config_from(args)
    _logging()
    results = run_all(cfg, Options(timeout_s=args.timeout))
    path = build_bundle(cfg, args.out, results=results, maintenance=args.maintenance, journal=not args.no_journal)
    print(path)
    return 0


def _heartbeat(args) -> int:
    from kiosk.tools.cli import config_from
    from kiosk.diagnostics.runner import need
    from kiosk.heartbeat import HeartbeatWorker

    cfg = config_from(args)
    _logging()
    client = _client(cfg, need)
    worker = HeartbeatWorker(client, cfg=cfg)
    ok = worker.beat()
    print(json.dumps(worker.last_payload, ensure_ascii=False, indent=2, default=str))
    if not ok:
        print(f"kiosk: heartbeat not sent: {worker.last_error}", file=sys.stderr)
        return 1
    return 0


def _client(cfg, need):
    CentralClient = need("kiosk.client", "CentralClient")
    factory = getattr(CentralClient, "from_config", None)
    return factory(cfg) if factory else CentralClient(cfg["central"])
