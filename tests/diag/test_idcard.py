"""Card reader check: the simulated card in-process, and a real pcscd with the vpcd driver and
the project's virtual card (devices.idcard.vcard.vpcd) for present / no card / unplugged."""
from __future__ import annotations

import time

import pytest

from common.health import State
from kiosk.tools.cli import main
from kiosk.diagnostics import Options, run

idcard = pytest.importorskip("devices.idcard")
VPCD_READER = "Virtual PCD 00 00"


def test_sim_reader_test_read_reports_outcome_not_data(make_cfg):
    r = run(make_cfg(), "idcard")
    assert r.state is State.OK, r.health
    f = r.health.facts
    assert f["atr"].startswith("3B") and f["card_present"] is True
    assert f["test_read"]["access_control"] in ("PACE", "BAC")
    assert f["test_read"]["checks"]["signature"] == "ok"
    text = repr(r.as_dict())
    for value in ("001185012345", "Ngọc Ánh", "NGOC", "Đội Cấn", "1985"):
        assert value not in text


def test_sim_tampered_card_needs_attention(make_cfg):
    r = run(make_cfg({"devices.idcard": {"dataset": "tampered"}}), "idcard")
    assert r.state is State.NEEDS_ATTENTION and "chip checks" in r.health.detail


def test_wrong_can_is_a_failed_test_read(make_cfg):
    r = run(make_cfg(), "idcard", Options(can="999999"))
    assert r.state is State.NEEDS_ATTENTION and r.health.detail.startswith("test read failed")
    assert "CAN" in r.health.action


def test_the_matched_quirks_entry_shows_in_the_detail_and_the_facts(make_cfg):
    r = run(make_cfg(), "idcard")
    assert r.state is State.OK and r.health.detail.endswith("[reader quirks: default]")
    q = r.health.facts["quirks"]
    assert q["entry"] == "default" and q["read_sizes"][0] == 65536 and q["protocols"] == ["T1", "T0"]
    assert r.health.facts["test_read"]["block"] == 65536


def test_a_broken_quirks_file_fails_the_check_naming_the_file_and_line(make_cfg, tmp_path):
    bad = tmp_path / "quirks.yaml"
    bad.write_text("readers:\n  - name: desk\n    match: 'Desk'\n    read_chunk: lots\n", encoding="utf-8")
    r = run(make_cfg({"devices.idcard": {"quirks_file": str(bad)}}), "idcard")
    assert r.state is State.FAILED and f"{bad}:4: read_chunk" in r.health.detail
    assert "quirks_file" in r.health.action


def test_known_bad_reader_needs_attention_with_the_note_as_the_action(make_cfg, tmp_path):
    table = tmp_path / "quirks.yaml"
    table.write_text("readers:\n  - name: sim-desk\n    match: '^virtual card'\n    known_bad:\n"
                     "      - match: 'sim'\n        note: 'this reader drops long answers: replace it'\n", encoding="utf-8")
    r = run(make_cfg({"devices.idcard": {"quirks_file": str(table)}}), "idcard")
    assert r.state is State.NEEDS_ATTENTION and "[reader quirks: sim-desk]" in r.health.detail
    assert "known to misbehave" in r.health.detail and r.health.action == "this reader drops long answers: replace it"
    assert r.message_vi == "Đầu đọc thẻ cần được kiểm tra"


def test_empty_trust_store_needs_attention(make_cfg, tmp_path):
    (tmp_path / "empty-csca").mkdir()
    r = run(make_cfg({"devices.idcard": {"trust_store": str(tmp_path / "empty-csca")}}), "idcard")
    assert r.state is State.NEEDS_ATTENTION and "trust store" in r.health.detail


# --- through a real pcscd -------------------------------------------------------------------------
# `pcscd`: the suite-wide session fixture in tests/conftest.py (vpcd's port 35963 is fixed).


def _present() -> bool:
    from devices.idcard.pcsc import PcscTransport

    try:
        return PcscTransport(VPCD_READER).card_present()
    except Exception:
        return False


@pytest.fixture
def vpcd_card(pcscd):
    from devices.idcard.vcard.vpcd import VpcdCard

    card = VpcdCard("default").start()
    deadline = time.monotonic() + 10
    while not _present():
        if time.monotonic() > deadline:
            card.stop()
            pytest.fail("pcscd did not see the virtual card within 10 s")
        time.sleep(0.05)
    yield card
    card.stop()
    deadline = time.monotonic() + 10
    while _present() and time.monotonic() < deadline:
        time.sleep(0.05)


def _pcsc_cfg(make_cfg, reader=VPCD_READER):
    return make_cfg({"devices.idcard": {"backend": "pcsc", "reader": reader}})


@pytest.mark.pcscd
def test_pcsc_card_present_atr_and_test_read(make_cfg, vpcd_card):
    r = run(_pcsc_cfg(make_cfg), "idcard", Options(can="012345"))
    assert r.state is State.OK, r.health
    assert VPCD_READER in r.health.facts["readers"]
    assert r.health.facts["atr"] == "3B 88 80 01 42 41 43 4B 56 4E 30 31 B4"
    assert r.health.facts["test_read"]["checks"]["chain"] == "ok"
    assert r.health.facts["quirks"]["entry"] == "virtual-pcd" and "[reader quirks: virtual-pcd]" in r.health.detail
    assert r.health.facts["quirks"]["reader"] == VPCD_READER and r.health.facts["quirks"]["firmware"] is None
    # without a CAN there is no test read, but the reader and card are fine
    r = run(_pcsc_cfg(make_cfg), "idcard")
    assert r.state is State.OK and "no test read" in r.health.detail
    assert r.health.detail.endswith("[reader quirks: virtual-pcd]")


@pytest.mark.pcscd
def test_pcsc_reader_without_card_is_not_ready(make_cfg, pcscd):
    if _present():
        pytest.skip("another test's virtual card is on the shared vpcd reader")
    r = run(_pcsc_cfg(make_cfg), "idcard")
    assert r.state is State.NOT_READY and "no card" in r.health.detail
    assert r.health.facts["quirks"]["entry"] == "virtual-pcd"      # known from the reader's name alone


@pytest.mark.pcscd
def test_pcsc_reader_unplugged_says_what_to_do_exit_code_3(make_cfg, pcscd, capsys):
    cfg = _pcsc_cfg(make_cfg, reader="ACS ACR1252")
    r = run(cfg, "idcard")
    assert r.state is State.NEEDS_ATTENTION and "no card reader matching" in r.health.detail
    assert "pcsc_scan" in r.health.action and r.message_vi == "Chưa cắm đầu đọc thẻ"
    assert main(["--config", str(cfg.sources[-1]), "diag", "idcard"]) == 3
    assert "Plug the card reader in" in capsys.readouterr().out
