"""Exact command bytes, checked on what the sim backend received."""
from __future__ import annotations

import pytest
from PIL import Image

from devices.printer import get_profile, open_printer, raster, render_bytes, render_preview
from devices.printer.document import Band, Cut, Feed, NativeText, encode, preview
from devices.printer.escpos_render import EscposParseError, render, tokenize


def _sim(tmp_path, **cfg):
    return open_printer({"backend": "sim", "out_dir": str(tmp_path / "out"), "spool_dir": str(tmp_path / "spool"), **cfg})


def test_ticket_bytes_on_80mm(tmp_path, ticket_data, same_pixels):
    p = _sim(tmp_path)
    job = p.print_layout("ticket", ticket_data)
    sent = bytes(p.transport.model.printed)
    assert job.bytes_sent == len(sent)
    assert sent.startswith(b"\x1b@\x1dv0\x00" + bytes([576 // 8, 0]))  # ESC @, GS v 0 m=0, 72 bytes wide
    height = sent[8] | sent[9] << 8
    assert len(sent) == 10 + 72 * height + len(b"\x1bd\x04\x1dV\x00")
    assert sent.endswith(b"\x1bd\x04\x1dV\x00")  # feed 4 lines, full cut
    # the sim keeps the bytes and its own rendering of them
    assert (tmp_path / "out" / f"{job.job_id}.bin").read_bytes() == sent
    assert same_pixels(Image.open(job.png_path), render_preview("ticket", ticket_data, "80mm"))
    assert p.pending() == []


def test_native_qr_sequence(receipt_data):
    sent = render_bytes("receipt", receipt_data, "80mm")
    payload = receipt_data["lookup_qr"].encode()
    qr = (b"\x1ba\x01"
          + b"\x1d(k\x04\x001A2\x00"          # model 2
          + b"\x1d(k\x03\x001C\x06"           # module 6 dots
          + b"\x1d(k\x03\x001E1"              # error level M
          + b"\x1d(k" + bytes([(len(payload) + 3) & 0xFF, (len(payload) + 3) >> 8]) + b"1P0" + payload
          + b"\x1d(k\x03\x001Q0"              # print
          + b"\x1ba\x00")
    assert sent.count(qr) == 1


def test_58mm_without_cutter_feeds_instead(ticket_data):
    sent = render_bytes("ticket", ticket_data, "58mm")
    assert sent[4:6] == bytes([384 // 8, 0])
    assert b"\x1dV" not in sent and sent.endswith(b"\x1bd\x04")


def test_raster_qr_when_the_profile_has_no_native_qr(receipt_data, decode_qr, same_pixels):
    prof = {"base": "80mm", "native_qr": False}
    sent = render_bytes("receipt", receipt_data, prof)
    assert b"\x1d(k" not in sent
    img = render(sent, 576).image
    assert decode_qr(img) == [receipt_data["lookup_qr"]]
    assert same_pixels(img, render_preview("receipt", receipt_data, prof))


def test_tall_bands_are_split_in_fragments(receipt_data):
    sent = render_bytes("receipt", receipt_data, "80mm")
    rasters = [c for c in tokenize(sent)[0] if c.name == "raster"]
    assert all(c.args[2] <= 960 for c in rasters) and len(rasters) >= 2


def test_native_ascii_and_code_page_only_where_the_profile_says(same_pixels):
    prof = get_profile({"base": "80mm", "native_ascii": True, "code_page": "cp1258"})
    els = [NativeText("Kiosk TEST-01", "center", True), NativeText("Phường Ba Đình", "left"),
           Band(raster.render_text("Hồ sơ", 576, prof.sizes)), Feed(2), Cut()]
    sent = encode(els, prof)
    assert b"\x1ba\x01\x1bt\x34\x1bE\x01Kiosk TEST-01\n\x1bE\x00" in sent
    # ư (0xFD) and ơ (0xF5) are letters of CP1258; tones go as combining marks: ờ → ơ + grave (0xCC)
    assert b"Ph\xfd\xf5\xccng Ba \xd0i\xccnh\n" in sent
    rendered = render(sent, 576)
    assert rendered.text_lines == ["Kiosk TEST-01", "Phường Ba Đình"]
    assert same_pixels(rendered.image, preview(els, prof))
    # off by default: the test page's ASCII lines are raster on the stock profiles
    assert render(render_bytes("test_page", {"printed_at": "2026-11-23T08:00:00"}), 576).text_lines == []


def test_unknown_commands_are_not_guessed():
    with pytest.raises(EscposParseError):
        render(b"\x1b@\x1b\x99", 576)
    with pytest.raises(EscposParseError):
        render(b"\x1dv0\x00\x48\x00\x10\x00" + b"\x00" * 10, 576)  # truncated raster


def test_ascii_lines_go_native_when_the_profile_allows(same_pixels):
    prof = {"base": "80mm", "native_ascii": True}
    data = {"printed_at": "2026-11-23T08:00:00", "kiosk_id": "KIOSK-01"}
    sent = render_bytes("test_page", data, prof)
    paper = render(sent, 576)
    assert "ASCII line: native text if the profile allows" in paper.text_lines
    assert "Kiosk KIOSK-01" in paper.text_lines
    assert all(line.isascii() for line in paper.text_lines)  # Vietnamese never goes native
    assert same_pixels(paper.image, render_preview("test_page", data, prof))


def test_usb_printer_not_plugged_in_keeps_the_job(tmp_path, ticket_data):
    pytest.importorskip("usb")
    from devices.printer import PrinterError

    p = open_printer({"backend": "usb", "usb_vendor": 0x04B8, "usb_product": 0x0E15,
                      "spool_dir": str(tmp_path / "spool")})
    assert not p.status().known  # usb status is unknown, not "ok"
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "unreachable" and p.pending() == [err.value.job_id]


def test_file_backend_appends_the_exact_bytes(tmp_path, ticket_data):
    dev = tmp_path / "lp0"
    p = open_printer({"backend": "file", "device": str(dev), "spool_dir": str(tmp_path / "spool")})
    with p:
        p.print_layout("ticket", ticket_data)
        p.print_layout("ticket", ticket_data)
    assert dev.read_bytes() == render_bytes("ticket", ticket_data) * 2
