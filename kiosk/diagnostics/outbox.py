"""Outbox: how many dossiers wait to be sent, how old the oldest is, and the last sync error.

Only counts and times leave here: the outbox is encrypted because its items hold personal data.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from common import clock
from common.health import Health, State
from kiosk.diagnostics.result import Outcome
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import need

STALE_AFTER_S = 3600.0   # a dossier not delivered within an hour means sync is stuck, not just slow


def _first(d: dict, *names: str) -> Any:
    for n in names:
        if d.get(n) is not None:
            return d[n]
    return None


def _age_s(value: Any) -> float | None:
    """Seconds since a timestamp given as epoch seconds, ISO text or datetime."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return max(0.0, clock.timestamp() - float(value))
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.VN_TZ)
        return max(0.0, clock.timestamp() - value.timestamp())
    return None


def outbox_health(status: dict) -> tuple[Health, str]:
    """Pure: a status dict from Outbox.status() → (Health, Vietnamese line)."""
    pending = int(_first(status, "pending", "depth", "count") or 0)
    held = int(status.get("held") or 0)
    depth = pending + held
    age = _first(status, "oldest_age_s")
    if age is None:
        age = _age_s(_first(status, "oldest_unsent_at", "oldest_created_at", "oldest_at"))
    error = _first(status, "last_error", "last_sync_error")
    if isinstance(error, dict):
        error = error.get("error") or error.get("message") or str(error)
    reasons = status.get("held_reasons") if isinstance(status.get("held_reasons"), dict) else {}
    retrying = int(status.get("retrying") or 0)
    facts = {"depth": depth, "pending": pending, "held": held,
             "oldest_age_s": round(age, 1) if age is not None else None, "last_error": error}
    for key in ("sent", "last_sent_at", "last_success_at", "held_reasons", "needs_technician", "retrying",
                "retrying_dossiers"):
        if key in status:
            facts[key] = status[key]
    if depth == 0:
        return Health(State.OK, "empty: every dossier has reached the central system", "", facts), ""
    detail = f"{depth} dossier(s) waiting" + (f", oldest {age / 60:.0f} min" if age is not None else "")
    if held:
        why = ", ".join(f"{reason} ×{n}" for reason, n in reasons.items())
        detail += f", {held} need a technician (refused by the central system" + (f": {why}" if why else "") + ")"
    if retrying:
        detail += f", {retrying} retried on their own after server errors"
    if error:
        detail += f"; last sync error: {error}"
    if held:
        return Health(State.NEEDS_ATTENTION, detail,
                      "The central system refused these dossiers for good; the others are sent. `kiosk outbox status` "
                      "lists them (needs_technician: local code and reason); fix the cause with the province "
                      "(uuid_conflict, invalid_dossier, too_large…: docs/technician-guide.md) and release them with "
                      "`kiosk outbox retry`. Nothing is lost while they wait; never delete the outbox.",
                      facts), "Có hồ sơ cần cán bộ kỹ thuật xử lý"
    if age is not None and age > STALE_AFTER_S:
        return Health(State.NEEDS_ATTENTION, detail,
                      "Dossiers are not reaching the central system: run `kiosk diag network`, check "
                      "`systemctl status kiosk-sync` and `journalctl -u kiosk-sync`"
                      + ("; dossiers retried after server errors: tell the province their central system fails on them "
                         "(`kiosk outbox status`, retrying_dossiers)" if retrying else "")
                      + ". Nothing is lost while they wait.",
                      facts), "Có hồ sơ chưa gửi được"
    return Health(State.OK, detail, "", facts), ""


def check(cfg, opts) -> Outcome:
    section = cfg["outbox"]
    path = Path(section["path"])
    key_source_from_config = need("kiosk.outbox_key", "key_source_from_config")
    holds_ciphertext = need("kiosk.outbox", "holds_ciphertext")
    # probe() never creates a key and never returns it: only where it lives and whether it answers
    key = key_source_from_config(section).probe()
    kfacts = key.facts()
    key_note = f"; key: {key.source}, {key.where}, " + ("reachable" if key.present else "created with the first dossier")
    dont_delete = "Do not delete anything: the outbox holds citizens' dossiers. "
    if not key.reachable:
        return Health(State.FAILED, f"the outbox key ({key.source}: {key.where}) is unreachable: {key.error}",
                      dont_delete + ("Unlock the keyring / start gnome-keyring-daemon on the kiosk user's session bus "
                                     "(docs/central.md, 'The outbox key'); do not switch [outbox].key_source."
                                     if key.source == "keyring" else "Fix the key file's owner and permissions (0600, user kiosk)."),
                      {"path": str(path), **kfacts}), "Hộp hồ sơ chờ gửi bị lỗi"
    if key.present and not key.valid:
        return Health(State.FAILED, f"the outbox key ({key.source}: {key.where}) is not a valid key: {key.error}",
                      dont_delete + "Restore the key from the backup, then call support.",
                      {"path": str(path), **kfacts}), "Hộp hồ sơ chờ gửi bị lỗi"
    if not path.exists():
        return Health(State.OK, "empty: no outbox created yet (no dossier filed on this kiosk)" + key_note, "",
                      {"depth": 0, "path": str(path), **kfacts})
    if not key.present:
        if holds_ciphertext(path):
            # Outbox() would refuse to start; a fresh key could never decrypt the waiting dossiers
            what = f"key file {key.where}" if key.source == "file" else f"key {key.where}"
            return Health(State.FAILED, f"the outbox holds encrypted dossiers but its {what} is missing",
                          dont_delete + ("Restore the key file from the backup or the old disk, then call support."
                                         if key.source == "file" else
                                         "Restore the key into the keyring from the backup (and check [outbox].key_source "
                                         "and keyring_service/keyring_user are the ones the outbox was created with), "
                                         "then call support."),
                          {"path": str(path), **kfacts}), "Hộp hồ sơ chờ gửi bị lỗi"
        return Health(State.OK, "empty: nothing encrypted yet" + key_note, "",
                      {"depth": 0, "path": str(path), **kfacts})
    Outbox = need("kiosk.outbox", "Outbox")
    try:
        box = Outbox(section["path"], key_source_from_config(section))
    except Exception as exc:
        return Health(State.FAILED, f"cannot open the outbox: {exc}",
                      dont_delete + f"Check the outbox key ({key.source}: {key.where}) is the one the outbox was "
                      "created with, then call support.",
                      {"path": str(path), **kfacts}), "Hộp hồ sơ chờ gửi bị lỗi"
    try:
        status = plain(box.status())
    finally:
        if hasattr(box, "close"):
            box.close()
    health, message_vi = outbox_health(status if isinstance(status, dict) else {})
    health.facts["path"] = str(path)
    health.facts.update(kfacts)
    health.detail += key_note
    return health, message_vi
