"""Reader quirks as data (devices/idcard/readers.yaml, quirks.py): the built-in table, matching by
the PC/SC reader name, firmware conditions, the technician's file and inline keys, and errors that
name the file and the line; then what a read does with them, against the in-process virtual card."""
from __future__ import annotations

import re

import pytest

from devices.idcard import AccessKey, open_reader
from devices.idcard.quirks import (QuirksError, builtin_table, firmware_from_attrib, firmware_matches, load_table,
                                   parse_protocols, parse_table, resolve)
from devices.idcard.session import EXTENDED

from _idcard_helpers import TRUST

# Reader names as pcsc-lite builds them (CCID driver: friendly name [interface] (serial) slot)
NAMES = {
    "virtual-pcd": "Virtual PCD 00 00",
    "acs-acr122u": "ACS ACR122U PICC Interface 00 00",
    "acs-acr1252": "ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00",
    "acs-acr1552-acr1581": "ACS ACR1552 1S CL Reader [ACR1552 1S CL Reader PICC] 00 00",
    "identiv-utrust-3700f": "Identiv uTrust 3700 F CL Reader [uTrust 3700 F CL Reader] 00 00",
    "identiv-utrust-3720": "Identiv uTrust 3720 Contactless Reader [uTrust 3720 Contactless Reader] 00 00",
    "hid-omnikey-5022": "HID Global OMNIKEY 5022 Smart Card Reader [OMNIKEY 5022 Smart Card Reader] 00 00",
    "hid-omnikey-5422": "HID Global OMNIKEY 5422 Smartcard Reader [OMNIKEY 5422CL Smartcard Reader] 00 00",
    "feitian-r502": "Feitian R502 [R502 Contactless Reader] (12345678) 00 00",
    "scm-scl01x": "SCM Microsystems Inc. SCL010 Contactless Reader [SCL010 Contactless Reader] 00 00",
}


