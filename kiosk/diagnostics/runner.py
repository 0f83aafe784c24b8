"""The list of checks and how they run: one at a time, each bounded by a timeout, never raising.

A device that hangs (a reader stuck in a transaction, a printer that never answers) must not
hang the technician's terminal or the maintenance screen, so each check runs in a daemon thread
and is reported ``failed`` when it does not answer in time.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from common.health import Health, State
from kiosk.diagnostics.result import CheckResult, Outcome
from common.redact import redact

log = logging.getLogger(__name__)


@dataclass
class Options:
    """What a technician may ask for beyond the passive checks."""

    test_page: bool = False        # printer: print the test page
    can: str = ""                  # idcard: CAN of a technician's test card, for a test read on real readers
    scan_timeout_s: float = 0.0    # qr: wait this long for a real scan (0: do not wait)
    timeout_s: float = 30.0        # per check
    # The running app's kiosk.services.KioskServices (or anything with .reader/.scanner/.camera/
    # .printer): device checks then ask the devices the app already holds instead of opening them.
    services: Any = None


def held(opts: "Options", attr: str) -> Any:
    """The app's open device for ``attr`` (reader, scanner, camera, printer), or None."""
    return getattr(opts.services, attr, None) if opts.services is not None else None


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    title_vi: str
    module: str   # kiosk.diagnostics.<module>.check(cfg, opts)
    device: bool  # opens hardware the running kiosk app may hold


CHECKS: tuple[Check, ...] = (
    Check("idcard", "Card reader", "Đầu đọc thẻ căn cước", "idcard", True),
    Check("qr", "QR scanner", "Máy quét mã QR", "qr", True),
    Check("camera", "Camera", "Camera", "camera", True),
    Check("printer", "Printer", "Máy in", "printer", True),
    Check("network", "Network and central system", "Mạng và hệ thống trung tâm", "network", False),
    Check("outbox", "Outbox", "Hồ sơ chờ gửi", "outbox", False),
    Check("disk", "Disk", "Ổ đĩa", "host", False),
    Check("memory", "Memory", "Bộ nhớ", "host", False),
    Check("temperature", "Temperatures", "Nhiệt độ", "host", False),
    Check("versions", "Versions", "Phiên bản phần mềm", "versions", False),
)
NAMES = tuple(c.name for c in CHECKS)


class Unavailable(Exception):
    """A device module or backend is not installed: the check fails with this reason."""


def need(module: str, attr: str | None = None) -> Any:
    """Import a device module lazily so one missing driver fails one check, not the whole tool."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"cannot import {module}: {exc}") from None
    if attr is None:
        return mod
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise Unavailable(f"{module} has no {attr}() in this build") from None


def _check_fn(check: Check) -> Callable[..., Outcome]:
    mod = importlib.import_module(f"kiosk.diagnostics.{check.module}")
    return getattr(mod, f"check_{check.name}", None) or getattr(mod, "check")


def _call(check: Check, cfg, opts: Options) -> tuple[Health, str]:
    try:
        out = _check_fn(check)(cfg, opts)
    except (Unavailable, ImportError) as exc:
        reason = str(exc) if isinstance(exc, Unavailable) else f"a driver module is missing: {exc}"
        return Health(State.FAILED, reason, "Install the missing driver or update the kiosk software (scripts/install-kiosk.sh)."), ""
    except Exception as exc:  # a check's bug must show up as that check failing, with the reason
        log.exception("diagnostic check %s crashed", check.name)
        return Health(State.FAILED, f"check crashed: {type(exc).__name__}: {exc}", "Send a support bundle (kiosk diag bundle) to support."), ""
    if isinstance(out, tuple):
        return out
    return out, ""


def _scrub(value: Any) -> Any:
    """Belt and braces: nothing a check reports may carry personal data."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def run_check(check: Check, cfg, opts: Options | None = None) -> CheckResult:
    opts = opts or Options()
    box: dict[str, tuple[Health, str]] = {}
    t0 = time.monotonic()
    worker = threading.Thread(target=lambda: box.setdefault("out", _call(check, cfg, opts)),
                              name=f"diag-{check.name}", daemon=True)
    worker.start()
    worker.join(opts.timeout_s)
    elapsed = time.monotonic() - t0
    if "out" not in box:
        health = Health(State.FAILED, f"no answer within {opts.timeout_s:.0f} s",
                        "The device or service is stuck: unplug and replug it, or restart the kiosk (systemctl restart kiosk).")
        message_vi = ""
    else:
        health, message_vi = box["out"]
    health = Health(health.state, _scrub(health.detail), _scrub(health.action), _scrub(dict(health.facts)))
    return CheckResult(check.name, check.title, check.title_vi, health, message_vi, elapsed)


def find(name: str) -> Check:
    for c in CHECKS:
        if c.name == name:
            return c
    raise KeyError(f"unknown check {name!r}; expected one of: {', '.join(NAMES)}")


def _with_services(opts: Options | None, services: Any) -> Options:
    opts = opts or Options()
    if services is not None:
        opts = Options(**{**opts.__dict__, "services": services})
    return opts


def run(cfg, name: str, opts: Options | None = None, *, services: Any = None) -> CheckResult:
    return run_check(find(name), cfg, _with_services(opts, services))


def run_all(cfg, opts: Options | None = None, *, names: tuple[str, ...] | None = None,
            devices: bool = True, services: Any = None) -> list[CheckResult]:
    """Every check (or those in ``names``) in the fixed order. ``services``: the app's open
    devices, asked instead of opened (maintenance screen, heartbeats). ``devices=False`` skips the
    device checks altogether."""
    opts = _with_services(opts, services)
    chosen = [c for c in CHECKS if (names is None or c.name in names) and (devices or not c.device)]
    return [run_check(c, cfg, opts) for c in chosen]
