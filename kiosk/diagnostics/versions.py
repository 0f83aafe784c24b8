"""Versions of the app, the flow bundle and the libraries that talk to hardware.

Read from package metadata, not by importing: importing Kivy here would open a window context on
the maintenance PC and slow `kiosk diag` by seconds.
"""
from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from common.health import Health, State
from kiosk.diagnostics.facts import plain

# (label, distribution names in order of preference)
LIBRARIES = (
    ("kivy", ("Kivy",)),
    ("opencv", ("opencv-python-headless", "opencv-python", "opencv-contrib-python")),
    ("pyscard", ("pyscard",)),
    ("python-escpos", ("python-escpos",)),
    ("pyzbar", ("pyzbar",)),
    ("zxing-cpp", ("zxing-cpp",)),
    ("numpy", ("numpy",)),
    ("pillow", ("Pillow", "pillow")),
    ("cryptography", ("cryptography",)),
)


def _dist_version(names: tuple[str, ...]) -> str | None:
    for n in names:
        try:
            return metadata.version(n)
        except metadata.PackageNotFoundError:
            continue
    return None


def app_version() -> str:
    return _dist_version(("vn-kiosk",)) or "unknown"


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def flow_bundle_status(cfg) -> dict:
    """What flows.bundles.BundleStore reports about the installed bundle (raises on a missing module)."""
    from kiosk.diagnostics.runner import need

    BundleStore = need("flows.bundles", "BundleStore")
    flows = cfg["flows"]
    try:
        store = BundleStore(flows["bundle_dir"], trusted_keys=list(flows.get("trusted_keys") or []))
    except TypeError:
        store = BundleStore(flows["bundle_dir"])
    return plain(store.status())


def current_bundle_id(status) -> str | None:
    if isinstance(status, dict):
        current = status.get("current")
        if isinstance(current, dict):
            return current.get("bundle_id")
        return status.get("bundle_id")
    return None


def _bundle_line(status) -> str:
    if not isinstance(status, dict):
        return "flow bundle unknown"
    bundle = current_bundle_id(status)
    line = f"flow bundle {bundle}" if bundle else "no flow bundle installed (built-in flow definitions)"
    if isinstance(status.get("pending"), dict):
        line += f", {status['pending'].get('bundle_id')} staged (the app switches to it between visits)"
    return line


def collect(cfg) -> dict:
    facts = {"app": app_version(), "python": platform.python_version(), "os": _os_name(),
             "kernel": platform.release()}
    commit = _git_commit()
    if commit:
        facts["git_commit"] = commit
    for label, names in LIBRARIES:
        facts[label] = _dist_version(names)
    return facts


def check(cfg, opts) -> Health:
    facts = collect(cfg)
    missing = [label for label, _ in LIBRARIES[:4] if facts[label] is None]
    try:
        facts["flow_bundle"] = flow_bundle_status(cfg)
        bundle_ok = True
    except Exception as exc:
        facts["flow_bundle"] = str(exc)
        bundle_ok = False
    summary = f"app {facts['app']}, {_bundle_line(facts['flow_bundle'])}, Kivy {facts['kivy']}, OpenCV {facts['opencv']}"
    if missing:
        return Health(State.FAILED, f"missing libraries: {', '.join(missing)}; {summary}",
                      "Reinstall the kiosk software (sudo scripts/install-kiosk.sh).", facts)
    if not bundle_ok:
        return Health(State.FAILED, f"flow bundle status unavailable: {facts['flow_bundle']}; {summary}",
                      "Reinstall the kiosk software (sudo scripts/install-kiosk.sh); then `kiosk flows fetch`.", facts)
    return Health(State.OK, summary, "", facts)
