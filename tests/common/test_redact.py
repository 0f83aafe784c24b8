"""common.redact: typed personal values, the visit's values in any spelling, and the patterns
(the names the issue found leaking, phone and ID formats, addresses), and what must survive."""
from __future__ import annotations

import ast
import copy
import logging
import pickle
from pathlib import Path

import pytest

from common import redact
from common.redact import Personal, pii, reveal

ROOT = Path(__file__).resolve().parents[2]


# --- typed values -------------------------------------------------------------------------------

def test_a_personal_value_never_formats_as_itself():
    name = pii("Giàng A Páo", "name")
    assert str(name) == repr(name) == f"{name}" == f"{name:>6}".strip() == "<name>"
    assert "%s %r" % (name, name) == "<name> <name>"
    assert "Páo" not in repr({"full_name": name, "ids": [pii("001185012345", "id")]})
    assert "{}".format(name) == "<name>" and name.reveal() == reveal(name) == "Giàng A Páo"
    assert reveal("plain") == "plain" and pii(name) is name and str(pii(None)) == "<personal>"
    assert copy.deepcopy(name) == name and pickle.loads(pickle.dumps(name)) == name
    assert isinstance(name, Personal) and name != pii("Giàng A Páo", "id")


def test_the_log_filter_masks_typed_args_before_any_handler(caplog):
    from common.redact import RedactingFilter

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    h = Keep()
    h.addFilter(RedactingFilter())
    log = logging.getLogger("test.redact.typed")
    log.addHandler(h)
    log.propagate = False
    try:
        # a value no pattern can know (a 6-digit CAN, a rare name in lower case) is masked by its type
        log.warning("CAN %s for %s, extra %r", pii("123456", "can"), pii("xa lộc bính", "name"), {"n": pii("x", "name")})
    finally:
        log.removeHandler(h)
    assert records == ["CAN <can> for <name>, extra {'n': <name>}"]


def test_install_logging_gives_a_bare_process_a_redacting_handler():
    from common.redact import RedactingFilter, install_logging

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        for h in saved:
            root.removeHandler(h)
        install_logging("WARNING")
        assert len(root.handlers) == 1 and any(isinstance(f, RedactingFilter) for f in root.handlers[0].filters)
        install_logging("WARNING")  # twice: still one handler, one filter
        assert len(root.handlers) == 1 and len(root.handlers[0].filters) == 1
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
        root.setLevel(level)


# --- the values of a visit, and of the dossier a worker holds ------------------------------------

@pytest.mark.parametrize("logged", ["HẦU THỊ LAN", "hau thi lan", "Hau  Thi Lan", "hầu-thị-lan", "HAU THI LAN",
                                    "Hầu Thị Lan"])
def test_a_remembered_value_is_masked_in_any_case_and_without_diacritics(logged):
    redact.remember("Hầu Thị Lan")
    assert redact.redact(f"typed {logged} at the desk") == "typed <personal> at the desk"


def test_a_remembered_number_is_masked_with_any_separators_and_a_visit_ends():
    redact.remember("001185012345", "Mường Tè", None, True, {"checks": "ok"}, b"photo", "Nữ")
    for text in ("001 185 012 345", "001.185.012.345", "0011-8501-2345", "mường tè", "MUONG TE"):
        assert "<personal>" in redact.redact(f"value {text}")
    assert redact.redact("sex Nữ, status True") == "sex Nữ, status True"  # too short, or no value at all
    redact.forget_all()
    assert redact.redact("ethnicity from muong te") == "ethnicity from muong te"


