"""`kiosk outbox`: see, resend and export the dossiers waiting for the central system."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("outbox", help="status of queued dossiers; resend them; export them for hand delivery")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="outbox_command", metavar="ACTION")
    s = g.add_parser("status", help="counts (pending / held / sent), oldest unsent dossier, last error (no personal data)")
    s.set_defaults(func=_status)
    r = g.add_parser("retry", help="put held dossiers back in the queue and send everything now",
                     description="Held dossiers (refused by the central system) go back to the queue, then one "
                                 "sending pass runs now with the configured [central] settings. Exit 0 when the "
                                 "queue is empty afterwards, 1 when dossiers are still waiting.")
    r.add_argument("--no-send", action="store_true", help="only release held dossiers; let the kiosk's worker send them")
    r.set_defaults(func=_retry)
    e = g.add_parser("export", help="write every unsent dossier and its attachments, decrypted, to DIR",
                     description="For hand delivery when the central system stays unreachable. The files hold "
                                 "personal data: DIR is created 0700, files 0600; delete them after delivery.")
    e.add_argument("dir", metavar="DIR")
    e.set_defaults(func=_export)


def _open(args):
    from kiosk.tools.cli import config_from
    from kiosk.outbox import Outbox

    cfg = config_from(args)
    return Outbox.from_config(cfg), cfg


def _fail(exc) -> int:
    print(f"kiosk outbox: {exc}\n{exc.message_vi}", file=sys.stderr)
    return 1


def _status(args) -> int:
    from kiosk.outbox import OutboxError

    try:
        box, cfg = _open(args)
        with box:
            print(json.dumps({"path": str(box.path), **box.status()}, ensure_ascii=False, indent=2))
    except OutboxError as exc:
        return _fail(exc)
    return 0


def _retry(args) -> int:
    from kiosk.client import CentralClient
    from kiosk.outbox import OutboxError
    from kiosk.sync import SyncWorker

    try:
        box, cfg = _open(args)
        with box:
            released = box.retry()
            print(f"released {released} held dossier(s)")
            if args.no_send:
                return 0
            client = CentralClient.from_config(cfg)
            report = SyncWorker.from_config(box, client, cfg).drain_once()
            client.close()
            print(f"sent {len(report.sent)} dossier(s)")
            if report.stopped_by:
                print(f"stopped: {report.stopped_by}: {report.error}", file=sys.stderr)
            left = box.status()
            print(json.dumps({k: left[k] for k in ("pending", "held", "sent")}))
            return 0 if left["pending"] == 0 and left["held"] == 0 else 1
    except OutboxError as exc:
        return _fail(exc)


def _export(args) -> int:
    from kiosk.outbox import OutboxError

    try:
        box, _ = _open(args)
        with box:
            n = box.export(args.dir)
    except OutboxError as exc:
        return _fail(exc)
    print(f"exported {n} dossier(s) to {args.dir} — personal data: deliver, then delete")
    return 0
