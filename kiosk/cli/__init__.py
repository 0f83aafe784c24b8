"""The `kiosk` command. Each sub-command group lives in its own module ``kiosk/cli/cmd_<group>.py``
exposing ``register(subparsers)``; they are discovered here, so a new group is a new file."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from kiosk.config import Config, ConfigError, load_config

DESCRIPTION = """Self-service kiosk for Vietnam's public service centres.

Without --config, the defaults in config/kiosk.toml are used (simulated devices, embedded
central system); KIOSK_CONFIG names an override file too."""


def _groups():
    import kiosk.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            yield importlib.import_module(f"kiosk.cli.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file overriding config/kiosk.toml")
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
