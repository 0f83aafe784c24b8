"""The reader against the in-process virtual card (a real APDU-level implementation, not a mock),
a scripted replay of a full session, and the negative cases."""
from __future__ import annotations

import io
import threading
from datetime import date

import pytest

from devices.idcard import AccessKey, open_reader
from devices.idcard.errors import (Cancelled, CardError, CardRemoved, CardTimeout, NoCard, SecureMessagingError,
                                   UnsupportedCard, WrongKey)
from common.health import State
from devices.idcard.reader import CardReader
from devices.idcard.transport import RecordingTransport, ReplayTransport, VirtualCardTransport
from devices.idcard.vcard.datasets import DATASETS

from _idcard_helpers import TRUST, make_rng

QR_ANH = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
          "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")


def sim(dataset="default", **kw):
    return open_reader({"backend": "sim", "dataset": dataset, "trust_store": TRUST, **kw})


def qr_of(name):
    c = DATASETS[name].citizen
    return f"{c.id_number}|{c.old_id}|{c.full_name}|{c.birth:%d%m%Y}|{c.sex}|{c.residence}|{c.issued:%d%m%Y}"


def test_default_card_with_can_gives_the_simulated_citizen_and_all_checks_ok():
    reader = sim()
    steps = []
    r = reader.read(AccessKey.from_can("012345"), progress=lambda f, label: steps.append((f, label)))
    p = r.person
    assert r.access_control == "PACE"
    assert (p.id_number, p.full_name, p.date_of_birth, p.sex) == ("001185012345", "Trần Thị Ngọc Ánh", date(1985, 5, 12), "Nữ")
    assert p.residence == "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội"
    assert (p.issue_date, p.expiry_date, p.old_id_number) == (date(2023, 6, 15), date(2045, 5, 12), "012345678")
    assert (p.father_name, p.mother_name, p.ethnicity, p.religion) == ("Trần Văn Bình", "Lê Thị Hoa", "Kinh", "Không")
    assert p.missing == [] and p.spouse_name == "Lê Minh Tuấn"
    assert {k: r.checks[k].status for k in ("hashes", "signature", "chain", "validity")} == dict.fromkeys(
        ("hashes", "signature", "chain", "validity"), "ok")
    assert r.clone_check.status == "ok" and r.verified
    assert r.checks["chip_authentication"].status == "ok"
    assert r.photo_jpeg is None                       # DG2 only when asked for
    assert steps[0][0] == 0.0 and steps[-1][0] == 1.0
    assert all(a[0] <= b[0] for a, b in zip(steps, steps[1:]))
    assert all(label for _, label in steps)
    # the APDU log holds no personal data
    log = "\n".join(r.apdu_log)
    assert "001185012345" not in log and "Ánh" not in log and "READ BINARY" in log


def test_photo_is_read_only_when_asked_and_decodes():
    from PIL import Image
    r = sim().read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    assert r.photo_mime == "image/jpeg"
    assert Image.open(io.BytesIO(r.photo_jpeg)).size == (240, 320)
    assert r.checks["hashes"].status == "ok" and "DG2" in r.groups


def test_qr_payload_unlocks_with_pace_can():
    r = sim().read(AccessKey.from_qr(QR_ANH))
    assert r.access_control == "PACE" and r.verified


def test_old_card_falls_back_to_bac_with_the_key_derived_from_the_qr():
    key = AccessKey.from_qr(qr_of("old2021"))
    r = sim("old2021").read(key, groups=("DG1", "DG2", "DG13"))
    assert r.access_control == "BAC" and r.verified
    assert r.person.spouse_name == "Võ Thị Mai" and r.person.expiry_date == date(2030, 3, 20)
    assert r.stats["block"] == 224                    # extended refused; 256 cannot fit a 3DES SM answer


def test_old_card_with_only_a_can_is_unsupported_with_a_vietnamese_message():
    with pytest.raises(UnsupportedCard) as exc:
        sim("old2021").read(AccessKey.from_can("001234"))
    assert "không được hỗ trợ" in exc.value.message_vi


def test_mrz_key_uses_pace_with_the_mrz_password_when_offered():
    c = DATASETS["default"].citizen
    key = AccessKey.from_mrz("001185012345", c.birth, c.expiry)
    r = sim().read(key)
    assert r.access_control == "PACE"                 # PACE with the MRZ password works too
    assert r.verified


