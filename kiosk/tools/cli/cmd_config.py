"""`kiosk config`: check the configuration, hash a technician PIN."""
from __future__ import annotations

import getpass
import json


def register(sub) -> None:
    p = sub.add_parser("config", help="check the configuration, hash a technician PIN")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="config_command", metavar="ACTION")
    c = g.add_parser("check", help="validate the configuration and print it with secrets removed")
    c.set_defaults(func=_check)
    h = g.add_parser("hash-pin", help="print the pin_hash value for [maintenance] from a PIN read on stdin")
    h.set_defaults(func=_hash_pin)


def _check(args) -> int:
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    print(json.dumps({"sources": [str(s) for s in cfg.sources], "config": cfg.redacted()}, ensure_ascii=False, indent=2))
    return 0


def _hash_pin(args) -> int:
    from kiosk.config import hash_pin

    pin = getpass.getpass("PIN (4–12 digits): ") if __import__("sys").stdin.isatty() else input().strip()
    try:
        print(hash_pin(pin))
    except ValueError as exc:
        print(f"kiosk: {exc}")
        return 2
    return 0
