"""Heartbeats: every few minutes the kiosk tells the central system how its devices are, so a
province sees which kiosks need a visit before citizens complain.

The payload is built only from diagnostic results (states, technician text, a few counts), and
every string passes through common.redact.redact() once more: nothing personal leaves this way.

    worker = HeartbeatWorker(client, interval=300, cfg=cfg, services=app.services)
    worker.start()
    ...
    worker.stop()
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any, Callable

from common import clock
from common.health import Health, State
from kiosk.diagnostics.result import CheckResult, worst_state
from common.redact import redact

log = logging.getLogger(__name__)

SCHEMA = "kiosk-heartbeat/1"
# Facts worth a line on the province's dashboard; the rest stays in the support bundle.
_FACTS = {
    # held: refused by central for good, "needs a technician" (needs_technician: local codes and
    # reason codes, no personal data); retrying: dossiers central answers 5xx for, on their own back-off
    "outbox": ("depth", "oldest_age_s", "last_error", "held", "held_reasons", "needs_technician", "retrying"),
    "disk": ("free_bytes", "free_percent"),
    "memory": ("available_bytes",),
    "network": ("clock_skew_s", "cert_days_left"),
    "versions": ("app", "flow_bundle"),
}
_BOOT = time.monotonic()


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _bundle_id(flow_bundle: Any) -> Any:
    from kiosk.diagnostics.versions import current_bundle_id

    return current_bundle_id(flow_bundle)


def build_payload(kiosk_id: str, results: list[CheckResult], *, now: dt.datetime | None = None,
                  app_version: str | None = None, interval_s: float | None = None) -> dict[str, Any]:
    """Pure: diagnostic results → the heartbeat body for POST /api/v1/kiosks/{id}/heartbeat."""
    from kiosk.diagnostics.versions import app_version as _app_version

    now = now or clock.now()
    devices: dict[str, Any] = {}
    for r in results:
        entry: dict[str, Any] = {"state": r.state.value, "detail": r.health.detail}
        if r.state is not State.OK and r.health.action:
            entry["action"] = r.health.action
        wanted = {k: r.health.facts.get(k) for k in _FACTS.get(r.name, ()) if k in r.health.facts}
        if "flow_bundle" in wanted:
            wanted["flow_bundle"] = _bundle_id(wanted["flow_bundle"])
        if wanted:
            entry["facts"] = wanted
        devices[r.name] = entry
    app = app_version or _app_version()
    return _clean({
        "schema": SCHEMA,
        "kiosk_id": kiosk_id,
        "sent_at": now.isoformat(timespec="seconds"),
        "uptime_s": round(time.monotonic() - _BOOT),
        # how often this kiosk beats: the fleet page calls it silent after 3 of its own intervals
        **({"interval_s": round(interval_s, 1)} if interval_s else {}),
        "state": worst_state(results).value,
        "needs_visit": [r.name for r in results if r.state in (State.NEEDS_ATTENTION, State.FAILED)],
        # the three sections the central system's Heartbeat model names
        "devices": devices,
        "outbox": devices.get("outbox", {}).get("facts", {}),
        "versions": {"app": app, **{k: v for k, v in devices.get("versions", {}).get("facts", {}).items() if k != "app"}},
    })


class HeartbeatWorker(threading.Thread):
    """Sends a heartbeat now and every ``interval`` seconds until :meth:`stop`.

    ``collect`` returns the results to report. By default every check runs; with ``services``
    (the app's kiosk.services.KioskServices) the device checks ask the devices the app holds,
    without ``services`` they are skipped (never open a device behind the app's back).
    :meth:`report` overrides one entry with a health the caller saw itself. A failed send is
    logged and retried at the next beat: a heartbeat is a snapshot, so a lost one needs no resend.
    """

    def __init__(self, client, interval: float = 300.0, *, cfg=None, services=None,
                 collect: Callable[[], list[CheckResult]] | None = None, kiosk_id: str | None = None):
        super().__init__(name="heartbeat", daemon=True)
        if collect is None and cfg is None:
            raise ValueError("HeartbeatWorker needs cfg or collect")
        self.client = client
        self.interval = float(interval)
        self.kiosk_id = kiosk_id or (cfg["kiosk"]["id"] if cfg is not None else "unknown")
        self._cfg = cfg
        self._collect = collect
        self._services = services
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._devices: dict[str, CheckResult] = {}
        self.sent = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_payload: dict[str, Any] | None = None

    def report(self, name: str, health: Health, *, title: str | None = None, title_vi: str | None = None) -> None:
        """Record a device's latest health, as seen by the app that holds it."""
        from kiosk.diagnostics.runner import CHECKS

        known = next((c for c in CHECKS if c.name == name), None)
        with self._lock:
            self._devices[name] = CheckResult(name, title or (known.title if known else name),
                                              title_vi or (known.title_vi if known else name), health)

    def payload(self) -> dict[str, Any]:
        if self._collect is not None:
            results = list(self._collect())
        else:
            from kiosk.diagnostics.runner import run_all

            results = (run_all(self._cfg, services=self._services) if self._services is not None
                       else run_all(self._cfg, devices=False))
        with self._lock:
            reported = dict(self._devices)
        results = list(reported.values()) + [r for r in results if r.name not in reported]
        return build_payload(self.kiosk_id, results, interval_s=self.interval)

    def beat(self) -> bool:
        """Send one heartbeat now; True when the central system accepted it."""
        try:
            body = self.payload()
            self.last_payload = body
            self.client.heartbeat(body)
        except Exception as exc:  # the network is allowed to be down; the next beat tries again
            self.failures += 1
            self.last_error = redact(f"{type(exc).__name__}: {exc}")
            log.warning("heartbeat not sent: %s", self.last_error)
            return False
        self.sent += 1
        self.last_error = None
        return True

    def run(self) -> None:
        while not self._halt.is_set():
            self.beat()
            self._halt.wait(self.interval)

    def stop(self, timeout: float | None = 5.0) -> None:
        self._halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
