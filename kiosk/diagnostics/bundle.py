"""`kiosk diag bundle`: one zip a technician sends to support.

Everything that goes in is either produced here without personal data (diagnostic results,
versions, config without secrets) or passes through common.redact.redact() on the way in (logs,
which the logging filter already redacted, and APDU logs). A camera snapshot is added only in
maintenance mode, when the technician confirms nobody stands in front of the kiosk.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from common import clock
from kiosk.diagnostics import versions
from kiosk.diagnostics.result import CheckResult, worst_state
from common.redact import redact

log = logging.getLogger(__name__)

LOG_TAIL_BYTES = 2_000_000       # per file: support needs the recent past, not the whole year
JOURNAL_UNITS = ("kiosk.service", "kiosk-sync.service", "kiosk-flows-update.service", "pcscd.service")
APDU_GLOBS = ("**/apdu*.log*", "**/apdu*.txt", "**/apdu*.jsonl", "**/apdu/*")
# Config keys whose values are credentials even if Config.redacted() does not know their name yet.
_SECRET_KEY = re.compile(r"secret|token|password|pin_hash|key_file|client_key|private", re.I)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def redacted_config(cfg) -> dict:
    out = cfg.redacted() if hasattr(cfg, "redacted") else {k: dict(cfg[k]) for k in cfg}
    for values in out.values():
        for key, value in values.items():
            if _SECRET_KEY.search(key) and value and value != "<redacted>":
                values[key] = "<redacted>"
    return out


def _tail_text(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size > limit:
            fh.seek(size - limit)
            fh.readline()  # drop the partial first line
        data = fh.read()
    return data.decode("utf-8", errors="replace")


def redact_text(text: str) -> str:
    return "\n".join(redact(line) for line in text.split("\n"))


def log_files(cfg) -> list[Path]:
    """The configured log file and its rotations (kiosk.log, kiosk.log.1 …)."""
    file = cfg["logging"].get("file")
    if not file:
        return []
    base = Path(file)
    if not base.parent.is_dir():
        return []
    return sorted(p for p in base.parent.glob(base.name + "*") if p.is_file())


def apdu_files(cfg) -> list[Path]:
    """APDU logs under the data folder, and the card reader's own log folder
    (``[devices.idcard] apdu_log_dir``, normally ``<data_dir>/apdu``) wherever it is."""
    root = Path(cfg["paths"]["data_dir"])
    found: set[Path] = set()
    if root.is_dir():
        for pattern in APDU_GLOBS:
            found.update(p for p in root.glob(pattern) if p.is_file() and "support" not in p.parts)
    own = _apdu_log_dir(cfg)
    if own is not None and own.is_dir():
        found.update(p for p in own.iterdir() if p.is_file())
    return sorted(found)


def _apdu_log_dir(cfg) -> Path | None:
    try:
        folder = cfg["devices.idcard"].get("apdu_log_dir")
    except (KeyError, TypeError):
        return None
    return Path(folder) if folder else None


def _apdu_member(path: Path, cfg) -> str:
    """``apdu/<path under the data folder>``, or ``apdu/log/<name>`` for a log folder elsewhere."""
    try:
        return f"apdu/{path.relative_to(Path(cfg['paths']['data_dir'])).as_posix()}"
    except ValueError:
        return f"apdu/log/{path.name}"


def journal_text(since: str = "-2d") -> str | None:
    if not shutil.which("journalctl"):
        return None
    cmd = ["journalctl", "--no-pager", "-o", "short-iso", "--since", since]
    for unit in JOURNAL_UNITS:
        cmd += ["-u", unit]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace")


def default_path(cfg, now: dt.datetime | None = None) -> Path:
    now = now or clock.now()
    return Path(cfg["paths"]["data_dir"]) / "support" / f"kiosk-{cfg['kiosk']['id']}-{now:%Y%m%d-%H%M%S}.zip"


def build_bundle(cfg, out: str | os.PathLike | None = None, *, results: list[CheckResult] | None = None,
                 maintenance: bool = False, journal: bool = True, services=None) -> Path:
    """Write the support zip and return its path. ``results`` (from run_all) are reused when the
    caller already has them; ``services``: the running app's devices (maintenance screen), asked
    instead of opened, for the checks and the snapshot."""
    from kiosk.diagnostics.runner import run_all

    if results is None:
        results = run_all(cfg, services=services)
    out_path = Path(out) if out else default_path(cfg)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    members: list[str] = []
    created = clock.now().isoformat(timespec="seconds")

    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: str | bytes) -> None:
            zf.writestr(name, data)
            members.append(name)

        put("config.json", _json(redacted_config(cfg)))
        put("diag.json", _json({"overall": worst_state(results).value, "checks": [r.as_dict() for r in results]}))
        version_facts = versions.collect(cfg)
        bundle_facts = next((r.health.facts.get("flow_bundle") for r in results if r.name == "versions"), None)
        if bundle_facts is not None:
            version_facts["flow_bundle"] = bundle_facts
        put("versions.json", _json(version_facts))

        printer = next((r for r in results if r.name == "printer"), None)
        if printer is not None:
            put("printer/status.json", _json({"state": printer.state.value, "detail": printer.health.detail,
                                              "status": printer.health.facts.get("status"),
                                              "facts": printer.health.facts}))

        for path in log_files(cfg):
            put(f"logs/{path.name}", redact_text(_tail_text(path)))
        if journal:
            text = journal_text()
            if text:
                put("logs/journal.txt", redact_text(text))
        for path in apdu_files(cfg):
            put(_apdu_member(path, cfg), redact_text(_tail_text(path)))
        from kiosk.diagnostics.idcard import LAST_APDU_LOG

        if LAST_APDU_LOG:  # the diagnostic test read just made
            put("apdu/diag-test-read.log", redact_text("\n".join(LAST_APDU_LOG) + "\n"))

        if maintenance:
            try:
                from kiosk.diagnostics.camera import grab_frame
                from kiosk.diagnostics.imaging import encode_jpeg

                frame, _ = grab_frame(cfg, getattr(services, "camera", None))
                put("camera/snapshot.jpg", encode_jpeg(frame))
            except Exception as exc:  # the bundle is still useful without the picture
                put("camera/snapshot-error.txt", redact(f"no snapshot: {exc}\n"))

        readme = (
            "Kiosk support bundle\n"
            f"kiosk: {cfg['kiosk']['id']}\ncreated: {created}\nmaintenance mode: {'yes' if maintenance else 'no'}\n\n"
            "config.json          configuration, secrets removed\n"
            "diag.json            `kiosk diag --json` results\n"
            "versions.json        app, flow bundle and library versions\n"
            "printer/status.json  printer status and raw status bytes\n"
            "logs/                kiosk logs and systemd journal, personal data redacted\n"
            "apdu/                card reader APDU logs (the last reads and the test read), personal data redacted\n"
            "camera/              a snapshot, only when made in maintenance mode\n"
        )
        put("README.txt", readme)
        put("manifest.json", _json({"format": 1, "kiosk_id": cfg["kiosk"]["id"], "created_at": created,
                                    "maintenance": maintenance, "members": sorted(members)}))
    os.chmod(tmp, 0o640)
    os.replace(tmp, out_path)
    log.info("support bundle written: %s (%d members)", out_path, len(members))
    return out_path
