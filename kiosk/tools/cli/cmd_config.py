"""`kiosk config`: check the configuration, hash a technician PIN."""
from __future__ import annotations

import getpass
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("config", help="check the configuration, hash a technician PIN")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="config_command", metavar="ACTION")
    c = g.add_parser("check", help="validate the configuration and print it with secrets removed",
                     description="Validate the configuration, print it with secrets removed, and list what a "
                                 "kiosk with real devices must not run with: shipped placeholders (CHANGE-ME), "
                                 "the demo kiosk secret, the public PIN, no flow-signing key, a central URL that "
                                 "is not https://, a card trust store that is empty or holds a test certificate; "
                                 "and a picture missing from [kiosk] device_pictures (card-qr.png, card-reader.png, "
                                 "phone-qr.png: the identify screen then shows the shipped drawing). "
                                 "Exit 0 when fit, 1 when any of these is found (the simulated demo has none).")
    c.set_defaults(func=_check)
    h = g.add_parser("hash-pin", help="print the pin_hash value for [maintenance] from a PIN read on stdin")
    h.set_defaults(func=_hash_pin)
    u = g.add_parser("unlock-pin", help="unlock the maintenance screen after too many wrong PINs",
                     description="After 3 wrong PINs in a row the kiosk makes each further try wait (30 s, doubling); "
                                 "after 10 it locks the maintenance screen until this command is run on the kiosk "
                                 "(or a new PIN is set). Prints how many wrong tries it cleared.")
    u.set_defaults(func=_unlock_pin)


def _check(args) -> int:
    from kiosk.tools.cli import config_from

    from kiosk.deployment import picture_problems, problems

    cfg = config_from(args)
    # a missing picture does not keep citizens away (the shipped drawing is shown) but may show
    # the devices where this kiosk has none: the technician is told here
    found = problems(cfg) + picture_problems(cfg)
    print(json.dumps({"sources": [str(s) for s in cfg.sources], "config": cfg.redacted(),
                      "problems": [{"key": p.key, "en": p.en, "vi": p.vi} for p in found]},
                     ensure_ascii=False, indent=2))
    for p in found:
        print(f"kiosk: {p}", file=sys.stderr)
    if found:
        print(f"kiosk: {len(found)} thing(s) to fix before this kiosk faces citizens / "
              f"{len(found)} mục cần sửa trước khi ki-ốt phục vụ người dân", file=sys.stderr)
    return 1 if found else 0


def _unlock_pin(args) -> int:
    from kiosk.pin_guard import guard_for
    from kiosk.tools.cli import config_from

    cleared = guard_for(config_from(args)).unlock()
    print(f"maintenance PIN unlocked ({cleared} wrong tries cleared)")
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
