"""The PC/SC path for real: pcscd (started by the fixture) + the vsmartcard vpcd driver + pyscard,
with our virtual card connected to vpcd over TCP."""
from __future__ import annotations

import json
import threading
import time

import pytest

from devices.idcard import AccessKey, open_reader
from devices.idcard.errors import NoCard, ReaderUnavailable, WrongKey
from devices.idcard.pcsc import PcscTransport, list_readers
from _idcard_helpers import TRUST, VPCD_READER

pytestmark = pytest.mark.pcscd


def pcsc_reader():
    return open_reader({"backend": "pcsc", "reader": VPCD_READER, "trust_store": TRUST})


def test_read_through_pcscd_all_checks_ok(vpcd_card):
    vpcd_card("default")
    reader = pcsc_reader()
    try:
        r = reader.read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
        assert r.access_control == "PACE" and r.verified
        assert r.person.full_name == "Trần Thị Ngọc Ánh" and r.photo_jpeg[:3] == b"\xff\xd8\xff"
        assert r.stats["block"] == 65536            # pcscd + vpcd carry extended-length APDUs
        assert reader.health().ok
    finally:
        reader.close()


def test_bac_card_with_short_apdus_through_pcscd(vpcd_card):
    vpcd_card("old2021")
    reader = pcsc_reader()
    try:
        from devices.idcard.vcard.datasets import DATASETS
        c = DATASETS["old2021"].citizen
        r = reader.read(AccessKey.from_mrz(c.id_number, c.birth, c.expiry))
        assert r.access_control == "BAC" and r.verified and r.stats["block"] == 224
        with pytest.raises(WrongKey):
            reader.read(AccessKey.from_mrz(c.id_number, c.birth, date_shift(c.expiry)))
    finally:
        reader.close()


def date_shift(d):
    return d.replace(day=1 if d.day != 1 else 2)


def test_no_card_unknown_reader_and_card_events(vpcd_card):
    assert VPCD_READER in list_readers()
    t = PcscTransport(VPCD_READER)
    assert not t.card_present()
    with pytest.raises(NoCard):
        t.connect()
    with pytest.raises(ReaderUnavailable):
        PcscTransport("No Such Reader 42").connect()
    inserted, removed = threading.Event(), threading.Event()
    stop = t.watch(inserted.set, removed.set)
    try:
        card = vpcd_card("default")
        assert inserted.wait(10)
        assert t.card_present()
        card.stop()
        assert removed.wait(10)
    finally:
        stop()
        t.close()


def test_card_lifted_mid_read_through_pcscd(vpcd_card):
    from devices.idcard.errors import CardRemoved, CardError
    card = vpcd_card("default", latency_s=0.01)
    reader = pcsc_reader()

    def lift(f, label):
        if f >= 0.2:
            card.stop()

    try:
        with pytest.raises(CardError) as exc:
            reader.read(AccessKey.from_can("012345"), progress=lift)
        assert isinstance(exc.value, (CardRemoved, NoCard, ReaderUnavailable))
        assert exc.value.message_vi
    finally:
        reader.close()


def test_cli_read_against_pcscd(vpcd_card, pcsc_config, capsys):
    from kiosk.tools.cli import main
    vpcd_card("default")
    assert main(["--config", str(pcsc_config), "idcard", "read", "--can", "012345"]) == 0
    out = capsys.readouterr().out
    assert "Trần Thị Ngọc Ánh" in out and "PACE" in out and "HỢP LỆ" in out
    assert "Số 12 ngõ 34 phố Đội Cấn" in out
    assert main(["--config", str(pcsc_config), "idcard", "readers"]) == 0
    assert f"{VPCD_READER}: card present" in capsys.readouterr().out


def test_cli_tampered_and_cloned_through_pcscd_fail(vpcd_card, pcsc_config, capsys):
    from kiosk.tools.cli import main
    for name, failed in (("tampered", "hashes"), ("cloned", "active_authentication")):
        card = vpcd_card(name)
        assert main(["--config", str(pcsc_config), "idcard", "read", "--can", "012345", "--json"]) == 3
        out = json.loads(capsys.readouterr().out)
        assert out["result"] == "checks_failed" and out["checks"][failed]["status"] == "failed"
        card.stop()
        deadline = time.monotonic() + 10
        while PcscTransport(VPCD_READER).card_present() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_quirks_entry_for_the_virtual_pcd_sets_the_read_size_through_pcscd(vpcd_card, tmp_path):
    """A technician's quirks entry for 'Virtual PCD' with a small chunk: more, smaller READ BINARYs,
    the same card; the entry, the sizes and the reader show in the stats and in the APDU log file."""
    vpcd_card("default")
    quirks = tmp_path / "quirks.yaml"
    quirks.write_text("readers:\n  - name: virtual-pcd\n    read_chunk: 64\n    note: rehearsing a small-frame reader\n",
                      encoding="utf-8")
    logs = tmp_path / "apdu"
    usual = pcsc_reader()
    small = open_reader({"backend": "pcsc", "reader": VPCD_READER, "trust_store": TRUST, "quirks_file": str(quirks),
                         "apdu_log_dir": str(logs)})
    try:
        a = usual.read(AccessKey.from_can("012345"))
        b = small.read(AccessKey.from_can("012345"))
    finally:
        usual.close()
        small.close()
    assert a.stats["block"] == 65536 and a.stats["quirks"]["entry"] == "virtual-pcd"
    assert b.stats["block"] == 64 and b.verified and b.person == a.person
    assert b.stats["quirks"]["read_sizes"] == [64] and b.stats["quirks"]["note"] == "rehearsing a small-frame reader"
    assert b.stats["quirks"]["firmware"] is None            # vpcd does not give SCARD_ATTR_VENDOR_IFD_VERSION
    reads = lambda r: [line for line in r.apdu_log if "READ BINARY" in line]  # noqa: E731
    assert len(reads(b)) > 3 * len(reads(a)) and b.stats["apdus"] > a.stats["apdus"]
    (log,) = logs.iterdir()
    text = log.read_text(encoding="utf-8")
    assert f"# reader: {VPCD_READER}" in text and "# quirks: entry virtual-pcd, sizes [64], protocols T1" in text
    assert "# outcome: ok" in text and text.count("READ BINARY") == len(reads(b))
    assert "Ngọc Ánh" not in text and "001185012345" not in text


def test_protocol_order_from_the_inline_key(vpcd_card):
    vpcd_card("default")
    reader = open_reader({"backend": "pcsc", "reader": VPCD_READER, "trust_store": TRUST, "protocols": "T0,T1"})
    try:
        r = reader.read(AccessKey.from_can("012345"))
        assert r.verified and r.stats["quirks"]["protocols"] == ["T0", "T1"]
    finally:
        reader.close()
