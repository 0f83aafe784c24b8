"""`kiosk sync`: send the outbox to the central system from the command line or kiosk-sync.service."""
from __future__ import annotations

import json
import signal
import sys
import threading


def register(sub) -> None:
    p = sub.add_parser(
        "sync", help="send waiting dossiers to the central system (once, or --forever for kiosk-sync.service)",
        description="Send the outbox's waiting dossiers to the central system. Without --forever: one pass, "
                    "print what was sent, held (refused by the central system: needs a technician) and deferred "
                    "(a server error: retried on its own back-off) and the outbox status; exit 0 when the pass "
                    "was not stopped and nothing was held or deferred, 1 otherwise. With --forever: run the "
                    "background sync worker in the foreground (retrying with backoff) until SIGTERM or Ctrl+C; "
                    "this is what kiosk-sync.service runs.")
    p.add_argument("--forever", action="store_true", help="keep syncing until stopped (systemd service mode)")
    p.set_defaults(func=_sync)


def _sync(args) -> int:
    from kiosk import sdnotify
    from kiosk.tools.cli import config_from
    from kiosk.client import CentralClient
    from kiosk.logs import setup_logging
    from kiosk.outbox import Outbox, OutboxError
    from kiosk.sync import SyncWorker

    cfg = config_from(args)
    # stderr only (the journal under systemd): the app owns the rotating log file, and two
    # processes rotating one file lose lines
    setup_logging(cfg["logging"]["level"])
    try:
        outbox = Outbox.from_config(cfg)
    except OutboxError as exc:
        # e.g. the outbox key's keyring is locked: one clear line in the journal, not a traceback
        print(f"kiosk sync: {exc}\n{exc.message_vi}", file=sys.stderr)
        return 1
    client = CentralClient.from_config(cfg)
    worker = SyncWorker.from_config(outbox, client, cfg)
    try:
        if not args.forever:
            report = worker.drain_once()
            print(json.dumps({"sent": len(report.sent), "held": len(report.held), "deferred": len(report.deferred),
                              "stopped_by": report.stopped_by, "error": report.error,
                              "outbox": outbox.status()}, ensure_ascii=False, indent=2, default=str))
            return 0 if report.stopped_by is None and not report.held and not report.deferred else 1
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        worker.start()
        # kiosk-sync.service is Type=notify: systemd (and the tests) know when SIGTERM is handled
        sdnotify.ready("syncing the outbox")
        stop.wait()
        worker.stop()
        return 0
    finally:
        client.close()
        outbox.close()