def test_a_held_dossier_is_masked_until_released_and_apart_from_the_visit():
    dossier = {"applicant": {"full_name": "Y Bih Niê", "id_number": "066090001234", "source": "chip",
                             "authentication": {"access_control": "PACE"}},
               "answers": {"child_full_name": "H'Hen Niê", "reason": "đổi tên"}, "kiosk_id": "KIOSK-DL-01"}
    values = redact.personal_values(dossier)
    assert set(values) == {"Y Bih Niê", "066090001234", "H'Hen Niê", "đổi tên"}
    owner = object()
    redact.hold(owner, values)
    redact.remember("Lò Văn Páo")
    redact.forget_all()  # the visit ends; the worker's dossier is still being sent
    assert redact.redact("sending for y bih nie (chip, KIOSK-DL-01)") == "sending for <personal> (chip, KIOSK-DL-01)"
    redact.release(owner)
    with redact.scoped("Sa Rây Thạch"):
        assert redact.redact("by SA RAY THACH") == "by <personal>"
    assert redact.redact("by sa ray thach") == "by sa ray thach"


# --- patterns: what the issue found leaking ----------------------------------------------------

@pytest.mark.parametrize("name", [
    "Giàng A Páo", "Y Bih Niê", "Sùng Seo Chứ", "Thạch Thị Sa Rây", "Hầu Thị Lan", "HẦU THỊ LAN", "hau thi lan",
    "hầu thị lan", "nguyen thi thu huong", "NGUYEN VAN A", "Nguyen Van A", "le van tam", "vang a pao", "y bih nie",
    "H'Hen Niê", "h'hen nie", "Ksor Ní", "Nay H'Wil", "Rơ Châm Jơn", "A Huy", "Y Blui", "Ka Thiếu", "K'Wẻ",
    "Điểu Thị Hoa", "Thiên Sanh Cảnh", "Đàng Năng Quạ", "Lò Văn Páo", "Y Wang Mlô Dun Du", "Trần Thị Ngọc Ánh",
])
def test_names_of_every_pattern_are_masked(name):
    out = redact.redact(f"card read for {name}; ok")
    assert out == "card read for <name>; ok", out


def test_a_name_the_lists_do_not_know_is_masked_when_it_is_capitalised_with_diacritics():
    assert redact.redact("citizen Ơn Xíu Mành pressed next") == "citizen <personal> pressed next"
    assert redact.redact("from Mường Tè") == "from <personal>"
    assert "Ứng" not in redact.redact("ỨNG HOÀNG HIỆP and Ứng Hoàng Hiệp")


@pytest.mark.parametrize("phone", ["0912345678", "091.234.5678", "091 234 5678", "0912 345 678", "+84 91 234 5678",
                                   "+84912345678", "(+84) 912 345 678", "0084 91 234 5678", "0912-345-678",
                                   "024 3826 1234", "(024) 3826 1234", "84912345678"])
def test_phone_numbers_with_any_separators(phone):
    assert redact.redact(f"phone {phone}, ok") == "phone <phone>, ok"


@pytest.mark.parametrize("number", ["001185012345", "001 185 012 345", "001.185.012.345", "0011 8501 2345",
                                    "001185 012345", "012345678", "012 345 678", "012.345.678"])
def test_id_numbers_with_any_separators(number):
    assert redact.redact(f"id {number} read") == "id <id> read"


@pytest.mark.parametrize("address", [
    "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
    "so 12 ngo 34 pho doi can, phuong ba dinh, thanh pho ha noi",
    "SỐ 12 NGÕ 34 PHỐ ĐỘI CẤN, PHƯỜNG BA ĐÌNH, THÀNH PHỐ HÀ NỘI",
    "thôn Nà Phặc, xã Chiềng Châu, huyện Mai Châu, tỉnh Hòa Bình",
    "bản lác, xã chiềng châu, tỉnh sơn la",
    "buôn Ko Tam, xã Ea Tu, thành phố Buôn Ma Thuột",
    "tổ dân phố 5, thị trấn Mường Tè, huyện Mường Tè",
    "ấp Phước Hòa, xã Tân Phú", "xóm Bãi, xã Đông Anh", "plei Ốp, phường Hoa Lư, thành phố Pleiku",
    "12/5 hẻm 34 đường Trần Hưng Đạo, phường 7, quận 5, Thành phố Hồ Chí Minh",
    "khóm 3, phường 2, thị xã Vĩnh Châu, tỉnh Sóc Trăng", "Phường Ba Đình", "thôn 3",
])
def test_addresses_are_masked_whole(address):
    assert redact.redact(f"residence {address}; ok") == "residence <address>; ok"


