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
        CameraError(code="gone", en="camera gone", vi="Máy ảnh không hoạt động."),
        NoCard(detail="no card on reader 0"),
        PrinterError(code="paper_out", detail="DLE EOT 4 = 0x72"),
        PayloadError(code="bad_field", en="bad field", vi="Mã QR không hợp lệ."),
        ScannerError(code="garbled", en="garbled read", vi="Mã đọc được bị lỗi."),
        BundleError(en="signature does not verify"),
        FlowError(en="engine misused"),
        Offline(en="connection refused"),
        MediaError(en="ffmpeg missing"),
        SpeechError(en="espeak-ng missing"),
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

    card = NoCard(detail="reader 'ACS ACR1252 00 00' returned 0x80100069")
    assert "0x80100069" in str(card) and "0x80100069" not in card.message("vi")
    printer = PrinterError(code="paper_out", detail="DLE EOT 4 = 0x72")
    assert printer.code == "paper_out" and "0x72" not in printer.message("vi")


def test_unknown_errors_get_the_screens_fallback_never_their_text():
    exc = KeyError("Trần Thị Ngọc Ánh 001185012345")  # str() of a foreign error may hold anything
    assert user_message(exc, "vi", "Không tìm thấy.", "Not found.") == "Không tìm thấy."
    assert user_message(exc, "en", "Không tìm thấy.", "Not found.") == "Not found."
    generic = user_message(exc, "vi")
    assert "001185012345" not in generic and "Quý khách" in generic


# --- one constructor for every error ------------------------------------------------------------
# Every module that defines a BilingualError subclass (test_every_error_module_is_listed keeps
# this list complete): the tests below walk BilingualError's subclasses once these are imported.
ERROR_MODULES = (
    "common.errors", "devices.idcard.errors", "devices.idcard.reader", "devices.qr.scanner",
    "devices.idcard.quirks", "devices.idcard.session", "devices.qr.payloads", "devices.printer.errors",
    "devices.camera.backends", "devices.camera.document", "devices.face.model",
    "flows.errors", "flows.bundles", "central.service", "central.routing", "kiosk.client",
    "kiosk.outbox_errors", "kiosk.ui.speech", "kiosk.tools.media_gen", "common.pkcs11_signer", "common.vietqr",
    "kiosk.sim_bank",
)



def _all_errors() -> list[type[BilingualError]]:
    import importlib

    for name in ERROR_MODULES:
        importlib.import_module(name)
    seen, todo = [], [BilingualError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo += cls.__subclasses__()
    return sorted(seen, key=lambda c: (c.__module__, c.__qualname__))


def _extras(cls) -> dict:
    """The keyword-only data a class needs besides its texts."""
    from central.service import CentralError
    from devices.camera.document import ISSUES, DocumentError
    from devices.idcard.errors import StatusError
    from kiosk.client import MissingAttachments
    from kiosk.sim_bank import BankRefused

    needs = {StatusError: {"sw": 0x6982}, DocumentError: {"issue": ISSUES["no_page"]},
             CentralError: {"status": 422}, MissingAttachments: {"missing": ["ab" * 32]}, BankRefused: {"status": 401}}
    return next((v for k, v in needs.items() if issubclass(cls, k)), {})


ALL_ERRORS = _all_errors()


def test_every_error_module_is_listed():
    """A new BilingualError subclass in a module ERROR_MODULES does not name would escape the tests below."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    classes = []  # (module, name, base names)
    for pkg in ("common", "devices", "flows", "central", "kiosk"):
        for path in sorted((root / pkg).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                    classes.append((module, node.name, bases))
    names, modules, grown = {"BilingualError"}, {"common.errors"}, True
    while grown:
        grown = False
        for module, name, bases in classes:
            if bases & names and name not in names:
                names.add(name)
                modules.add(module)
                grown = True
    assert modules <= set(ERROR_MODULES), sorted(modules - set(ERROR_MODULES))
    assert len(ALL_ERRORS) >= len(names)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_takes_en_vi_code_and_detail_keywords(cls):
    exc = cls(en="The English text.", vi="Lời tiếng Việt.", code="some_reason", detail="tech 0x42", **_extras(cls))
    assert isinstance(exc, BilingualError)
    assert (exc.message_en, exc.message_vi, exc.code) == ("The English text.", "Lời tiếng Việt.", "some_reason")
    assert user_message(exc, "vi") == "Lời tiếng Việt." and user_message(exc, "en") == "The English text."
    # the technician's detail is for logs (str) only
    assert "tech 0x42" in exc.detail and "The English text." in str(exc) and "tech 0x42" in str(exc)
    # one reason attribute: `code` (no `.reason`, no `.error`)
    assert not hasattr(exc, "reason") and not hasattr(exc, "error")


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_vietnamese_defaults(cls):
    from central.service import CentralError

    required_code = {"code": "rejected"} if issubclass(cls, CentralError) else {}  # a refusal always names its reason
    exc = cls(**_extras(cls), **required_code)
    assert exc.message_vi and any(ord(c) > 127 for c in exc.message_vi), exc.message_vi
    assert exc.message_en and isinstance(exc.code, str)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_a_positional_text_is_refused(cls):
    with pytest.raises(TypeError):
        cls("The English text.", **_extras(cls))
    with pytest.raises(TypeError):
        cls("The English text.", "Lời tiếng Việt.", **_extras(cls))
