"""Remove personal data from text before it reaches a log line, an APDU log or a support bundle.

Two layers, because patterns alone cannot know every name or address:
1. patterns for what has a shape: 12-/9-digit ID numbers, phone numbers, dates, e-mail addresses,
   Vietnamese full names (a known family name followed by capitalised syllables) and addresses
   (a house number or an administrative word followed by the rest of the clause);
2. the values of the current visit: the citizen session registers every personal value it holds
   (``remember``) and the filter replaces them verbatim; ``forget_all`` runs when the session is wiped.

Pure: no logging or Kivy imports here; ``kiosk.logs`` installs it as a logging filter.
"""
from __future__ import annotations

import re
import threading
import unicodedata

_VN_UPPER = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_VN_LOWER = "a-zđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
_SYL = f"[{_VN_UPPER}][{_VN_LOWER}]*"
_SYL_ANYCASE = f"[{_VN_UPPER}][{_VN_UPPER}{_VN_LOWER}]*"

# The family names that cover the vast majority of Vietnamese citizens.
_FAMILY_NAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đinh Lâm "
    "Mai Trịnh Trương Cao Hà Tạ Lương Quách Thái Tô Kiều Chu Lưu Châu Đoàn Vương Triệu Tăng "
    "Ông Khổng Mạc Phùng Thân Từ Văn Diệp La Lại Âu Ung Hứa Lò Kim Bạch Giang Mạc Nông"
).split()
_FAMILY_RX = "|".join(sorted(set(_FAMILY_NAMES), key=len, reverse=True))
_FAMILY_UPPER_RX = "|".join(sorted({n.upper() for n in _FAMILY_NAMES}, key=len, reverse=True))

_ADMIN_WORDS = (
    r"số nhà|số|thôn|xóm|ấp|bản|buôn|tổ dân phố|tổ|khu phố|khu|ngõ|ngách|hẻm|kiệt|đường|phố|"
    r"phường|xã|thị trấn|quận|huyện|thị xã|tỉnh|thành phố|tp\.?|đặc khu"
)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    # ID numbers: 12 digits (căn cước), 9 digits (old CMND) — also inside MRZ lines
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "<id>"),
    (re.compile(r"(?<![\d.])(\+84|0084|0)(\s?\d){9,10}(?!\d)"), "<phone>"),
    (re.compile(r"(?<!\d)\d{9}(?!\d)"), "<id>"),
    (re.compile(r"IDVNM[0-9<]{25}|[0-9<]{7}[MF<][0-9<]{7}VNM[0-9<]{11}"), "<mrz>"),
    (re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?!\d)"), "<date>"),
    (re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)(?!T\d)"), "<date>"),
    (re.compile(r"(?<!\d)[0-3]\d[01]\d(19|20)\d\d(?!\d)"), "<date>"),
    # full names: family name + 1–5 capitalised syllables, in title case or all capitals
    (re.compile(rf"\b(?:{_FAMILY_RX})(?:\s+{_SYL}){{1,5}}\b"), "<name>"),
    (re.compile(rf"\b(?:{_FAMILY_UPPER_RX})(?:\s+[{_VN_UPPER}]+){{1,5}}\b"), "<name>"),
    # addresses: from a house number or an administrative word to the end of the clause
    (re.compile(rf"(?i)\b(?:{_ADMIN_WORDS})\s+[\w{_VN_LOWER}{_VN_UPPER}/.-]+(?:[ ,]+[^\n;|\"'}}\]]*)?"), "<address>"),
]

_lock = threading.Lock()
_known: set[str] = set()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def remember(*values: object) -> None:
    """Register personal values of the current visit so that they are redacted verbatim."""
    with _lock:
        for v in values:
            if v is None:
                continue
            s = _norm(str(v)).strip()
            if len(s) >= 3:
                _known.add(s)


def forget_all() -> None:
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    text = _norm(text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        text = text.replace(value, "<personal>")
    for rx, repl in _PATTERNS:
        text = rx.sub(repl, text)
    return text
