"""`kiosk central help-calls` as staff run it: list the open calls, acknowledge one by the short ID
the list shows, JSON output, and clear bilingual refusals (never a traceback)."""
import json
import re
import subprocess
import sys
import uuid as uuidlib

import pytest
import requests

from testkit.central import KIOSK_ID, KIOSK_SECRET, start_central


def kiosk(*args, config):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def calls(tmp_path):
    """A central database holding two open calls (the second made later) and a cancelled one."""
    db = str(tmp_path / "central.sqlite3")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[central]\ndatabase = "{db}"\n', encoding="utf-8")
    srv = start_central(db)
    made = []
    try:
        for step, title, lang in (("nguoi-yeu-cau", "Người đi đăng ký", "vi"), ("giay-to", "Giấy tờ", "en"), ("x", "", "vi")):
            # the three share their first four characters: "abcd" is an ambiguous short ID
            body = {"uuid": "abcd" + str(uuidlib.uuid4())[4:], "flow_id": "khai-sinh", "step_id": step, "step_title": title,
                    "screen": "step-form", "language": lang, "waiting_s": 70}
            assert requests.post(f"{srv.url}/api/v1/help-calls", json=body, auth=(KIOSK_ID, KIOSK_SECRET), timeout=10).ok
            made.append(body["uuid"])
        requests.post(f"{srv.url}/api/v1/help-calls/{made[2]}/cancel", auth=(KIOSK_ID, KIOSK_SECRET), timeout=10)
    finally:
        srv.stop()
    return cfg, db, made


def test_lists_the_open_calls_newest_first_with_kiosk_step_and_waiting_time(calls):
    cfg, db, made = calls
    r = kiosk("central", "help-calls", "--database", db, config=cfg)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIOSK", "WAITING"]
    assert [ln[:8] for ln in lines[1:]] == [made[1][:8], made[0][:8]]  # the cancelled one is not listed
    assert KIOSK_ID in lines[1] and "Giấy tờ" in lines[1] and " en " in lines[1] and "1m1" in lines[1]
    j = kiosk("central", "help-calls", "--json", "--database", db, config=cfg)
    data = json.loads(j.stdout)
    assert data["result"] == "ok" and [c["uuid"] for c in data["calls"]] == [made[1], made[0]]
    assert data["calls"][0]["waiting_s"] >= 70
    other = kiosk("central", "help-calls", "--commune", "00007", "--database", db, config=cfg)
    assert other.returncode == 0 and "No help calls" in other.stdout


def test_ack_by_short_id_once_then_a_clear_refusal(calls):
    cfg, db, made = calls
    r = kiosk("central", "help-calls", "--ack", made[0][:8], "--by", "Chị Lan, quầy 2", "--database", db, config=cfg)
    assert r.returncode == 0, r.stderr
    assert "acknowledged" in r.stdout and "Cán bộ đang đến" in r.stdout
    assert re.search(r"confirmation code \d{6} \(until \d\d:\d\d\)", r.stdout), r.stdout   # for the face check's staff path
    listed = kiosk("central", "help-calls", "--json", "--database", db, config=cfg)
    assert [c["uuid"] for c in json.loads(listed.stdout)["calls"]] == [made[1]]
    acked = json.loads(kiosk("central", "help-calls", "--state", "acknowledged", "--json", "--database", db, config=cfg).stdout)
    assert acked["calls"][0]["acknowledged_by"] == "Chị Lan, quầy 2"
    again = kiosk("central", "help-calls", "--ack", made[0], "--database", db, config=cfg)
    assert again.returncode == 1 and "Chị Lan, quầy 2" in again.stderr and "already acknowledged" in again.stderr
    assert "Traceback" not in again.stderr
    cancelled = kiosk("central", "help-calls", "--ack", made[2], "--database", db, config=cfg)
    assert cancelled.returncode == 1 and "hủy" in cancelled.stderr and "cancelled" in cancelled.stderr


def test_unknown_ambiguous_and_malformed_ids_and_options(calls):
    cfg, db, made = calls
    for bad in ("ffffffff", "'; drop table help_calls; --", ""):
        r = kiosk("central", "help-calls", "--ack", bad, "--database", db, config=cfg)
        assert r.returncode == 1 and "no help call has this ID" in r.stderr and "Traceback" not in r.stderr, bad
    r = kiosk("central", "help-calls", "--ack", "abcd", "--database", db, config=cfg)
    assert r.returncode == 1 and "several calls" in r.stderr
    everything = kiosk("central", "help-calls", "--state", "all", "--database", db, config=cfg).stdout
    assert everything.count(" open ") == 2 and "acknowledged" not in everything  # no refused --ack changed a thing
    r = kiosk("central", "help-calls", "--commune", "Ba Đình", "--database", db, config=cfg)
    assert r.returncode == 2 and "5-digit" in r.stderr
    r = kiosk("central", "help-calls", "--ack", made[1][:8], "--by", "x" * 101, "--database", db, config=cfg)
    assert r.returncode == 1 and "at most 100" in r.stderr
    h = kiosk("central", "help-calls", "--help", config=cfg)
    assert h.returncode == 0 and "--ack ID" in h.stdout and "/api/v1/help-calls" in h.stdout


def test_the_doc_names_what_exists():
    """docs/help-calls.md: every endpoint it names is in central/openapi.json with that method,
    every CLI option it names is one `kiosk central help-calls` has, and the texts it quotes are
    the panel's own."""
    import re
    from pathlib import Path

    from kiosk.ui.i18n import STRINGS

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "help-calls.md").read_text(encoding="utf-8")
    spec = json.loads((root / "central" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    named = set(re.findall(r"`(GET|POST) (/api/v1/help-calls[^`?\s]*)", doc))
    served = {(m.upper(), p) for p, ops in spec.items() if p.startswith("/api/v1/help-calls") for m in ops}
    assert named == served, served ^ named          # every help-call endpoint documented, none invented
    for method, path in named:
        assert method.lower() in spec.get(path, {}), (method, path)
    help_text = subprocess.run([sys.executable, "-m", "kiosk", "central", "help-calls", "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    for option in set(re.findall(r"(--[a-z]+)", doc)) - {"--help"}:
        assert option in help_text, option
    for key in ("help_call.calling", "help_call.coming", "help_call.offline", "help_call.cancel", "help_call.close"):
        vi, en = STRINGS[key]
        flat = " ".join(doc.split())  # the doc wraps its lines
        assert vi in flat and en in flat, key
