from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "devices" / "printer" / "samples"


@pytest.fixture
def receipt_data():
    return json.loads((SAMPLES / "receipt.json").read_text(encoding="utf-8"))


@pytest.fixture
def provisional_data():
    return json.loads((SAMPLES / "provisional_receipt.json").read_text(encoding="utf-8"))


@pytest.fixture
def ticket_data():
    return {"number": "A012", "service": "Hộ tịch - Chứng thực", "counter": "3",
            "issued_at": datetime(2026, 11, 23, 8, 15), "people_ahead": 4,
            "centre_name": "Trung tâm Phục vụ hành chính công phường Ba Đình"}


def _decode_qr(img) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]


def _same_pixels(a, b) -> bool:
    return a.size == b.size and a.convert("1").tobytes() == b.convert("1").tobytes()


@pytest.fixture
def decode_qr():
    """QR payloads found in an image (zxing-cpp: decodes UTF-8 correctly, no Micro QR)."""
    return _decode_qr


@pytest.fixture
def same_pixels():
    return _same_pixels
