"""Chip ID card reader: the reader list, the card's ATR and a test read.

The test read proves the whole chain (PC/SC, access control, secure messaging, passive
authentication) but only its outcome is reported: access control used, check results and how
many fields were read, never a field's value. On the simulated backend it reads the simulated
card; on a real reader it needs a technician's test card and its CAN (`kiosk diag idcard --can
123456`). The (already redacted) APDU log of the last test read is kept for the support bundle
(every read also leaves its log in ``[devices.idcard] apdu_log_dir``).

It also names the reader quirks entry (devices/idcard/readers.yaml, ``quirks_file``) that matched
the reader, with the READ BINARY sizes and protocols it gives; a firmware the table knows to
misbehave (known once a card was read) needs attention.
"""
from __future__ import annotations

from common.health import Health, State
from kiosk.diagnostics.result import Outcome
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import Unavailable, held, need

# The simulated citizen's CAN (last 6 digits of ID 001185012345, docs/architecture.md): public
# test data, also listed by `kiosk idcard datasets`.
SIM_TEST_CAN = "012345"

LAST_APDU_LOG: list[str] = []  # redacted APDU lines of the last test read, for `kiosk diag bundle`

VI_UNPLUGGED = "Chưa cắm đầu đọc thẻ"
VI_FAILED = "Đầu đọc thẻ không hoạt động"


def pcsc_atr(pattern: str) -> str | None:
    """The ATR of the card on the first reader matching ``pattern``, straight from pcscd."""
    from smartcard.System import readers

    for r in readers():
        if pattern.lower() in str(r).lower():
            conn = r.createConnection()
            try:
                conn.connect()
                return bytes(conn.getATR()).hex(" ").upper()
            finally:
                try:
                    conn.disconnect()
                    conn.release()
                except Exception:  # best effort: the card may already be gone
                    pass
    return None


def _sim_atr(reader) -> str | None:
    card = getattr(getattr(reader, "transport", None), "card", None)
    atr = getattr(card, "atr", None)
    return bytes(atr).hex(" ").upper() if atr else None


def quirks_facts(reader, reader_name: str | None) -> dict | None:
    """The quirks the reader uses: of the reader it last connected to (with its firmware), else
    what the table says of ``reader_name``, else those given at build (sim)."""
    transport = getattr(reader, "transport", None)
    q = getattr(transport, "quirks", None)
    if q is not None and reader_name and getattr(transport, "reader_name", None) != reader_name:
        q = None
    quirks_for = getattr(transport, "quirks_for", None)
    if q is None and reader_name and callable(quirks_for):
        q = quirks_for(reader_name, None)
    q = q or getattr(reader, "quirks", None)
    return q.summary() if q is not None and hasattr(q, "summary") else None


def check(cfg, opts) -> Outcome:
    outcome = _check(cfg, opts)
    health, vi = outcome if isinstance(outcome, tuple) else (outcome, None)
    quirks = health.facts.get("quirks")
    if not quirks:
        return outcome
    detail = f"{health.detail} [reader quirks: {quirks['entry']}]"
    if quirks.get("warnings") and health.state in (State.OK, State.NOT_READY):
        return Health(State.NEEDS_ATTENTION, f"{detail}; the reader's firmware is known to misbehave",
                      " ".join(quirks["warnings"]), health.facts), "Đầu đọc thẻ cần được kiểm tra"
    health = Health(health.state, detail, health.action, health.facts)
    return (health, vi) if vi is not None else health


