"""`kiosk outbox`: see, resend and export the dossiers waiting for the central system."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("outbox", help="status of queued dossiers; resend them; export them for hand delivery")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="outbox_command", metavar="ACTION")
    s = g.add_parser("status", help="counts (pending / held / sent), oldest unsent dossier, last error, the dossiers "
                                    "that need a technician and those retried after server errors (no personal data)",
                     description="JSON: pending / held / sent counts; needs_technician: each held dossier (refused by "
                                 "the central system for good) by local code with the central system's reason "
                                 "(uuid_conflict, invalid_dossier, too_large…); held_reasons: counts per reason; "
                                 "retrying / retrying_dossiers: dossiers the central system answered with a server "
                                 "error, each with its failures and next try. A line on stderr says when dossiers "
                                 "need a technician.")
    s.set_defaults(func=_status)
    r = g.add_parser("retry", help="put held dossiers back in the queue and send everything now",
                     description="Held dossiers (refused by the central system: needs a technician) go back to the "
                                 "queue and every dossier's own back-off after server errors ends; then one sending "
                                 "pass runs now with the configured [central] settings. Exit 0 when the queue is "
                                 "empty afterwards, 1 when dossiers are still waiting (a dossier refused again is "
                                 "held again, with its reason).")
    r.add_argument("--no-send", action="store_true", help="only release held dossiers; let the kiosk's worker send them")
    r.add_argument("--local-code", metavar="TAM-…", help="only this dossier (its local code, from `kiosk outbox status`)")
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
            status = box.status()
            print(json.dumps({"path": str(box.path), **status}, ensure_ascii=False, indent=2))
    except OutboxError as exc:
        return _fail(exc)
    if status["held"]:
        print(f"{status['held']} dossier(s) need a technician: the central system refused them "
              f"({', '.join(f'{r} ×{n}' for r, n in status['held_reasons'].items())}); fix the cause, then "
              "`kiosk outbox retry` (docs/technician-guide.md, section 3)", file=sys.stderr)
    return 0


def _retry(args) -> int:
    from kiosk.client import CentralClient
    from kiosk.outbox import OutboxError
    from kiosk.sync import SyncWorker

    try:
        box, cfg = _open(args)
        with box:
            uuid = None
            if args.local_code:
                item = box.by_local_code(args.local_code)
                if item is None or item.state == "sent":
                    print(f"kiosk outbox: no unsent dossier {args.local_code}", file=sys.stderr)
                    return 2
                uuid = item.uuid
            released = box.retry(uuid)
            print(f"released {released} held dossier(s)")
            if args.no_send:
                return 0
            client = CentralClient.from_config(cfg)
            report = SyncWorker.from_config(box, client, cfg).drain_once()
            client.close()
            print(f"sent {len(report.sent)} dossier(s)")
            if report.held:
                print(f"{len(report.held)} dossier(s) refused again and held: see `kiosk outbox status`", file=sys.stderr)
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
