"""Disk, memory and temperature checks: pure thresholds, and the checks on real files."""
from __future__ import annotations

from pathlib import Path

from common.health import State
from kiosk.diagnostics import host, run


def test_disk_thresholds():
    gib = 1 << 30
    assert host.disk_health(50 * gib, 100 * gib, "/").state is State.OK
    low = host.disk_health(gib // 2, 100 * gib, "/var/lib/kiosk")
    assert low.state is State.NEEDS_ATTENTION and "outbox" in low.action
    assert host.disk_health(100 << 20, 100 * gib, "/").state is State.FAILED


def test_disk_check_uses_nearest_existing_folder_of_data_dir(make_cfg, tmp_path):
    r = run(make_cfg(), "disk")  # var/ does not exist yet
    assert r.state in (State.OK, State.NEEDS_ATTENTION, State.FAILED)
    assert Path(r.health.facts["path"]) == tmp_path
    assert r.health.facts["total_bytes"] > 0


MEMINFO = """MemTotal:        4028404 kB
MemFree:          201312 kB
MemAvailable:    2013144 kB
SwapFree:              0 kB
HugePages_Total:       0
"""


def test_meminfo_parse_and_thresholds():
    info = host.parse_meminfo(MEMINFO)
    assert info["MemAvailable"] == 2013144 * 1024 and info["HugePages_Total"] == 0
    assert host.memory_health(info).state is State.OK
    assert host.memory_health({"MemTotal": 4 << 30, "MemAvailable": 200 << 20}).state is State.NEEDS_ATTENTION
    assert host.memory_health({"MemTotal": 4 << 30, "MemAvailable": 50 << 20}).state is State.FAILED


def test_memory_check_reads_proc(make_cfg):
    r = run(make_cfg(), "memory")
    assert r.health.facts["total_bytes"] > 0 and r.state is not State.FAILED


def _zone(root: Path, n: int, kind: str, millideg: str):
    z = root / f"thermal_zone{n}"
    z.mkdir(parents=True)
    (z / "type").write_text(kind + "\n")
    (z / "temp").write_text(millideg + "\n")


def test_temperatures_from_a_sysfs_tree(make_cfg, tmp_path, monkeypatch):
    root = tmp_path / "thermal"
    _zone(root, 0, "acpitz", "45000")
    _zone(root, 1, "x86_pkg_temp", "83500")
    _zone(root, 2, "broken", "n/a")  # unreadable zones are skipped, not fatal
    monkeypatch.setattr(host, "THERMAL_ROOT", root)
    r = run(make_cfg(), "temperature")
    assert r.state is State.NEEDS_ATTENTION
    assert r.health.facts["zones"] == {"thermal_zone0:acpitz": 45.0, "thermal_zone1:x86_pkg_temp": 83.5}
    assert "vents" in r.health.action
    (root / "thermal_zone1" / "temp").write_text("97000\n")
    assert run(make_cfg(), "temperature").state is State.FAILED
    (root / "thermal_zone1" / "temp").write_text("52000\n")
    assert run(make_cfg(), "temperature").state is State.OK


def test_no_thermal_zones_is_ok_and_says_so(make_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(host, "THERMAL_ROOT", tmp_path / "none")
    r = run(make_cfg(), "temperature")
    assert r.state is State.OK and "no temperature sensors" in r.health.detail
