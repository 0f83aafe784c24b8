from __future__ import annotations

import re
from pathlib import Path

import pytest

from devices.printer import LAYOUT_NAMES, LayoutError, PrinterError, render_bytes, render_preview
from devices.printer.layout import load_layout, mask_id, validate


DOCS = Path(__file__).resolve().parents[3] / "docs" / "printing.md"


def test_mask_keeps_last_four():
    assert mask_id("001185012345") == "••••••••2345"
    assert mask_id("123") == "123"


def test_receipt_masks_the_id_on_paper(receipt_data):
    elements_text = repr(validate("receipt", receipt_data))
    assert "001185012345" in elements_text  # the data holds it …
    from devices.printer.layout import _fill  # … the paper shows it masked
    assert _fill("{applicant_id!m}", validate("receipt", receipt_data), "receipt") == "••••••••2345"


def test_missing_key_is_a_typed_error_naming_only_the_key(receipt_data):
    del receipt_data["appointment_date"]
    with pytest.raises(LayoutError) as err:
        render_bytes("receipt", receipt_data)
    assert isinstance(err.value, PrinterError)
    assert "appointment_date" in str(err.value) and "appointment_date" not in err.value.message_en
    assert "Thiếu hoặc sai thông tin" in err.value.message_vi
    assert "Trần" not in str(err.value)


@pytest.mark.parametrize("key,value", [("received_at", "yesterday"), ("documents", "not a list"),
                                       ("appointment_date", 12)])
def test_bad_types_are_refused(receipt_data, key, value):
    receipt_data[key] = value
    with pytest.raises(LayoutError, match=key):
        render_bytes("receipt", receipt_data)


def test_unknown_keys_are_ignored_and_unknown_layouts_refused(receipt_data, same_pixels):
    # the kiosk passes one dict for receipt and provisional receipt (local_code included)
    extra = {**receipt_data, "local_code": "", "favourite_colour": "đỏ"}
    assert render_bytes("receipt", extra) == render_bytes("receipt", receipt_data)
    with pytest.raises(LayoutError) as err:
        render_bytes("invoice", {})
    assert err.value.code == "unknown_layout"


def test_ticket_without_counter_asks_to_wait(ticket_data, same_pixels):
    without = render_preview("ticket", {**ticket_data, "counter": ""})
    assert not same_pixels(without, render_preview("ticket", ticket_data))
    from devices.printer.layout import build
    from devices.printer.profiles import get_profile
    assert build("ticket", {**ticket_data, "counter": ""}, get_profile("80mm"))  # no LayoutError


@pytest.mark.parametrize("profile", ["58mm", "80mm"])
def test_every_layout_renders_and_its_qr_decodes(profile, receipt_data, provisional_data, ticket_data, decode_qr):
    data = {"receipt": receipt_data, "provisional_receipt": provisional_data, "ticket": ticket_data,
            "test_page": {"printed_at": "2026-11-23T08:00:00"}}
    for name in LAYOUT_NAMES:
        img = render_preview(name, data[name], profile)
        assert img.width == (384 if profile == "58mm" else 576)
        if "lookup_qr" in data[name]:
            assert decode_qr(img) == [data[name]["lookup_qr"]]


def test_provisional_receipt_is_marked_not_sent(provisional_data):
    from devices.printer.layout import load_layout

    texts = [b.get("text", "") for b in load_layout("provisional_receipt")["blocks"]]
    assert "CHƯA GỬI" in texts and "NOT YET SENT" in texts
    # the banner is white on black: a band row that is almost entirely black
    img = render_preview("provisional_receipt", provisional_data, "80mm")
    rows = [sum(1 for x in range(img.width) if img.getpixel((x, y)) == 0) for y in range(img.height)]
    assert max(rows) == img.width


def test_docs_list_every_layout_key():
    doc = DOCS.read_text(encoding="utf-8")
    for name in LAYOUT_NAMES:
        section = doc.split(f"### `{name}`")[1].split("\n#")[0]
        documented = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
        assert documented == set(load_layout(name)["fields"]), name


def test_control_characters_in_data_are_flattened(ticket_data, same_pixels):
    messy = {**ticket_data, "service": "Hộ tịch\n\tChứng thực\x1b@", "centre_name": "  Trung tâm\r\nBa Đình "}
    clean = {**ticket_data, "service": "Hộ tịch Chứng thực @", "centre_name": "Trung tâm Ba Đình"}
    assert same_pixels(render_preview("ticket", messy), render_preview("ticket", clean))
    assert render_bytes("ticket", messy) == render_bytes("ticket", clean)