def test_new_2024_card_reports_unreadable_and_absent_fields_and_negotiates_block_size():
    r = sim("new2024").read(AccessKey.from_can("004567"))
    assert r.access_control == "PACE" and r.verified
    assert r.person.unreadable == ["home_town", "residence"]
    assert {"religion", "home_town", "residence", "spouse_name"} <= set(r.person.missing)
    assert r.stats["block"] == 192                    # AES SM: 256 and 224 answers exceed a short APDU


def test_missing_fields_and_no_expiry():
    r = sim("missing").read(AccessKey.from_can("007890"))
    assert {"religion", "home_town", "father_name", "mother_name", "old_id_number"} <= set(r.person.missing)
    assert r.verified
    r = sim("noexpiry").read(AccessKey.from_qr(qr_of("noexpiry")))
    assert r.person.no_expiry and r.person.expiry_date is None and "expiry_date" not in r.person.missing


def test_noexpiry_card_bac_key_from_qr_matches_the_chip():
    # the BAC key rebuilt from the QR (no expiry) must open the chip on its own
    key = AccessKey.from_qr(qr_of("noexpiry"))
    assert key.mrz_info.endswith("<<<<<<0")
    reader = sim("noexpiry")
    from devices.idcard.reader import AccessKey as AK
    r = reader.read(AK(mrz_info=key.mrz_info))
    assert r.access_control == "PACE" and r.verified


def test_tampered_dg13_is_a_failed_hash_check_not_success():
    r = sim("tampered").read(AccessKey.from_can("012345"))
    assert r.checks["hashes"].status == "failed" and "DG13" in r.checks["hashes"].detail
    assert not r.verified


def test_cloned_chip_fails_active_authentication():
    r = sim("cloned").read(AccessKey.from_can("012345"))
    assert r.checks["hashes"].status == "ok"          # the copied files are genuine …
    assert r.clone_check.status == "failed"           # … but the chip lacks the private keys
    assert r.checks["active_authentication"].status == "failed"
    assert r.checks["chip_authentication"].status == "failed" and "clone" in r.checks["chip_authentication"].detail
    assert not r.verified


def test_empty_trust_store_is_not_checked_not_ok(tmp_path):
    r = open_reader({"backend": "sim", "dataset": "default", "trust_store": str(tmp_path)}).read(AccessKey.from_can("012345"))
    assert r.checks["chain"].status == "not_checked" and not r.verified


def test_wrong_can_is_wrong_key_with_vietnamese_message():
    with pytest.raises(WrongKey) as exc:
        sim().read(AccessKey.from_can("999999"))
    assert "không đúng" in exc.value.message_vi and exc.value.message_en


def test_wrong_bac_key_is_wrong_key():
    with pytest.raises(WrongKey):
        sim("old2021").read(AccessKey.from_mrz("090001234", date(1990, 3, 21), date(2030, 3, 20)))


@pytest.mark.parametrize("bad", ["12345", "abcdef", "", "1234567"])
def test_malformed_can_is_a_typed_error(bad):
    with pytest.raises(CardError) as exc:
        AccessKey.from_can(bad)
    assert exc.value.message_vi


def test_sim_insert_remove_and_no_card():
    reader = sim()
    assert reader.card_present()
    reader.sim_remove()
    assert not reader.card_present()
    with pytest.raises(NoCard) as exc:
        reader.read(AccessKey.from_can("012345"))
    assert "đặt thẻ" in exc.value.message_vi
    events = []
    stop = reader.watch(lambda: events.append("in"), lambda: events.append("out"))
    reader.sim_insert("missing")
    reader.sim_remove()
    stop()
    reader.sim_insert("missing")
    assert events == ["in", "out"]
    assert reader.read(AccessKey.from_can("007890")).person.id_number == "031088007890"
    assert reader.health().state is State.OK


def test_card_pulled_mid_read():
    transport = VirtualCardTransport("default")
    reader = CardReader(transport, trust_store=TRUST)
    transport.remove_after = 12                       # after PACE, during the file reads
    with pytest.raises(CardRemoved) as exc:
        reader.read(AccessKey.from_can("012345"))
    assert "nhấc ra" in exc.value.message_vi


