"""Issue 22, the kiosk's side without the screens: the receipt's fee line once the kiosk took the
payment (paid, not paid, flagged), the [payments] configuration and its refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices.printer.layout import text_lines
from devices.printer.receipt_data import payment_text

SAMPLES = Path(__file__).resolve().parents[2] / "devices" / "printer" / "samples"
FEE = {"amount": 4000, "currency": "VND"}


def _receipt(**extra) -> dict:
    data = json.loads((SAMPLES / "receipt.json").read_text(encoding="utf-8"))
    data.update(extra)
    return data


def test_paid_says_the_amount_and_the_hour_in_vietnam_time():
    # central stores times with the Vietnam offset; a UTC time must still print the Vietnam hour
    assert payment_text({"state": "paid", "amount_due": 4000, "amount_paid": 4000,
                         "paid_at": "2026-12-04T09:12:30+07:00"}, FEE) == "Đã thanh toán lệ phí 4.000 đồng lúc 09:12."
    assert payment_text({"state": "paid", "amount_due": 4000, "amount_paid": 4000,
                         "paid_at": "2026-12-04T02:12:30+00:00"}, FEE) == "Đã thanh toán lệ phí 4.000 đồng lúc 09:12."


def test_unpaid_and_flagged_send_the_citizen_to_the_desk():
    assert payment_text({"state": "unpaid", "amount_due": 4000}, FEE) == \
        "Lệ phí phải nộp: 4.000 đồng. Chưa thanh toán: nộp tại quầy."
    flagged = payment_text({"state": "flagged", "amount_due": 4000, "amount_paid": 3000}, FEE)
    assert "4.000 đồng" in flagged and "hỏi tại quầy" in flagged and "Đã thanh toán" not in flagged
    assert payment_text(None, FEE) == ""  # no payment taken at the kiosk: the fee line as before


def test_the_printed_receipt_carries_the_payment_in_place_of_the_fee_to_pay():
    paid = "\n".join(text_lines("receipt", _receipt(payment="Đã thanh toán lệ phí 4.000 đồng lúc 09:12.")))
    assert "Đã thanh toán lệ phí 4.000 đồng lúc 09:12." in paid
    assert "Lệ phí phải nộp" not in paid
    before = "\n".join(text_lines("receipt", _receipt()))
    assert "Lệ phí phải nộp" in before and "Đã thanh toán" not in before


def _config(tmp_path, text: str):
    from kiosk.config import load_config

    f = tmp_path / "k.toml"
    f.write_text(text, encoding="utf-8")
    return load_config(f)


def test_payments_are_off_by_default_and_need_an_account_when_on(tmp_path):
    from kiosk.config import ConfigError, load_config

    p = load_config()["payments"]
    assert p["enabled"] is False and p["wait_s"] == 300 and p["poll_s"] == 2.0
    with pytest.raises(ConfigError, match="payments.bank_bin"):
        _config(tmp_path, "[payments]\nenabled = true\n")
    with pytest.raises(ConfigError, match="payments.bank_bin"):
        _config(tmp_path, "[payments]\nbank_bin = \"97043\"\n")  # a BIN has 6 digits
    with pytest.raises(ConfigError, match="central.payment_gateway_secret"):
        _config(tmp_path, "[central]\npayment_gateway_secret = \"short\"\n")
    ok = _config(tmp_path, "[payments]\nenabled = true\nbank_bin = \"970436\"\naccount = \"0011001234567\"\n")
    assert ok["payments"]["enabled"] and ok["payments"]["account"] == "0011001234567"
    assert _config(tmp_path, "[central]\npayment_gateway_secret = \"0123456789abcdef\"\n").redacted()[
        "central"]["payment_gateway_secret"] == "<redacted>"
