"""The `kiosk` command. Each sub-command group lives in its own module ``kiosk/tools/cli/cmd_<group>.py``
exposing ``register(subparsers)``; they are discovered here, so a new group is a new file."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from common import clock
from kiosk.config import Config, ConfigError, load_config

DESCRIPTION = """Self-service kiosk for Vietnam's public service centres.

Without --config, the defaults in config/kiosk.toml are used (simulated devices, embedded
central system); KIOSK_CONFIG names an override file too.

--now (or KIOSK_NOW) runs any command as if it were that moment in Vietnam (local time,
e.g. 2027-03-01T08:00): dates on forms, receipts and appointments follow it and the clock runs
on from there. For demos, previews, help clips and tests; a real kiosk leaves it unset."""


def _groups():
    import kiosk.tools.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            yield importlib.import_module(f"kiosk.tools.cli.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file overriding config/kiosk.toml")
    parser.add_argument("--now", metavar="INSTANT",
                        help="act as if it were INSTANT, Vietnam local time (2027-03-01T08:00 or 2027-03-01); "
                             f"same as {clock.ENV_VAR}=INSTANT")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _groups():
        module.register(sub)
    return parser


def config_from(args: argparse.Namespace) -> Config:
    cached = getattr(args, "_config", None)
    if cached is None:
        cached = load_config(args.config)
        args._config = cached
    return cached


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.now:
        try:
            instant = clock.parse_instant(args.now)
        except ValueError as exc:
            print(f"kiosk: --now: {exc}", file=sys.stderr)
            return 2
        os.environ[clock.ENV_VAR] = instant.isoformat()  # child processes (embedded central) share it
        clock.set_now(instant)
    elif os.environ.get(clock.ENV_VAR):
        try:
            clock.parse_instant(os.environ[clock.ENV_VAR])
        except ValueError as exc:
            print(f"kiosk: {clock.ENV_VAR}: {exc}", file=sys.stderr)
            return 2
    handler = getattr(args, "func", None)
    if handler is None:
        # a group without its sub-command: show that group's help
        (getattr(args, "group_parser", None) or parser).print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except ConfigError as exc:
        print(f"kiosk: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
