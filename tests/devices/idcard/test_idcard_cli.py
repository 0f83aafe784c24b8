"""`kiosk idcard …` with the sim backend (the pcscd variant is in test_pcsc.py)."""
from __future__ import annotations

import io
import json

import pytest

from kiosk.tools.cli import main

QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
      "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")


def test_read_can_prints_vietnamese_fields_and_checks(capsys):
    assert main(["idcard", "read", "--can", "012345"]) == 0
    out = capsys.readouterr().out
    for text in ("Trần Thị Ngọc Ánh", "Họ tên cha: Trần Văn Bình", "Có giá trị đến: 12/05/2045", "PACE",
                 "hashes", "signature", "chain", "HỢP LỆ"):
        assert text in out


def test_read_qr_json_with_photo(tmp_path, capsys):
    photo = tmp_path / "face.jpg"
    assert main(["idcard", "read", "--qr", QR, "--json", "--photo", str(photo)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"] == "verified" and out["person"]["date_of_birth"] == "1985-05-12"
    assert {k: v["status"] for k, v in out["checks"].items() if k in ("hashes", "signature", "chain")} == {
        "hashes": "ok", "signature": "ok", "chain": "ok"}
    from PIL import Image
    assert Image.open(io.BytesIO(photo.read_bytes())).format == "JPEG"


def test_read_mrz_lines_on_bac_card(capsys):
    from devices.idcard.mrz import build_td1
    from devices.idcard.vcard.datasets import DATASETS
    c = DATASETS["old2021"].citizen
    mrz = build_td1(id_number=c.id_number, birth=c.birth, sex="M", expiry=c.expiry, surname="NGUYEN", given="VAN HUNG")
    assert main(["idcard", "read", "--dataset", "old2021", "--mrz", mrz.replace("\n", " ")]) == 0
    assert "access control: BAC" in capsys.readouterr().out


@pytest.mark.parametrize("dataset", ["tampered", "cloned"])
def test_failed_checks_exit_3(dataset, capsys):
    assert main(["idcard", "read", "--dataset", dataset, "--can", "012345"]) == 3
    assert "KHÔNG HỢP LỆ" in capsys.readouterr().out


def test_wrong_and_malformed_keys(capsys):
    assert main(["idcard", "read", "--can", "000000"]) == 1
    assert "không đúng" in capsys.readouterr().err
    assert main(["idcard", "read", "--can", "12ab"]) == 2
    assert "6 chữ số" in capsys.readouterr().err
    assert main(["idcard", "read", "--dataset", "nope", "--can", "012345"]) == 2


def test_datasets_and_readers(capsys):
    assert main(["idcard", "datasets"]) == 0
    assert "noexpiry" in capsys.readouterr().out
    main(["idcard", "readers"])
    assert "configured backend: sim" in capsys.readouterr().out
