"""One bilingual error idea for every package: what a screen shows for anything it catches."""
from __future__ import annotations

import pytest

from common.errors import BilingualError, user_message


def _errors():
    from devices.camera.backends import CameraError
    from devices.idcard.errors import NoCard
    from devices.printer.errors import PrinterError
    from devices.qr.payloads import PayloadError
    from devices.qr.scanner import ScannerError
    from flows.bundles import BundleError
    from flows.errors import FlowError
    from kiosk.client import Offline
    from kiosk.tools.media_gen import MediaError
    from kiosk.ui.speech import SpeechError

    return [
        CameraError("gone", "camera gone", "Máy ảnh không hoạt động."),
        NoCard("no card on reader 0"),
        PrinterError("paper_out", "DLE EOT 4 = 0x72"),
        PayloadError("bad_field", "bad field", "Mã QR không hợp lệ."),
        ScannerError("garbled", "garbled read", "Mã đọc được bị lỗi."),
        BundleError("signature does not verify"),
        FlowError("engine misused"),
        Offline("connection refused"),
        MediaError("ffmpeg missing"),
        SpeechError("espeak-ng missing"),
    ]


@pytest.mark.parametrize("exc", _errors(), ids=lambda e: type(e).__name__)
def test_every_package_error_speaks_vietnamese_first_and_english(exc):
    assert isinstance(exc, BilingualError)
    vi, en = user_message(exc, "vi"), user_message(exc, "en")
    assert vi != en and vi and en
    # Vietnamese text, not an English fallback: at least one letter outside ASCII
    assert any(ord(c) > 127 for c in vi), vi
    assert en.isascii() or "(" in en, en


def test_technical_detail_stays_out_of_the_citizen_message():
    from devices.idcard.errors import NoCard
    from devices.printer.errors import PrinterError

    card = NoCard("reader 'ACS ACR1252 00 00' returned 0x80100069")
    assert "0x80100069" in str(card) and "0x80100069" not in card.message("vi")
    printer = PrinterError("paper_out", "DLE EOT 4 = 0x72")
    assert printer.code == "paper_out" and "0x72" not in printer.message("vi")


def test_unknown_errors_get_the_screens_fallback_never_their_text():
    exc = KeyError("Trần Thị Ngọc Ánh 001185012345")  # str() of a foreign error may hold anything
    assert user_message(exc, "vi", "Không tìm thấy.", "Not found.") == "Không tìm thấy."
    assert user_message(exc, "en", "Không tìm thấy.", "Not found.") == "Not found."
    generic = user_message(exc, "vi")
    assert "001185012345" not in generic and "Quý khách" in generic