def test_dates_but_not_timestamps():
    assert redact.redact("born 12/05/1985, 12-05-1985, 1985-05-12, 12051985") == "born <date>, <date>, <date>, <date>"
    for stamp in ("2026-11-23T08:15:03+07:00", "2026-11-23 08:15:03,123", "2026-11-23T08:15"):
        assert redact.redact(f"at {stamp} sent") == f"at {stamp} sent"


def test_json_escaped_names_are_seen_too():
    assert redact.redact('{"full_name": "Nguy\\u1ec5n V\\u0103n A"}') == '{"full_name": "<name>"}'


# --- what must survive ------------------------------------------------------------------------

TECHNICAL = [
    "2026-11-23 08:15:03,123 INFO kiosk.services: dossier 01.00004-261204-0001 for flow khai-sinh v3: received",
    "KIOSK-HN-BADINH-01 procedure 1.001193 POST /api/v1/dossiers HTTP/1.1 201 Created",
    '127.0.0.1:51234 - "GET /api/v1/dossiers/01.00004-261204-0001?secret= HTTP/1.1" 404 Not Found',
    "printer sim: 3 jobs, 2048 bytes, status ok in 12.5 ms; flow khai-sinh v3 sha256 ab12",
    "bundle 2026-11-23-01 sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 staged (12 flows)",
    "uuid 0b8a1c2d-3e4f-5a6b-7c8d-901234567890 queued as TAM-20261123-0007",
    "> 00 A4 04 0C 07 A0 00 00 02 47 10 01 < 90 00 (SW=9000, 12 APDUs, 0.84 s)",
    "card reader 'ACS ACR39U ICC Reader 00 00' dropped a READ BINARY of 231 bytes; using smaller ones",
    "sync probe failed: Offline(code='unreachable'); next try in 4.0 s; outbox depth 3, oldest 120 s",
    "PACE failed (SecureMessagingError); trying BAC. KeyError: 'DG13'",
    "field y-kien-chu-ho, step ho-so-dinh-kem, flow chung-thuc-ban-sao v2 (procedure 2.000815)",
    "Hồ sơ số 01.00004-261204-0001 đã gửi; phiên bản 3",
    "Hệ thống trung tâm từ chối hồ sơ; vui lòng báo cán bộ kỹ thuật.",
    "Ki-ốt đang bảo trì: cấu hình chưa hoàn chỉnh. Nhập 6 số cuối số định danh.",
    "sent to the printer, do not retry; a long wait; A QR code; To Central; the scanner sent a line longer than any QR code",
    "nationality Việt Nam, language Tiếng Việt, fee 50.000 đồng, v1.2.3, TLS 1.3, port 8780",
]


@pytest.mark.parametrize("line", TECHNICAL)
def test_technical_lines_survive_unchanged(line):
    assert redact.redact(line) == line


def _literal_texts():
    """Every literal a log call, or an error's en=/vi=/detail=, holds in the product's source."""
    for pkg in ("common", "kiosk", "central", "devices", "flows"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args \
                        and node.func.attr in ("debug", "info", "warning", "error", "exception", "critical") \
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    yield f"{path.relative_to(ROOT)}: log", node.args[0].value
                if isinstance(node, ast.keyword) and node.arg in ("en", "vi", "detail") \
                        and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    yield f"{path.relative_to(ROOT)}: {node.arg}=", node.value.value


def test_no_message_the_product_writes_is_taken_for_personal_data():
    texts = list(_literal_texts())
    assert len(texts) > 200
    changed = [(where, text, redact.redact(text)) for where, text in texts if redact.redact(text) != text]
    assert not changed, changed