def write(tmp_path, text, name="quirks.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the built-in table ----------------------------------------------------------------------------
def test_builtin_table_every_entry_has_a_pattern_a_source_and_the_default_comes_last():
    table = builtin_table()
    names = [e.name for e in table.entries]
    assert names[-1] == "default" and set(NAMES) <= set(names)
    for e in table.entries:
        assert e.source, e.name
        if e.name != "default":
            assert e.match and e.source.startswith("https://"), e.name
        for bad in e.known_bad:
            assert bad.note and bad.source.startswith("https://") and (bad.firmware or bad.match)


@pytest.mark.parametrize("entry, reader", sorted(NAMES.items()))
def test_each_entry_matches_its_reader_name_and_only_that_entry(entry, reader):
    assert builtin_table().match(reader).name == entry
    assert resolve(builtin_table(), reader).entry == entry


def test_unknown_reader_gets_the_default_ladder_the_reader_always_used():
    q = resolve(builtin_table(), "Some Unknown Reader 00 00")
    assert q.entry == "default"
    assert q.read_sizes == (EXTENDED, 256, 224, 192, 160, 128) and q.protocols == ("T1", "T0")
    assert q.max_response == 258


def test_short_apdu_readers_never_try_extended_length():
    for entry in ("acs-acr122u", "identiv-utrust-3720"):
        q = resolve(builtin_table(), NAMES[entry])
        assert not q.extended_length and EXTENDED not in q.read_sizes, entry
    # the uTrust 3720 carries at most 253 bytes per answer: a 256-byte READ BINARY cannot come back
    assert resolve(builtin_table(), NAMES["identiv-utrust-3720"]).max_response == 253
    assert resolve(builtin_table(), NAMES["acs-acr122u"]).protocols == ("T1",)


def test_known_bad_firmware_warns_only_for_the_firmware_it_names():
    t = builtin_table()
    old = resolve(t, NAMES["acs-acr122u"], "2.05")
    assert old.warnings and "2.06" in old.warnings[0] and "https://" in old.warnings[0]
    assert resolve(t, NAMES["acs-acr122u"], "2.07").warnings == ()
    assert resolve(t, NAMES["acs-acr122u"], None).warnings == ()     # firmware unknown: no guess
    assert resolve(t, NAMES["scm-scl01x"], "1.02").warnings
    # the SCL011 shares the entry, but the firmware note is about the SCL010 only
    scl011 = "SCM Microsystems Inc. SCL01x Contactless Reader [SCL01x Contactless Reader] 00 00"
    assert resolve(t, scl011, "1.02").entry == "scm-scl01x" and resolve(t, scl011, "1.02").warnings == ()


def test_inline_keys_win_over_the_table():
    q = resolve(builtin_table(), NAMES["virtual-pcd"], None,
                {"read_chunk": 200, "read_extended": "no", "protocols": "T0,T1"})
    assert q.read_sizes == (200, 192, 160, 128)      # read_chunk first, then the smaller ladder steps
    assert q.protocols == ("T0", "T1") and len(q.overrides) == 3
    q = resolve(builtin_table(), NAMES["acs-acr122u"], None, {"read_chunk": 0, "read_extended": "yes", "protocols": "auto"})
    assert q.read_sizes[0] == EXTENDED and q.overrides == ("read_extended = 'yes'",)
    # at most N bytes per READ BINARY: no extended-length READ BINARY either, unless N is above 256
    assert resolve(builtin_table(), NAMES["virtual-pcd"], None, {"read_chunk": 128}).read_sizes == (128,)
    assert resolve(builtin_table(), NAMES["virtual-pcd"], None, {"read_chunk": 4096}).read_sizes[:2] == (4096, 256)
    assert resolve(builtin_table(), NAMES["acs-acr122u"], None, {"read_chunk": 4096}).read_sizes[0] == 256


def test_firmware_attribute_and_conditions():
    assert firmware_from_attrib([0x00, 0x00, 0x06, 0x02]) == "2.06"     # CCID: bcdDevice 0x0206 << 16
    assert firmware_from_attrib(bytes([0x07, 0x00, 0x12, 0x01])) == "1.12.7"
    assert firmware_from_attrib([0, 0, 0, 0]) is None and firmware_from_attrib([1, 2]) is None
    assert firmware_from_attrib(None) is None
    assert firmware_matches("< 2.06", "2.05") and not firmware_matches("< 2.06", "2.06")
    assert firmware_matches("<=2.06", "2.06") and firmware_matches(">= 1.12", "1.12.7")
    assert firmware_matches("== 1.0", "1.00.0") and not firmware_matches("> 3", "2.99")
    assert firmware_matches(r"^2\.0[0-5]$", "2.03") and not firmware_matches(r"^2\.0[0-5]$", "2.06")


def test_protocol_text():
    assert parse_protocols("T1,T0") == ("T1", "T0") and parse_protocols("T=0") == ("T0",)
    for bad in ("", "T2", "T1,T1"):
        with pytest.raises(ValueError):
            parse_protocols(bad)


# --- the technician's table ------------------------------------------------------------------------
def test_extra_file_changes_a_builtin_entry_field_by_field_and_new_entries_match_first(tmp_path):
    path = write(tmp_path, """\
readers:
  - name: acs-acr1252
    extended_length: false
  - name: site-reader
    match: 'ACR1252 Dual'
    read_chunk: 128
    note: the desk's reader
""")
    table = load_table(path)
    assert str(path) in table.sources
    q = resolve(table, NAMES["acs-acr1252"])
    assert q.entry == "site-reader" and q.read_sizes == (128,)   # new entries are matched first
    q = resolve(table, "ACS ACR1252 Reader [ACR1252 Reader PICC] 00 00")
    assert q.entry == "acs-acr1252" and not q.extended_length and q.protocols == ("T1",)  # only the field it set
    assert resolve(table, "Other 00 00").entry == "default"


def test_known_bad_workaround_setting_applies(tmp_path):
    path = write(tmp_path, """\
readers:
  - name: desk
    match: 'Desk Reader'
    known_bad:
      - firmware: '< 3.0'
        note: old firmware drops 256-byte answers
        set: {read_chunk: 128, extended_length: false}
""")
    table = load_table(path)
    assert resolve(table, "Desk Reader 00 00", "2.1").read_sizes == (128,)
    assert resolve(table, "Desk Reader 00 00", "3.0").read_sizes[0] == EXTENDED


@pytest.mark.parametrize("text, line, words", [
    ("readers:\n  - name: x\n    match: 'a'\n    read_chunk: [\n", 5, "not valid YAML"),
    ("readers:\n  - name: x\n    match: 'a'\n    read_chunck: 64\n", 4, "unknown field 'read_chunck'"),
    ("readers:\n  - name: x\n    match: 'a'\n    read_chunk: 70000\n", 4, "read_chunk: expected a whole number"),
    ("readers:\n  - name: x\n    match: 'ACR(122'\n", 3, "not a valid regular expression"),
    ("readers:\n  - name: x\n    match: a\n  - name: x\n    match: b\n", 4, "already defined on line 2"),
    ("readers:\n  - name: x\n    match: a\n    protocols: [T1, T2]\n", 4, "protocols: expected"),
    ("readers:\n  - name: x\n    match: a\n    known_bad:\n      - firmware: '< 2'\n", 5, "needs 'note'"),
    ("readers:\n  - name: New Reader\n    match: a\n", 2, "name: expected a-z"),
    ("readers:\n  - name: brand-new\n    read_chunk: 64\n", 2, "needs 'match'"),
    ("readers:\n  - match: a\n", 2, "needs 'name'"),
    ("readers:\n  - name: x\n    match: a\n    extended_length: maybe\n", 4, "extended_length: expected true or false"),
])
def test_a_broken_file_names_the_file_and_the_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(QuirksError) as exc:
        load_table(path)
    assert f"{path}:{line}:" in exc.value.detail and words in exc.value.detail, exc.value.detail
    assert exc.value.code == "bad_quirks_file" and exc.value.message_vi


def test_missing_or_empty_file_is_a_clear_error(tmp_path):
    with pytest.raises(QuirksError, match="not found"):
        load_table(tmp_path / "nope.yaml")
    with pytest.raises(QuirksError, match="empty"):
        load_table(write(tmp_path, ""))


def test_the_default_entry_must_be_complete():
    with pytest.raises(QuirksError, match="default entry must set"):
        from devices.idcard.quirks import _check_complete
        _check_complete(parse_table("readers:\n  - name: default\n    read_chunk: 64\n", "t.yaml"))


def test_a_broken_quirks_file_stops_the_build_with_the_file_and_line(tmp_path):
    path = write(tmp_path, "readers:\n  - name: x\n    match: a\n    ladder: [300]\n")
    for backend in ("pcsc", "sim"):
        with pytest.raises(QuirksError) as exc:
            open_reader({"backend": backend, "quirks_file": str(path)})
        assert f"{path}:4:" in exc.value.detail


# --- what a read does with them (in-process virtual card) --------------------------------------------
def read_lines(r):
    return [line for line in r.apdu_log if re.search(r"\bREAD BINARY\b", line)]


def test_small_chunk_from_a_quirks_entry_means_more_smaller_reads_and_the_same_card(tmp_path):
    path = write(tmp_path, "readers:\n  - name: slow-sim\n    match: '^virtual card'\n    read_chunk: 64\n")
    base = open_reader({"backend": "sim", "trust_store": TRUST}).read(AccessKey.from_can("012345"))
    small = open_reader({"backend": "sim", "trust_store": TRUST, "quirks_file": str(path)}).read(AccessKey.from_can("012345"))
    assert small.stats["block"] == 64 and base.stats["block"] == EXTENDED
    assert small.stats["quirks"]["entry"] == "slow-sim" and base.stats["quirks"]["entry"] == "default"
    assert len(read_lines(small)) > 2 * len(read_lines(base))
    assert all("Le=64" in line or "Le=" not in line or int(re.search(r"Le=(\d+)", line).group(1)) <= 64
               for line in read_lines(small))
    assert small.person == base.person and small.verified


def test_inline_read_chunk_and_extended_keys(tmp_path):
    r = open_reader({"backend": "sim", "trust_store": TRUST, "read_chunk": 100, "read_extended": "no"}).read(
        AccessKey.from_can("012345"))
    assert r.stats["block"] == 100 and r.verified
    assert r.stats["quirks"]["overrides"] == ["read_chunk = 100", "read_extended = 'no'"]
    # above 256 on a reader with extended length: extended-length READ BINARYs of that size
    r = open_reader({"backend": "sim", "trust_store": TRUST, "read_chunk": 300}).read(
        AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    assert r.stats["block"] == 300 and r.verified and r.photo_jpeg
    assert any("Le=300" in line for line in r.apdu_log)


def test_a_small_reader_frame_skips_sizes_without_asking(tmp_path):
    """max_response 253 (uTrust 3720): under AES secure messaging the answers to 256 and 224 do not
    fit, so the session starts at 192 without a single refused READ BINARY."""
    path = write(tmp_path, "readers:\n  - name: small-frame\n    match: '^virtual card'\n    max_response: 253\n"
                           "    extended_length: false\n")
    r = open_reader({"backend": "sim", "trust_store": TRUST, "quirks_file": str(path)}).read(AccessKey.from_can("012345"))
    assert r.stats["block"] == 192 and r.verified
    assert not [line for line in r.apdu_log if "READ BINARY" in line and "SW=6700" in line]


def test_6cxx_names_the_length_to_ask_next():
    """A card answering 6Cxx ("wrong length, xx available") to the size probe is asked for exactly xx."""
    from devices.idcard.session import ChipSession
    from devices.idcard.transport import ReplayTransport

    body = b"\x31\x10" + bytes(16)                       # an 18-byte file
    script = [(bytes.fromhex("00A4020C02011C"), b"\x90\x00"),
              (bytes.fromhex("00B0000000"), b"\x6C\x40"),           # Le 256: "64 available"
              (bytes.fromhex("00B0000040"), body + b"\x90\x00")]
    s = ChipSession(ReplayTransport(script), ladder=(256, 224, 128))
    assert s.read_file(0x011C) == body and s.block == 64


class DropsExtended:
    """A reader without extended-length APDUs behind pcscd: SCardTransmit fails and the connection
    is gone (PcscTransport raises ReaderUnavailable while the card is still there)."""

    def __init__(self, inner):
        self.inner, self.dropped = inner, 0

    def connect(self):
        self.inner.connect()

    def card_present(self):
        return self.inner.card_present()

    def close(self):
        self.inner.close()

    def transmit(self, apdu):
        from devices.idcard.errors import ReaderUnavailable

        if len(apdu) > 5 and apdu[4] == 0:               # an extended Lc or Le
            self.dropped += 1
            self.inner.close()
            raise ReaderUnavailable(detail="transmit failed: Transaction failed. (0x80100016)")
        return self.inner.transmit(apdu)


def test_a_reader_that_drops_extended_apdus_is_read_again_with_short_ones_and_remembered(tmp_path):
    from devices.idcard.apdu_log import ApduLogWriter
    from devices.idcard.reader import CardReader
    from devices.idcard.transport import VirtualCardTransport

    transport = DropsExtended(VirtualCardTransport("default"))
    reader = CardReader(transport, trust_store=TRUST, apdu_log=ApduLogWriter(tmp_path / "apdu", 5))
    r = reader.read(AccessKey.from_can("012345"))
    assert r.verified and r.stats["block"] == 192 and transport.dropped == 1
    assert reader.size_cap == EXTENDED
    assert any("reading again with smaller READ BINARYs" in line for line in r.apdu_log)
    again = reader.read(AccessKey.from_can("012345"))
    assert again.verified and transport.dropped == 1      # the second read never asks for extended length
    log = sorted((tmp_path / "apdu").iterdir())[0].read_text()
    assert "dropped Le=65536" in log and "# outcome: ok" in log


def test_a_reader_with_no_smaller_size_left_fails_with_the_transport_error():
    from devices.idcard.errors import ReaderUnavailable
    from devices.idcard.reader import CardReader
    from devices.idcard.transport import VirtualCardTransport

    reader = CardReader(DropsExtended(VirtualCardTransport("default")), trust_store=TRUST, read_sizes=(EXTENDED,))
    with pytest.raises(ReaderUnavailable):
        reader.read(AccessKey.from_can("012345"))
