"""Chip ID card reader: the reader list, the card's ATR and a test read.

The test read proves the whole chain (PC/SC, secure messaging, passive authentication) but only
its outcome is reported: access control used, check results and how many fields were read, never
a field's value. On the simulated backend it reads the simulated citizen's card; on a real reader
it needs a technician's test card and its CAN (`kiosk diag idcard --can 123456`).
"""
from __future__ import annotations

from devices.health import Health, State
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import need

# CAN of the simulated citizen (last 6 digits of ID 001185012345, docs/architecture.md): public test data.
SIM_TEST_CAN = "012345"


def pcsc_readers() -> list[str]:
    """Reader names straight from pcscd, independent of our driver: what `pcsc_scan` would show."""
    try:
        from smartcard.System import readers
    except ImportError as exc:
        raise RuntimeError(f"pyscard is not installed: {exc}") from None
    return [str(r) for r in readers()]


def _atr(reader) -> str | None:
    for name in ("atr", "get_atr"):
        value = getattr(reader, name, None)
        if callable(value):
            value = value()
        if value:
            return plain(value) if not isinstance(value, str) else value
    return None


def check(cfg, opts) -> Health:
    section = dict(cfg["devices.idcard"])
    facts: dict = {"backend": section.get("backend")}
    if section.get("backend") == "pcsc":
        try:
            facts["readers"] = pcsc_readers()
        except Exception as exc:
            return Health(State.FAILED, f"cannot talk to pcscd: {exc}",
                          "Start the smart card service: sudo systemctl restart pcscd.socket pcscd; "
                          "then run `kiosk diag idcard` again.", facts), "Đầu đọc thẻ không hoạt động"
        wanted = section.get("reader") or ""
        if not [r for r in facts["readers"] if wanted in r]:
            seen = ", ".join(facts["readers"]) or "none"
            return Health(State.NEEDS_ATTENTION, f"no card reader{' matching ' + repr(wanted) if wanted else ''} is plugged in (readers seen: {seen})",
                          "Plug the card reader in (try another USB port); `pcsc_scan` must list it. If it lists another "
                          "name, fix [devices.idcard] reader in /etc/kiosk/kiosk.toml.", facts), "Chưa cắm đầu đọc thẻ"

    open_reader = need("devices.idcard", "open_reader")
    reader = open_reader(section)
    try:
        if hasattr(reader, "open"):
            reader.open()
        if "readers" not in facts and callable(getattr(reader, "readers", None)):
            facts["readers"] = [str(r) for r in reader.readers()]
        health: Health = reader.health()
        facts.update(plain(health.facts))
        if health.state in (State.FAILED, State.NEEDS_ATTENTION):
            return Health(health.state, health.detail, health.action, facts), (
                "Chưa cắm đầu đọc thẻ" if health.state is State.NEEDS_ATTENTION else "Đầu đọc thẻ không hoạt động")
        present = reader.card_present() if hasattr(reader, "card_present") else None
        facts["card_present"] = present
        if present:
            atr = _atr(reader)
            if atr:
                facts["atr"] = atr
        can = opts.can or (SIM_TEST_CAN if section.get("backend") == "sim" else "")
        if not present:
            return Health(State.NOT_READY if health.state is State.OK else health.state,
                          "reader ready, no card on it" + ("" if not can else "; test read skipped"),
                          "Put a test card on the reader for a test read (kiosk diag idcard --can CAN)." if section.get("backend") != "sim" else "",
                          facts)
        if not can:
            return Health(health.state, "reader ready, card present; test read skipped (no --can given)",
                          "", facts)
        return _test_read(reader, can, health, facts)
    finally:
        if hasattr(reader, "close"):
            try:
                reader.close()
            except Exception:  # an unplugged reader cannot be closed cleanly; nothing to do
                pass


def _test_read(reader, can: str, health: Health, facts: dict) -> Health | tuple[Health, str]:
    AccessKey = need("devices.idcard", "AccessKey")
    try:
        got = reader.read(AccessKey.from_can(can), groups=("DG1", "DG13"))
    except Exception as exc:
        reason = getattr(exc, "message_en", None) or str(exc)
        return Health(State.NEEDS_ATTENTION, f"test read failed: {reason}",
                      "Check the CAN of the test card; clean the card and put it flat on the reader; "
                      "if every card fails, replace the reader.", facts), "Đọc thử thẻ không thành công"
    person = getattr(got, "person", None)
    missing = list(getattr(person, "missing", []) or [])
    checks = plain(getattr(got, "checks", {}) or {})
    facts["test_read"] = {
        "access_control": getattr(got, "access_control", None),
        "checks": {k: (v.get("state") or v.get("status") or v) if isinstance(v, dict) else v for k, v in checks.items()} if isinstance(checks, dict) else checks,
        "missing_fields": len(missing),
    }
    return Health(State.OK, f"test read ok ({facts['test_read']['access_control'] or 'access control unknown'})", "", facts)
