"""Disk, memory and temperatures of the kiosk PC itself.

Parsers and thresholds are pure functions; the checks only read /proc and /sys. The roots are
module attributes so tests can point them at a real directory laid out like sysfs.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from common.health import Health, State

PROC_MEMINFO = Path("/proc/meminfo")
THERMAL_ROOT = Path("/sys/class/thermal")

# Why these numbers: the outbox, logs and flow media live on the data disk; below ~1 GiB a day of
# scanned attachments may not fit, below 200 MiB SQLite writes start failing.
DISK_LOW_BYTES = 1 << 30
DISK_CRITICAL_BYTES = 200 << 20
DISK_LOW_FRACTION = 0.05
# The app needs ~200 MB; below 150 MB available the kernel starts reclaiming hard.
MEM_LOW_BYTES = 300 << 20
MEM_CRITICAL_BYTES = 100 << 20
# Fanless kiosk PCs throttle around 90 °C; 80 °C means a blocked vent or a dead fan.
TEMP_HOT_C = 80.0
TEMP_CRITICAL_C = 95.0


def _gib(n: float) -> str:
    return f"{n / (1 << 30):.1f} GiB"


def _existing(path: Path) -> Path:
    """The nearest folder that exists: the data dir may not be created until the first visit."""
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_health(free: int, total: int, where: str) -> Health:
    facts = {"path": where, "free_bytes": free, "total_bytes": total,
             "free_percent": round(100.0 * free / total, 1) if total else 0.0}
    if free < DISK_CRITICAL_BYTES:
        return Health(State.FAILED, f"only {free >> 20} MiB free on {where}",
                      "Free space now: delete old logs (journalctl --vacuum-size=200M), check the outbox is syncing, or replace the disk.", facts)
    if free < DISK_LOW_BYTES or (total and free / total < DISK_LOW_FRACTION):
        return Health(State.NEEDS_ATTENTION, f"{_gib(free)} free of {_gib(total)} on {where}",
                      "Free space soon: check the outbox is syncing (kiosk diag outbox) and remove old logs.", facts)
    return Health(State.OK, f"{_gib(free)} free of {_gib(total)} on {where}", "", facts)


def check_disk(cfg, opts) -> Health:
    where = _existing(Path(cfg["paths"]["data_dir"] or "."))
    usage = shutil.disk_usage(where)
    return disk_health(usage.free, usage.total, str(where))


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo → bytes by field name."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[name.strip()] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1] == "kB" else 1)
    return out


def memory_health(info: dict[str, int]) -> Health:
    total = info.get("MemTotal", 0)
    avail = info.get("MemAvailable", info.get("MemFree", 0))
    facts = {"total_bytes": total, "available_bytes": avail,
             "swap_free_bytes": info.get("SwapFree", 0)}
    detail = f"{avail >> 20} MiB available of {total >> 20} MiB"
    if avail < MEM_CRITICAL_BYTES:
        return Health(State.FAILED, detail, "Restart the kiosk (systemctl restart kiosk); if it recurs, send a support bundle.", facts)
    if avail < MEM_LOW_BYTES:
        return Health(State.NEEDS_ATTENTION, detail, "Close anything else running on the kiosk PC; consider more RAM (4 GiB recommended).", facts)
    return Health(State.OK, detail, "", facts)


def check_memory(cfg, opts) -> Health:
    return memory_health(parse_meminfo(PROC_MEMINFO.read_text()))


def read_thermal(root: Path) -> list[tuple[str, float]]:
    """(zone type, °C) for each /sys/class/thermal/thermal_zone*; unreadable zones are skipped."""
    zones = []
    for zone in sorted(root.glob("thermal_zone*")):
        try:
            millideg = int((zone / "temp").read_text().strip())
        except (OSError, ValueError):
            continue
        try:
            kind = (zone / "type").read_text().strip() or zone.name
        except OSError:
            kind = zone.name
        zones.append((f"{zone.name}:{kind}", millideg / 1000.0))
    return zones


def temperature_health(zones: list[tuple[str, float]]) -> Health:
    if not zones:
        return Health(State.OK, "no temperature sensors exposed in /sys/class/thermal (nothing to check)", "", {"zones": {}})
    facts = {"zones": {name: round(c, 1) for name, c in zones}}
    name, hottest = max(zones, key=lambda z: z[1])
    detail = f"hottest {name} at {hottest:.0f} °C"
    if hottest >= TEMP_CRITICAL_C:
        return Health(State.FAILED, detail, "Switch the kiosk off, clear the vents and check the fan before restarting.", facts)
    if hottest >= TEMP_HOT_C:
        return Health(State.NEEDS_ATTENTION, detail, "Clear dust from the vents and check the fan; keep the kiosk out of direct sun.", facts)
    return Health(State.OK, detail, "", facts)


def check_temperature(cfg, opts) -> Health:
    return temperature_health(read_thermal(THERMAL_ROOT) if os.path.isdir(THERMAL_ROOT) else [])
