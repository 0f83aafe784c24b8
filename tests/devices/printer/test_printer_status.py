"""DLE EOT answers for each paper and cover state, and what they are read as."""
from __future__ import annotations

import pytest

from devices.printer import open_printer, status
from devices.printer.emulator import PrinterModel

# state → answers to DLE EOT 1, 2, 4 (Epson bit layout: frame 0x12; n=1 bit 3 offline;
# n=2 bit 2 cover open, bit 5 stopped by paper end; n=4 bits 2-3 near end, bits 5-6 roll end)
CASES = {
    ("ok", False): (0x12, 0x12, 0x12),
    ("near_end", False): (0x12, 0x12, 0x1E),
    ("out", False): (0x1A, 0x32, 0x7E),
    ("ok", True): (0x1A, 0x16, 0x12),
    ("out", True): (0x1A, 0x36, 0x7E),
}


@pytest.mark.parametrize("state", CASES)
def test_answer_bytes(state):
    paper, cover = state
    model = PrinterModel(paper=paper, cover_open=cover)
    got = model.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x04")
    assert tuple(got) == CASES[state]


@pytest.mark.parametrize("state", CASES)
def test_parse(state):
    paper, cover = state
    b1, b2, b4 = CASES[state]
    st = status.parse({1: b1, 2: b2, 4: b4})
    assert st.paper == paper and st.cover_open is cover
    assert st.online is (paper != "out" and not cover)
    assert st.can_print is (paper != "out" and not cover)


def test_unknown_stays_unknown():
    st = status.parse({1: None, 2: None, 4: None})
    assert (st.online, st.paper, st.cover_open, st.can_print) == (None, "unknown", None, None)
    st = status.parse({1: 0x00, 2: 0xFF, 4: 0x41})  # not status frames
    assert not st.known
    st = status.parse({1: 0x12, 2: None, 4: None})  # a printer without paper sensors
    assert st.online is True and st.paper == "unknown" and st.cover_open is None


def test_paper_stop_bit_alone_means_out():
    assert status.parse({2: 0x32}).paper == "out"


def test_file_backend_reports_unknown(tmp_path):
    p = open_printer({"backend": "file", "device": str(tmp_path / "lp0")})
    st = p.status()
    assert not st.known and st.paper == "unknown" and st.can_print is None
    h = p.health()
    assert h.state.value == "ok" and "unknown" in h.detail


def test_status_bytes_inside_raster_data_are_not_queries():
    model = PrinterModel()
    raster = b"\x1dv0\x00\x01\x00\x03\x00" + b"\x10\x04\x01"  # 1 byte wide, 3 rows: data = 10 04 01
    assert model.feed(raster[:5]) == b"" and model.feed(raster[5:]) == b""
    assert model.queries == []
    assert model.feed(b"\x10\x04") == b"" and model.feed(b"\x04") == b"\x12"


@pytest.mark.parametrize("paper,cover,state", [("ok", False, "ok"), ("near_end", False, "needs_attention"),
                                               ("out", False, "needs_attention"), ("ok", True, "needs_attention")])
def test_health(paper, cover, state, tmp_path):
    p = open_printer({"backend": "sim", "sim_paper": paper, "sim_cover_open": cover, "out_dir": str(tmp_path)})
    h = p.health()
    assert h.state.value == state
    assert h.facts["status"]["paper"] == paper


def test_file_backend_says_it_cannot_read(tmp_path):
    h = open_printer({"backend": "file", "device": str(tmp_path / "lp0")}).health()
    assert h.facts["reads_status"] is False and "cannot read" in h.detail


# --- DLE EOT 3: the error cause, asked only when DLE EOT 2 reports an error --------------------
# Epson bit layout: n=2 bit 6 error occurred; n=3 bit 2 recoverable (mechanical), bit 3 auto-cutter,
# bit 5 unrecoverable, bit 6 auto-recoverable (head temperature, voltage)
@pytest.mark.parametrize("error,b3", [("recoverable", 0x16), ("cutter", 0x1A), ("unrecoverable", 0x32),
                                      ("auto_recoverable", 0x52)])
def test_error_cause_bytes_and_parse(error, b3):
    model = PrinterModel(error=error)
    got = model.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
    assert tuple(got) == (0x1A, 0x52, b3, 0x12)
    st = status.parse({1: got[0], 2: got[1], 3: got[2], 4: got[3]})
    assert st.error == error and st.online is False and st.paper == "ok" and st.can_print is False and st.known


def test_error_without_its_cause_is_still_an_error():
    st = status.parse({1: 0x1A, 2: 0x52, 3: None, 4: 0x12})
    assert st.error == "error" and st.can_print is False
    assert status.parse({1: 0x12, 2: 0x12, 4: 0x12}).error is None


def test_error_cause_is_asked_only_when_the_printer_reports_an_error(tmp_path):
    p = open_printer({"backend": "sim", "out_dir": str(tmp_path)})
    model = p.transport.model
    assert p.status().error is None and model.queries == [1, 2, 4]
    model.set_state(error="cutter")
    st = p.status()
    assert st.error == "cutter" and model.queries[3:] == [1, 2, 4, 3]
    h = p.health()
    assert h.state.value == "needs_attention" and "cutter" in h.detail and "cutter" in h.action
    with pytest.raises(ValueError):
        model.set_state(error="jam")


def test_a_question_the_printer_never_answers_is_not_asked_again(tmp_path):
    # a printer with no paper-roll sensor answers DLE EOT 1 and 2 but ignores 4: its status is
    # still known (online, cover), and later checks do not wait for the answer that never comes
    class NoRollSensor(PrinterModel):
        def answer(self, n):
            return b"" if n == 4 else super().answer(n)

    from devices.printer.backends import SimTransport
    from devices.printer.printer import Printer
    from devices.printer.profiles import get_profile

    p = Printer(SimTransport(None, NoRollSensor()), get_profile("80mm"))
    st = p.status()
    assert st.online is True and st.cover_open is False and st.paper == "unknown" and st.can_print is True
    p.status()
    assert p.transport.model.queries == [1, 2, 4, 1, 2]
    assert p.health().state.value == "ok"
