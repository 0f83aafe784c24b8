"""`kiosk pay qr` prints the VietQR payload for the configured account (as the pay screen builds it),
and the simulated bank (kiosk.sim_bank) pays a dossier on a real central system: signed,
replayed, wrong amount, wrong secret."""
from __future__ import annotations

import subprocess
import sys

import cv2
import pytest
import requests

from common.vietqr import parse_payload
from devices.qr import decode_frame
from kiosk import sim_bank
from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier, start_central

CODE = "01.00004-261204-0007"
SECRET = "gateway-secret-for-tests-0123456789"


def kiosk(*args, config):
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def configured(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[payments]\nenabled = true\nbank_bin = "970415"\naccount = "113366668888"\n'
                   'account_name = "TRUNG TAM PVHCC BA DINH"\n', encoding="utf-8")
    return cfg


def test_prints_the_payload_for_the_configured_account(configured, tmp_path):
    png = tmp_path / "qr.png"
    r = kiosk("pay", "qr", "--amount", "4000", "--dossier", CODE, "--png", str(png), config=configured)
    assert r.returncode == 0, r.stderr
    payload = r.stdout.strip()
    got = parse_payload(payload)
    assert (got["bank_bin"], got["account"], got["amount"], got["bill"], got["purpose"], got["initiation"]) == \
        ("970415", "113366668888", 4000, CODE, CODE, "dynamic")
    # byte for byte what the pay screen draws (kiosk.services.KioskServices.payment_qr)
    assert payload == ("00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA530370454044000"
                       "5802VN6248012001.00004-261204-00070820" + CODE + "630448FC")
    found = decode_frame(cv2.imread(str(png), cv2.IMREAD_GRAYSCALE))
    assert [d.text for d in found] == [payload]


@pytest.mark.parametrize("args,says", [
    (["--amount", "0", "--dossier", CODE], "Số tiền phải lớn hơn 0"),
    (["--amount", "4000", "--dossier", "Hồ sơ của bà Trần"], "chữ không dấu"),
    (["--amount", "4000", "--dossier", "X" * 26], "dài quá 25 ký tự"),
    (["--amount", "99999999999999", "--dossier", CODE], "không quá 13 chữ số"),
])
def test_values_the_code_cannot_carry_are_refused_plainly(configured, args, says):
    r = kiosk("pay", "qr", *args, config=configured)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_without_an_account_it_says_what_to_set(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text("", encoding="utf-8")
    r = kiosk("pay", "qr", "--amount", "4000", "--dossier", CODE, config=cfg)
    assert r.returncode == 2 and "[payments] bank_bin" in r.stderr and "Traceback" not in r.stderr


def test_the_simulated_bank_pays_a_dossier(tmp_path):
    srv = start_central(str(tmp_path / "central.sqlite3"))
    try:
        srv.central.payment_secret = SECRET
        d, _ = sample_dossier(attachments=0)
        d["fee"] = {"amount": 4000, "currency": "VND"}
        a = requests.post(f"{srv.url}/api/v1/dossiers", json=d, auth=(KIOSK_ID, KIOSK_SECRET), timeout=10).json()
        code = a["dossier_code"]
        answer = sim_bank.pay(srv.url, SECRET, code, 4000, transaction_id="SIMTEST1")
        assert answer["result"] == "paid" and answer["payment"]["amount_paid"] == 4000
        assert sim_bank.pay(srv.url, SECRET, code, 4000, transaction_id="SIMTEST1")["result"] == "already"
        assert sim_bank.pay(srv.url, SECRET, code, 4000)["result"] == "already_paid"  # a new transaction id
        with pytest.raises(sim_bank.BankRefused) as err:
            sim_bank.pay(srv.url, "not-the-secret-0000000000", code, 4000)
        assert (err.value.status, err.value.code) == (401, "bad_signature")
        with pytest.raises(sim_bank.BankRefused) as err:
            sim_bank.pay(srv.url, SECRET, "01.00004-261204-9999", 4000)
        assert err.value.status == 404
        d2, _ = sample_dossier(attachments=0)
        d2["fee"] = {"amount": 4000, "currency": "VND"}
        code2 = requests.post(f"{srv.url}/api/v1/dossiers", json=d2, auth=(KIOSK_ID, KIOSK_SECRET), timeout=10).json()["dossier_code"]
        assert sim_bank.pay(srv.url, SECRET, code2, 6000)["result"] == "flagged"
        assert sim_bank.new_transaction_id() != sim_bank.new_transaction_id()
    finally:
        srv.stop()