def test_cancel_and_timeout():
    ev = threading.Event()
    reader = sim()
    calls = []

    def progress(f, label):
        calls.append(f)
        if f >= 0.2:
            ev.set()

    with pytest.raises(Cancelled):
        reader.read(AccessKey.from_can("012345"), progress=progress, cancel=ev)
    slow = sim(latency_ms=20)
    with pytest.raises(CardTimeout):
        slow.read(AccessKey.from_can("012345"), timeout_s=0.1)


class Tamper:
    """Wraps the virtual card transport and corrupts the Nth answer (a hostile or broken channel)."""

    def __init__(self, inner, index, how):
        self.inner, self.index, self.how, self.n = inner, index, how, 0

    def connect(self):
        self.inner.connect()

    def card_present(self):
        return True

    def close(self):
        self.inner.close()

    def transmit(self, apdu):
        resp = self.inner.transmit(apdu)
        self.n += 1
        return self.how(resp) if self.n == self.index else resp


@pytest.mark.parametrize("how", [
    lambda r: r[:-12] + bytes([r[-12] ^ 1]) + r[-11:],        # flipped MAC byte
    lambda r: r[:3] + bytes([r[3] ^ 0x55]) + r[4:],             # flipped cryptogram byte
    lambda r: r[:len(r) // 2],                                  # truncated
    lambda r: b"\x99\x02" + r[2:],                             # garbled structure
    lambda r: b"\x90\x00",                                      # plain success inside a session
], ids=["mac", "cryptogram", "truncated", "garbled", "unprotected"])
def test_tampered_or_broken_protected_answers_are_refused(how):
    reader = CardReader(Tamper(VirtualCardTransport("default"), 12, how), trust_store=TRUST)
    with pytest.raises((SecureMessagingError, CardError)) as exc:
        reader.read(AccessKey.from_can("012345"))
    assert exc.value.message_vi
    assert not isinstance(exc.value, WrongKey)


def test_status_words_6982_6a82_6700():
    from devices.idcard.session import ChipSession
    from devices.idcard.errors import StatusError
    t = VirtualCardTransport("default")
    t.connect()
    s = ChipSession(t)
    with pytest.raises(StatusError) as exc:      # data group without secure messaging
        s.exchange(__import__("devices.idcard.apdu", fromlist=["x"]).select_aid())
        s.select(0x0101)
    assert exc.value.sw == 0x6982
    assert s.select(0x0110) is False              # 6A82: DG16 does not exist
    from devices.idcard.apdu import Command
    assert s.exchange(Command(0x00, 0x84, 0, 0, b"", 16)).sw == 0x6700
    assert s.exchange(Command(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")).sw == 0x6D00   # no SELECT MF on a CCCD


def test_full_handshake_replays_byte_for_byte_with_injected_randomness():
    """Record a whole read with deterministic card and reader randomness, then replay the script:
    the reader must send exactly the same APDUs and reach the same result."""
    rec = RecordingTransport(VirtualCardTransport("default", rng=make_rng("card")))
    first = CardReader(rec, trust_store=TRUST, rng=make_rng("reader")).read(AccessKey.from_can("012345"))
    replay = ReplayTransport(rec.exchanges)
    second = CardReader(replay, trust_store=TRUST, rng=make_rng("reader")).read(AccessKey.from_can("012345"))
    assert replay.script == [] and [c for c, _ in rec.exchanges] == replay.sent
    assert second.person == first.person and second.checks_summary() == first.checks_summary()
    # a different reader nonce diverges at the first randomised command
    with pytest.raises(AssertionError):
        CardReader(ReplayTransport(rec.exchanges), trust_store=TRUST, rng=make_rng("other")).read(AccessKey.from_can("012345"))


def test_apdu_count_is_the_minimum_for_the_negotiated_block_size():
    import math
    for name, key in (("default", "012345"), ("new2024", "004567")):
        r = sim(name).read(AccessKey.from_can(key), groups=("DG1", "DG2", "DG13"))
        block = r.stats["block"]
        files = r.stats["file_sizes"]
        minimum = sum(1 + math.ceil(size / block) for size in files.values())
        access = 1 + 1 + 5 + 1 + 1 + 3                # SELECT+READ CardAccess, PACE (5), SELECT AID, AA, CA (2 + check)
        probing = {65536: 0, 192: 1}[block]           # extended refused once per session; 256/224 cannot fit
        assert r.stats["apdus"] == minimum + access + probing, (name, r.stats)


def test_health_reports_empty_trust_store(tmp_path):
    reader = open_reader({"backend": "sim", "dataset": "default", "trust_store": str(tmp_path)})
    assert reader.health().state is State.NOT_READY  # built, not opened: the trust store is not loaded yet
    reader.open()
    h = reader.health()
    assert h.state is State.NEEDS_ATTENTION and "trust store" in h.detail


def test_pace_failure_falls_back_to_bac():
    from devices.idcard.reader import AccessKey as AK
    good = AccessKey.from_qr(QR_ANH)
    r = sim().read(AK(can="999999", mrz_info=good.mrz_info))
    assert r.access_control == "BAC" and r.verified


def test_block_size_steps_down_on_6700_and_keeps_what_worked(monkeypatch):
    from dataclasses import replace
    monkeypatch.setitem(DATASETS, "small-buffer", replace(DATASETS["default"], name="small-buffer",
                                                          extended_length=False, max_le=150))
    r = sim("small-buffer").read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    assert r.stats["block"] == 128 and r.verified
    refused = [line for line in r.apdu_log if "SM READ BINARY" in line and "SW=6700" in line]
    assert len(refused) == 3                          # extended, 192, 160 — once per session, not per file


def test_require_verified_raises_a_typed_error_carrying_the_read():
    from devices.idcard.errors import VerificationFailed
    with pytest.raises(VerificationFailed) as exc:
        sim("tampered").read(AccessKey.from_can("012345"), require_verified=True)
    assert "hashes" in exc.value.detail and exc.value.result.checks["hashes"].status == "failed"
    assert "kiểm tra an toàn" in exc.value.message_vi
    assert sim().read(AccessKey.from_can("012345"), require_verified=True).verified


def test_garbled_and_altered_data_group_is_a_verification_failure(monkeypatch):
    from devices.idcard.errors import VerificationFailed
    from devices.idcard.vcard import datasets
    files = datasets.build_files("default")
    broken = dict(files.files)
    broken[0x010D] = b"\x6D\x03\x30\x01\x02"          # DG13 garbled after signing
    monkeypatch.setattr(datasets, "build_files", lambda name: datasets.CardFiles(broken, files.aa_key_seed,
                                                                                  files.mrz_info_key, files.can))
    import devices.idcard.vcard.card as card_mod
    monkeypatch.setattr(card_mod, "build_files", datasets.build_files)
    with pytest.raises(VerificationFailed):
        sim().read(AccessKey.from_can("012345"))


def test_file_shorter_than_its_header_is_a_typed_error(monkeypatch):
    from devices.idcard.vcard import datasets
    import devices.idcard.vcard.card as card_mod
    files = datasets.build_files("default")
    broken = dict(files.files)
    broken[0x010D] = files.files[0x010D][:100]
    monkeypatch.setattr(card_mod, "build_files", lambda name: datasets.CardFiles(
        broken, files.aa_key_seed, files.mrz_info_key, files.can))
    reader = open_reader({"backend": "sim", "dataset": "default", "trust_store": TRUST},)
    reader.read_sizes = (64,)
    with pytest.raises(UnsupportedCard) as exc:
        reader.read(AccessKey.from_can("012345"))
    assert "shorter" in exc.value.detail


from hypothesis import given, settings, strategies as st  # noqa: E402


@given(index=st.integers(1, 24), junk=st.binary(max_size=80))
@settings(max_examples=60, deadline=None)
def test_any_garbage_answer_gives_a_typed_error_or_a_read(index, junk):
    """Whatever a broken chip or reader answers at any step, the caller gets a CardError (with a
    Vietnamese message) or a result, never another exception."""
    reader = CardReader(Tamper(VirtualCardTransport("default"), index, lambda r: junk), trust_store=TRUST)
    try:
        r = reader.read(AccessKey.from_can("012345"))
    except CardError as exc:
        assert exc.message_vi
    else:
        assert r.access_control in ("PACE", "BAC")
