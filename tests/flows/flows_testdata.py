"""Shared data for the flows tests (a plain module: a package named tests/flows would shadow the real `flows`): the shipped definitions and a minimal valid flow that
hostile variants are derived from."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "flows" / "definitions"

MINIMAL = {
    "schema": "kiosk-flow/1",
    "id": "thu-nghiem",
    "version": 1,
    "procedure_code": "1.000001",
    "name": {"vi": "Thủ tục thử nghiệm", "en": "Test procedure"},
    "field": {"vi": "Thử nghiệm", "en": "Testing"},
    "competent_level": "commune",
    "fee": {"amount": 0, "currency": "VND", "note": {"vi": "Miễn phí", "en": "Free"}},
    "processing_days": 3,
    "documents": [
        {"id": "giay-to", "name": {"vi": "Giấy tờ", "en": "A paper"}, "need": "if", "when": "need_paper == true",
         "when_text": {"vi": "Chỉ khi có giấy tờ", "en": "Only if you have a paper"}},
    ],
    "steps": [
        {"id": "huong-dan", "kind": "guide", "title": {"vi": "Hướng dẫn", "en": "Guide"}},
        {"id": "xac-thuc", "kind": "identify", "title": {"vi": "Xác thực", "en": "Identify"}},
        {"id": "mot", "kind": "form", "title": {"vi": "Một", "en": "One"},
         "skip_to": [{"if": "need_paper == false", "to": "noi"}],
         "fields": [
             {"id": "need_paper", "type": "yes_no", "label": {"vi": "Có giấy tờ", "en": "Has a paper"}, "required": True},
             {"id": "dob", "type": "date", "label": {"vi": "Ngày sinh", "en": "Date of birth"}, "required": True,
              "validation": {"max_date": "today"}},
             {"id": "guardian", "type": "text", "label": {"vi": "Người giám hộ", "en": "Guardian"}, "required": True,
              "visible_if": "age(dob) < 18"},
         ]},
        {"id": "giay", "kind": "documents", "title": {"vi": "Giấy tờ", "en": "Papers"}},
        {"id": "noi", "kind": "handling_unit", "title": {"vi": "Nơi giải quyết", "en": "Where"}},
        {"id": "kiem-tra", "kind": "review", "title": {"vi": "Kiểm tra", "en": "Review"}},
        {"id": "nop", "kind": "submit", "title": {"vi": "Nộp", "en": "Submit"}},
        {"id": "bien-nhan", "kind": "receipt", "title": {"vi": "Biên nhận", "en": "Receipt"}},
    ],
}


def dump(doc) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
