"""Field values: normalising what the screens hand in, and the messages when a value is wrong.

Pure functions, no state: the engine decides which fields are visible and calls these. Every
message is a (Vietnamese, English) pair; the Vietnamese one is what the citizen reads.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, Callable

from flows.model import Field

Msg = tuple[str, str]
_PHONE = re.compile(r"0[1-9]\d{8}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_SPACES = re.compile(r"\s+")
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")  # Vietnamese: "." groups thousands, "," is the decimal mark
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def to_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        m = _DMY.fullmatch(value.strip())
        try:
            if m:
                return date(int(m[3]), int(m[2]), int(m[1]))
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def normalize(field: Field, value: Any) -> Any:
    """What the engine stores. Values it cannot make sense of are kept as given, so that
    :func:`check` can tell the citizen what is wrong instead of the value silently vanishing."""
    if value is None:
        return None
    t = field.type
    if t in ("text",) and isinstance(value, str):
        v = _SPACES.sub(" ", value).strip()
        return v or None
    if t == "number":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            s = value.strip().replace(" ", "")
            if not s:
                return None
            if _GROUPED.fullmatch(s):  # "1.000.000 đồng"
                return int(s.replace(".", ""))
            try:
                return int(s)
            except ValueError:
                try:
                    return float(s.replace(",", "."))
                except ValueError:
                    return value
        return value
    if t == "date":
        d = to_date(value)
        if d is not None:
            return d.isoformat()
        return value if not (isinstance(value, str) and not value.strip()) else None
    if t == "phone" and isinstance(value, str):
        v = re.sub(r"[\s.\-()]", "", value)
        if v.startswith("+84"):
            v = "0" + v[3:]
        elif v.startswith("84") and len(v) == 11:
            v = "0" + v[2:]
        return v or None
    if t == "email" and isinstance(value, str):
        return value.strip().lower() or None
    if t == "id_number" and isinstance(value, str):
        return re.sub(r"\s", "", value) or None
    if t == "multi_choice" and isinstance(value, (list, tuple, set)):
        return list(dict.fromkeys(value))
    if t == "choice" and isinstance(value, str):
        return value or None
    return value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _label(field: Field) -> Msg:
    return field.label["vi"], field.label["en"]


def _is_question(field: Field) -> bool:
    return field.label["vi"].rstrip().endswith("?")


def check(field: Field, value: Any, today: date, resolve: Callable[[str], Any]) -> Msg | None:
    """The first thing wrong with ``value`` for ``field`` (already known visible), or None.

    A label may be a question a citizen understands ("Quý khách là gì của cháu bé?"): its messages
    then repeat the question and speak of "the answer" ("… Vui lòng chọn câu trả lời."), where a
    plain label is the subject ("Ngày sinh của mẹ không được sau …")."""
    if not _is_question(field):
        return _check(field, value, today, resolve, _label(field))
    msg = _check(field, value, today, resolve, ("Câu trả lời", "The answer"))
    if msg is None or any(msg == (r.message["vi"], r.message["en"]) for r in field.rules) or msg[0] == field.validation.get(
            "pattern_message", {}).get("vi"):
        return msg  # the flow author's own words stand alone
    return f"{field.label['vi']} {msg[0]}", f"{field.label['en']} {msg[1]}"


def _check(field: Field, value: Any, today: date, resolve: Callable[[str], Any], label: Msg) -> Msg | None:
    lvi, len_ = label
    t = field.type
    v = field.validation
    if is_empty(value):
        if field.required:
            if t in ("choice", "multi_choice", "yes_no", "date", "address"):
                return f"Vui lòng chọn {lvi.lower()}.", f"Please choose {len_.lower()}."
            return f"Vui lòng nhập {lvi.lower()}.", f"Please fill in {len_.lower()}."
        return None
    if t == "text":
        if not isinstance(value, str):
            return f"{lvi}: giá trị không hợp lệ.", f"{len_}: not a valid value."
    elif t == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{lvi} phải là một số.", f"{len_} must be a number."
        if "min" in v and value < v["min"]:
            return f"{lvi} không được nhỏ hơn {v['min']:g}.", f"{len_} cannot be less than {v['min']:g}."
        if "max" in v and value > v["max"]:
            return f"{lvi} không được lớn hơn {v['max']:g}.", f"{len_} cannot be more than {v['max']:g}."
    elif t == "date":
        d = to_date(value)
        if d is None:
            return f"{lvi} không phải là một ngày hợp lệ.", f"{len_} is not a valid date."
        for expr, is_min in ((field.min_date, True), (field.max_date, False)):
            if expr is None:
                continue
            bound = to_date(expr.evaluate(resolve, today))
            if bound is None:
                continue
            if is_min and d < bound:
                return (f"{lvi} không được trước ngày {bound:%d/%m/%Y}.", f"{len_} cannot be before {bound:%d/%m/%Y}.")
            if not is_min and d > bound:
                return (f"{lvi} không được sau ngày {bound:%d/%m/%Y}.", f"{len_} cannot be after {bound:%d/%m/%Y}.")
    elif t == "choice":
        if not isinstance(value, str) or field.option(value) is None:
            return f"{lvi}: lựa chọn không hợp lệ.", f"{len_}: not one of the choices."
    elif t == "multi_choice":
        if not isinstance(value, list) or any(not isinstance(x, str) or field.option(x) is None for x in value):
            return f"{lvi}: lựa chọn không hợp lệ.", f"{len_}: not one of the choices."
        if "min_choices" in v and len(value) < v["min_choices"]:
            return f"Vui lòng chọn ít nhất {v['min_choices']} mục ở {lvi.lower()}.", f"Choose at least {v['min_choices']} for {len_.lower()}."
        if "max_choices" in v and len(value) > v["max_choices"]:
            return f"Chỉ được chọn tối đa {v['max_choices']} mục ở {lvi.lower()}.", f"Choose at most {v['max_choices']} for {len_.lower()}."
    elif t == "yes_no":
        if not isinstance(value, bool):
            return f"{lvi}: vui lòng chọn Có hoặc Không.", f"{len_}: choose yes or no."
    elif t == "phone":
        if not isinstance(value, str) or not _PHONE.fullmatch(value):
            return ("Số điện thoại không hợp lệ: cần 10 chữ số, bắt đầu bằng số 0.",
                    "Not a valid phone number: 10 digits starting with 0.")
    elif t == "email":
        if not isinstance(value, str) or not _EMAIL.fullmatch(value) or len(value) > 254:
            return "Địa chỉ email không hợp lệ.", "Not a valid e-mail address."
    elif t == "id_number":
        ok = isinstance(value, str) and (re.fullmatch(r"\d{12}", value) or (v.get("allow_old_id") and re.fullmatch(r"\d{9}", value)))
        if not ok:
            if v.get("allow_old_id"):
                return ("Số định danh cá nhân phải gồm 12 chữ số (hoặc số CMND cũ gồm 9 chữ số).",
                        "The personal ID number must be 12 digits (or an old 9-digit ID).")
            return "Số định danh cá nhân phải gồm 12 chữ số.", "The personal ID number must be 12 digits."
    elif t == "address":
        from flows import units

        if not isinstance(value, dict) or not value.get("province_code") or not value.get("commune_code"):
            return (f"{lvi}: vui lòng chọn tỉnh/thành phố và xã/phường.", f"{len_}: choose the province and the commune.")
        if not units.commune_in_province(value["commune_code"], value["province_code"]):
            return (f"{lvi}: xã/phường đã chọn không thuộc tỉnh/thành phố đã chọn.",
                    f"{len_}: the commune is not in the chosen province.")
        if len(value.get("street") or "") > 200:
            return f"{lvi}: số nhà, đường phố quá dài.", f"{len_}: the street part is too long."
    if isinstance(value, str) and t in ("text", "phone", "email", "id_number"):
        if "min_length" in v and len(value) < v["min_length"]:
            return f"{lvi} phải có ít nhất {v['min_length']} ký tự.", f"{len_} needs at least {v['min_length']} characters."
        if len(value) > v.get("max_length", 500):
            n = v.get("max_length", 500)
            return f"{lvi} không được dài quá {n} ký tự.", f"{len_} cannot be longer than {n} characters."
        if "pattern" in v and not re.fullmatch(v["pattern"], value):
            pm = v.get("pattern_message")
            if pm:
                return pm["vi"], pm["en"]
            return f"{lvi} không đúng định dạng.", f"{len_} is not in the expected form."
    for rule in field.rules:
        if not rule.check.test(resolve, today):
            return rule.message["vi"], rule.message["en"]
    return None