def _check(cfg, opts) -> Outcome:
    section = dict(cfg["devices.idcard"])
    backend = section.get("backend")
    facts: dict = {"backend": backend}
    if backend == "pcsc":
        list_readers = need("devices.idcard.pcsc", "list_readers")
        try:
            facts["readers"] = list_readers()
        except Exception as exc:
            if isinstance(exc, (ImportError, Unavailable)):
                raise
            return Health(State.FAILED, f"cannot talk to pcscd: {getattr(exc, 'detail', None) or exc}",
                          "Start the smart card service: sudo systemctl restart pcscd.socket pcscd; "
                          "then run `kiosk diag idcard` again.", facts), VI_FAILED
        wanted = section.get("reader") or ""
        matching = [r for r in facts["readers"] if wanted.lower() in r.lower()]
        if not matching:
            seen = ", ".join(facts["readers"]) or "none"
            return Health(State.NEEDS_ATTENTION,
                          f"no card reader{' matching ' + repr(wanted) if wanted else ''} is plugged in (readers seen: {seen})",
                          "Plug the card reader in (try another USB port); `pcsc_scan` must list it. If it lists "
                          "another name, fix [devices.idcard] reader in /etc/kiosk/kiosk.toml.", facts), VI_UNPLUGGED
    else:
        facts["readers"] = ["virtual card (simulated)"]
        matching = []

    reader = held(opts, "reader")
    own = reader is None
    try:
        if own:
            reader = need("devices.idcard", "open_reader")(section)
            reader.open()
    except Exception as exc:
        if isinstance(exc, (ImportError, Unavailable)):
            raise
        return Health(State.FAILED, f"cannot open the card reader: {getattr(exc, 'detail', None) or exc}",
                      "Check [devices.idcard] in /etc/kiosk/kiosk.toml (backend, reader, trust_store, quirks_file: "
                      "the file and line named above).", facts), VI_FAILED
    try:
        try:
            facts["quirks"] = plain(quirks_facts(reader, matching[0] if backend == "pcsc" else None))
        except Exception as exc:  # the table was checked when the reader was built; never fail the check on it
            facts["quirks_error"] = str(exc)
        health: Health = reader.health()
        facts.update(plain(health.facts))
        if health.state in (State.FAILED, State.NEEDS_ATTENTION):
            return Health(health.state, health.detail, health.action, facts), (
                VI_UNPLUGGED if "not available" in health.detail else VI_FAILED)
        present = reader.card_present()
        facts["card_present"] = present
        if not present:
            return Health(State.NOT_READY, "reader ready, no card on it",
                          "For a test read put a test card on the reader and run `kiosk diag idcard --can CAN`.",
                          facts)
        try:
            atr = _sim_atr(reader) if backend == "sim" else pcsc_atr(section.get("reader") or "")
        except Exception as exc:  # the ATR is a nice-to-have; the test read below tells more
            atr = None
            facts["atr_error"] = str(exc)
        if atr:
            facts["atr"] = atr
        # the app's reader: a test read only when asked, a citizen may be about to use it
        can = opts.can or (SIM_TEST_CAN if backend == "sim" and own else "")
        if not can:
            return Health(State.OK, "reader ready, card present; no test read (give the card's --can)", "", facts)
        return _test_read(reader, can, facts)
    finally:
        if own:
            reader.close()


def _test_read(reader, can: str, facts: dict) -> Outcome:
    AccessKey = need("devices.idcard", "AccessKey")
    try:
        got = reader.read(AccessKey.from_can(can), groups=("DG1", "DG13"))
    except Exception as exc:
        reason = getattr(exc, "message_en", None) or getattr(exc, "detail", None) or str(exc)
        return Health(State.NEEDS_ATTENTION, f"test read failed: {reason}",
                      "Check the test card's CAN (6 digits printed on the card); put the card flat on the reader "
                      "and keep it still; if every card fails, replace the reader.", facts), "Đọc thử thẻ không thành công"
    LAST_APDU_LOG[:] = list(getattr(got, "apdu_log", []) or [])
    read_quirks = (getattr(got, "stats", {}) or {}).get("quirks")
    if read_quirks:                       # with the firmware, now that a card was connected
        facts["quirks"] = plain(read_quirks)
    summary = got.checks_summary() if hasattr(got, "checks_summary") else {}
    facts["test_read"] = {
        "access_control": got.access_control,
        "checks": summary,
        "clone_check": getattr(getattr(got, "clone_check", None), "status", None),
        "groups": list(getattr(got, "groups", []) or []),
        "missing_fields": len(getattr(got.person, "missing", []) or []),
        "apdus": (getattr(got, "stats", {}) or {}).get("apdus"),
        "block": (getattr(got, "stats", {}) or {}).get("block"),
    }
    if not getattr(got, "verified", True):
        bad = ", ".join(k for k, v in summary.items() if v != "ok") or "clone check"
        return Health(State.NEEDS_ATTENTION, f"test read done but the chip checks did not all pass ({bad})",
                      "Use a genuine test card; if genuine cards fail the signature chain, update the CSCA "
                      "certificates in [devices.idcard] trust_store.", facts), "Đọc thử thẻ không thành công"
    return Health(State.OK, f"test read ok ({got.access_control}, chip checks passed)", "", facts)
