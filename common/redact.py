"""Keep personal data out of log lines, APDU logs, heartbeats and support bundles.

Three layers, because none is enough alone:

1. **Typed values.** Code that has a personal value in hand and wants to mention it wraps it:
   ``log.info("card read for %s", pii(person.full_name, "name"))``. A :class:`Personal` prints
   as ``<name>`` through ``str``, ``repr``, ``format`` and ``%``, so no formatter, f-string or
   ``repr`` of a dict holding one can spell it out; ``reveal()`` is the one explicit way back.
2. **The values of the current visit** (``remember``, by the citizen session; ``forget_all`` when
   it is wiped) and of the dossier a process is handling (``hold``/``release``, ``scoped``: the
   sync worker). They are matched case- and diacritic-insensitively, with any spacing or
   separators: after ``remember("Hầu Thị Lan")`` neither "HẦU THỊ LAN" nor "hau  thi lan" passes.
3. **Patterns**, for processes and texts that know no values (the central system, journal lines in
   a support bundle): ID numbers and phone numbers with or without separators, dates, e-mail
   addresses, MRZ lines; Vietnamese names from the family names and the naming patterns of the
   ethnic groups (see ``_FAMILY_NAMES``), in title case, capitals, lower case and without
   diacritics; addresses from their administrative words (``_ADMIN``); any run of two or more
   capitalised words with Vietnamese diacritics (a place or a name whose family the lists miss).

What must survive, because it is what a technician reads: dossier codes (01.00004-261204-0001),
kiosk ids, flow ids, procedure codes (1.001193), timestamps, HTTP status lines, sizes, versions,
hashes and English text (``tests/common/test_redact.py`` and ``test_redact_citizens.py``, which
generates a few hundred citizens of all 54 groups, hold both sides).

Pure apart from :func:`install_logging`: :class:`RedactingFilter` is what ``kiosk.logs`` and the
central system's worker processes put on every log handler.
"""
from __future__ import annotations

import logging
import re
import sys
import threading
import unicodedata
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

# --------------------------------------------------------------------------------------------
# 1. Typed personal values


class Personal:
    """A personal value that must never be spelled out by accident: it formats as ``<kind>``."""

    __slots__ = ("value", "kind")

    def __init__(self, value: Any, kind: str = "personal"):
        self.value = value
        self.kind = kind

    def __str__(self) -> str:
        return f"<{self.kind}>"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Personal) and (self.value, self.kind) == (other.value, other.kind)

    def __hash__(self) -> int:
        return hash((Personal, self.kind))

    def reveal(self) -> Any:
        return self.value


def pii(value: Any, kind: str = "personal") -> Personal:
    """``value`` as a :class:`Personal` (a no-op for one already wrapped)."""
    return value if isinstance(value, Personal) else Personal(value, kind)


def reveal(value: Any) -> Any:
    """The value inside a :class:`Personal`; anything else unchanged."""
    return value.value if isinstance(value, Personal) else value


# --------------------------------------------------------------------------------------------
# Folding: lower case, no diacritics, đ → d, one character for one character, so that a match
# found in the folded text is the same span in the original.

def _fold_char(c: str) -> str:
    if c in "đĐ":
        return "d"
    if c in "’‘ʼ`´":
        return "'"
    low = unicodedata.normalize("NFD", c)[0].lower()
    return low[0] if low else c


_FOLD_TABLE = {cp: _fold_char(chr(cp)) for cp in [*range(0x41, 0x5B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00),
                                                   0x2018, 0x2019, 0x02BC, 0x60, 0xB4]}


def fold(text: str) -> str:
    """Lower case without diacritics, the same length as ``text`` (which must be NFC)."""
    return text.translate(_FOLD_TABLE)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------------------------
# 2. Values of the current visit, and of the dossier a worker is handling

_lock = threading.Lock()
_visit: set[str] = set()
_held: dict[int, tuple[str, ...]] = {}
_version = 0
_compiled: tuple[int, re.Pattern[str] | None] = (-1, None)

_MIN_ALNUM = 3  # "Nữ", "01": too short to mean anything on their own, too common to mask


def _personal_strings(values: Iterable[object]) -> Iterator[str]:
    for v in values:
        v = reveal(v)
        if v is None or isinstance(v, (bool, bytes, bytearray, Mapping, list, tuple, set, frozenset)):
            continue  # a flag, a photo or a nested structure (authentication checks) is not a value to mask
        s = _nfc(str(v)).strip()
        if sum(ch.isalnum() for ch in s) >= _MIN_ALNUM:
            yield s


def remember(*values: object) -> None:
    """Register personal values of the current visit: they are masked wherever they appear, in
    any case, with or without diacritics, until :func:`forget_all`."""
    global _version
    new = set(_personal_strings(values))
    with _lock:
        if not new <= _visit:
            _visit.update(new)
            _version += 1


def forget_all() -> None:
    """The visit is over (the session was wiped)."""
    global _version
    with _lock:
        if _visit:
            _visit.clear()
            _version += 1


def hold(owner: object, values: Iterable[object]) -> None:
    """Mask ``values`` for ``owner`` (replacing what it held before) until :func:`release`:
    a worker handling one dossier at a time holds that dossier's values."""
    global _version
    strings = tuple(_personal_strings(values))
    with _lock:
        if _held.get(id(owner)) != strings:
            _held[id(owner)] = strings
            _version += 1


def release(owner: object) -> None:
    global _version
    with _lock:
        if _held.pop(id(owner), None) is not None:
            _version += 1


@contextmanager
def scoped(*values: object) -> Iterator[None]:
    """``with scoped(name, id_number): …`` masks them for the block, in any thread's logs."""
    token = object()
    hold(token, values)
    try:
        yield
    finally:
        release(token)


# Fields of a dossier (flows.FlowEngine.dossier) that hold no personal value: masking "chip" or
# "khai-sinh" for as long as a dossier is handled would only blind the technician.
_NOT_PERSONAL_KEYS = {"source", "authentication", "schema", "uuid", "flow", "procedure", "handling_unit", "fee",
                      "processing_days", "receipt_cutoff", "kiosk_id", "consent", "created_at", "attachments", "sex",
                      "nationality"}


def personal_values(dossier: Mapping[str, Any]) -> list[object]:
    """The values of a dossier document worth masking: the applicant's and the answers'."""
    out: list[object] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key not in _NOT_PERSONAL_KEYS:
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            out.append(node)

    walk(dossier.get("applicant") or {})
    walk(dossier.get("answers") or {})
    return out


def _value_regex(value: str) -> str | None:
    parts = re.findall(r"[0-9a-z]+", fold(value))
    if sum(len(p) for p in parts) < _MIN_ALNUM:
        return None
    if all(p.isdigit() for p in parts):
        # a number matches with any separators between its digits: 001185012345, 001 185 012 345
        digits = "".join(parts)
        return r"(?<![0-9a-z])" + r"[ .\-/]?".join(digits) + r"(?![0-9a-z])"
    return r"(?<![0-9a-z])" + r"[^0-9a-z\n]{1,3}".join(re.escape(p) for p in parts) + r"(?![0-9a-z])"


def _known_regex() -> re.Pattern[str] | None:
    global _compiled
    with _lock:
        version, pattern = _compiled
        if version == _version:
            return pattern
        values = set(_visit)
        for held in _held.values():
            values.update(held)
        current = _version
    parts = sorted({rx for v in values if (rx := _value_regex(v))}, key=len, reverse=True)
    pattern = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None
    with _lock:
        _compiled = (current, pattern)
    return pattern


# --------------------------------------------------------------------------------------------
# 3a. Patterns for what has a shape

_B = r"(?<![\w.+/\-])"            # not glued to a word, a path, a version or a code
_E = r"(?![\w]|[.\-/]\d)"          # and not running on into more digits

_MRZ = re.compile(r"IDVNM[0-9<]{25}|[0-9<]{7}[MF<][0-9<]{7}VNM[0-9<]{11}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# One pass for everything made of digits, the first alternative that fits winning: a 12-digit ID
# before a phone number before a 9-digit ID before a date.
_NUMBERS = re.compile(_B + r"(?=[\d+(])(?:"
    # ID numbers: 12 digits (căn cước), whole or in groups of 3, 4 or 6
    r"(?P<id>\d{12}|\d{3}(?P<s1>[ .\-])\d{3}(?P=s1)\d{3}(?P=s1)\d{3}|\d{4}(?P<s2>[ .\-])\d{4}(?P=s2)\d{4}"
    r"|\d{6}[ .\-]\d{6}|\d{3}[ .\-]\d{3}[ .\-]\d{6}|\d{3}[ .\-]\d{9})" + _E +
    # phone numbers: 0912345678, 091.234.5678, 0912 345 678, +84 91 234 5678, (024) 3826 1234, 84912345678
    r"|(?P<phone>(?:\+|00)\s?84[ .\-]?(?:\(0\)[ .\-]?)?\d{2,3}[ .\-]?\d{3,4}[ .\-]?\d{3,4}"
    r"|\(\+?84\)[ .\-]?\d{2,3}[ .\-]?\d{3,4}[ .\-]?\d{3,4}"
    r"|\(0\d{2,3}\)[ .\-]?\d{3,4}[ .\-]?\d{3,4}"
    r"|0\d{9,10}|84[35789]\d{8}"
    # grouped: 10 digits (mobile) or 11 (landline), as people write them
    r"|0\d{2,3}[ .\-]\d{4}[ .\-]\d{4}|0\d{3}[ .\-]\d{3}[ .\-]\d{4}|0\d{2}[ .\-]\d{3}[ .\-]\d{4}"
    r"|0\d{3}[ .\-]\d{3}[ .\-]\d{3}|0\d{2}[ .\-]\d{4}[ .\-]\d{3}|0\d{3}[ .\-]\d{6}|0\d{2}[ .\-]\d{7}"
    r"|0\d{2}[ .\-]\d{3}[ .\-]\d{2}[ .\-]\d{2})" + _E +
    # the old 9-digit CMND
    r"|(?P<cmnd>\d{9}|\d{3}(?P<s3>[ .\-])\d{3}(?P=s3)\d{3})" + _E +
    # dates: a birth, issue or expiry date; an ISO date followed by a time is a timestamp and stays
    r"|(?P<date>\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}" + _E + r"|\d{4}-\d{2}-\d{2}(?![\w]|[ T]\d{1,2}:\d{2}|[.\-/]\d)"
    r"|[0-3]\d[01]\d(?:19|20)\d\d" + _E + r"))")
_NUMBER_MASKS = {"id": "<id>", "phone": "<phone>", "cmnd": "<id>", "date": "<date>"}


def _mask_number(m: re.Match) -> str:
    return next(mask for group, mask in _NUMBER_MASKS.items() if m.group(group) is not None)


def _patterns(text: str) -> str:
    if "VNM" in text:
        text = _MRZ.sub("<mrz>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if _DIGITS_HINT.search(text):
        text = _NUMBERS.sub(_mask_number, text)
    return text

# --------------------------------------------------------------------------------------------
# 3b. Names
#
# Sources (found with a web search; the lists keep the spellings of Vietnamese identity papers):
# - Kinh: the 14 family names that cover about 90% of Vietnamese (Nguyễn 38–39%, Trần 11%, Lê 9.5%,
#   Phạm 7.1%, Huỳnh/Hoàng 5.1%, Phan 4.5%, Vũ/Võ 3.9%, Đặng 2.1%, Bùi 2%, Đỗ 1.4%, Hồ 1.3%, Ngô
#   1.3%, Dương 1%, Lý 0.5%) and the less common ones listed with them: Wikipedia, "Vietnamese name"
#   (mirrored at piglix.com/piglix/Vietnamese_name, waiwiki.blogspot.com 2009); Lê Trung Hoa,
#   "Họ và tên người Việt Nam" (NXB KHXH, 3rd ed. 2005: 1,023 family names, 165 of them Kinh; via
#   sggp.org.vn, "Người Việt Nam chúng ta hiện nay có bao nhiêu họ?").
# - The 54 groups: Tổng cục Thống kê, "Danh mục các dân tộc Việt Nam" (QĐ 121-TCTK/PPCĐ 1979,
#   QĐ 1019/QĐ-TCTK 2008; qcvn109.gov.vn appendix E); Nguyễn Khôi, "Họ và tên của 54 dân tộc Việt
#   Nam" / "Giải mã họ và tên các dân tộc ở Việt Nam" (vanhoaviet; trangvhntnguoncoi.wordpress.com
#   2013; vietnamorchirds-nguyentienquang.blogspot.com 2015): Thái family names (Bạc, Bế, Cà, Cầm,
#   Đèo, Hoàng, Lò, Lô, La, Lộc, Lường, Mè, Ngần, Nông, Quàng, Sầm, Tòng, Vi …, the 12 old ones Lò,
#   Lường, Quàng, Tòng, Cà, Lỡo, Mè, Lù, Lềm, Ngần, Nông), Ba Na, Brâu, Rơ Măm without family
#   names, Bru-Vân Kiều taking Hồ, Co taking Đinh and Hồ, Chơ Ro and X'tiêng Điểu.
# - Central Highlands: "Đôi điều về 'họ' của người Tây Nguyên", Báo Đắk Lắk 2022: Ba Na and Xơ Đăng
#   write A before a man's name and Y before a woman's; Cơ Ho K' (men) and Ka (women), clans Kra Zan,
#   Păng Ting; Hrê and Ca Dong take Đinh; Mnông Gar N'Tơr, Bing; Ê Đê Niê, Mlô, Niê Siêng, Êban,
#   Buôn Yă, Buôn Krông, Kmăn with Y (men) and H' (women) before the given name, the family name
#   last; Jrai Nay, Ksor, Kpă, Siu, Rchom. Jrai family names and their spellings (Ksor, Nay, Kpă,
#   Rơ Chom/Rơ Châm/Rchâm/Rcom, Rơ Ô, Alê, Rơmah, Siu, Rahlan, Puih, Rơ Mô): dantocmiennui.vn, "Một
#   cách hiểu khác về họ của người Jrai". Ê Đê: Wikipedia, "Rade people" (H' and Y-, Niê and Mlô,
#   Niê Kdăm, Mlô Dun Du, Buôn Yă). Mnông: Đặng Văn Bình, "Tên chính danh của người Mnông" (thesis,
#   ĐHSP Hà Nội 2017: Y and H as name prefixes).
# - Hmông: the 18 clans (Wikipedia, "Hmong customs and culture", clan table; liquisearch.com and
#   jedivaj.tripod.com list them with their spellings), as Vietnamese papers write them: Vàng
#   (Vang), Giàng (Yang), Sùng (Xiong), Thào (Thao), Lầu (Lor), Hầu (Her), Lý (Lee), Mùa (Moua), Vừ
#   (Vue), Hạng (Hang), Khang; Tráng, Hờ, Chá, Cứ, Sình and Mã are further clan names common on
#   Vietnamese papers. Middle names A, Seo, Chứ (men), Mí, Thị (women).
# - Khmer: the family names the Nguyễn court gave, Thạch, Lâm, Sơn, Kim, Danh, and Chau (men),
#   Néang (women) in An Giang: "Tìm hiểu về họ người Khmer" (vanhoanvietnam.blogspot.com 2016),
#   "Họ Sơn là dân tộc gì?" (phongnhaexplorer.com).
# - Less documented, from Nguyễn Khôi where he lists them and otherwise as commonly seen on papers
#   (no single source checked): Chăm (Thiên Sanh, Châu, Đàng, Lưu, Thông, Quảng, Bá, Hán, Trượng),
#   Raglai (Chamaléa, Katơr, Pinăng, Mấu), Chu Ru (Touneh), Cơ Tu (Alăng, Bhling, Zơrâm, Briu, Clâu,
#   Pơloong, Hốih, Ating, Arất), Tà Ôi (Hồ, Kăn), Mường (Đinh, Quách, Bạch, Hà, Xa), Tày and Nùng
#   (Hoàng, Nông, Lương, Lục, Bế, Ma, Đàm, Vi, Lã, Hứa, Lăng, Sầm), Dao (Bàn, Triệu, Đặng, Chảo,
#   Tẩn, Phùng, Lìu), the Tạng-Miến groups (Hà Nhì, La Hủ, Lô Lô, Cống, Si La, Phù Lá: Chu, Ly, Pờ,
#   Phu, Sừ, Chang, Lò, Chảo, Phàn, Sình, Lùng, Mìn, Hù), Khơ Mú (Lò, Vi, Cụt, Lư, Xồng).

_FAMILY_NAMES = """
    Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lí Đào Đinh Lâm Mai Trịnh Trương
    Cao Hà Tạ Lương Quách Thái Tô Kiều Chu Lưu Châu Đoàn Vương Triệu Tăng Ông Khổng Mạc Phùng Thân Từ Văn Diệp
    La Lại Âu Ung Ứng Hứa Giang Nông Bạch Kim Thạch Lục Đàm Nghiêm Chung Phó Tôn Liễu Lạc Lã Mã Mạch Bành Hàn
    Quang Quyền Thi Tiêu Trang Thủy Khúc Khương Cù Cung Doãn Giáp Hầu Kha Lò Lỡo Lường Quàng Tòng Cà Mè Lù
    Lềm Ngần Cầm Bạc Đèo Sầm Vi Vì Xa Bế Ma Lăng Mông Chẩu Chiêu Khằm Lộc Lự Ngu Panh Pha Phia Tao Tạo Lô
    Giàng Sùng Thào Lầu Mùa Vừ Tráng Hờ Hạng Chá Cứ Phàn Khang Vàng Sình Sần Thèn Pờ Phu Sừ Chang Lùng Mìn
    Hù Chảo Tẩn Bàn Lìu Nguyên Danh Sơn Chau Néang Đàng Thông Quảng Bá Hán Trượng Điểu Kăn Căn Xồng Cụt Lư Chìn
    Ksor Nay Kpă Siu Rchom Rchâm Rcom Rahlan Rlan Alê Rơmah Rmah Puih Hiao Niê Mlô Êban Kmăn Buôn
    Touneh Chamaléa Katơr Pinăng Mấu Alăng Bhling Zơrâm Briu Clâu Pơloong Hốih Ating Arất Bing N'Tơr
    Rơ_Châm Rơ_Chom Rơ_Chăm Rơ_Mah Rơ_Ô Rơ_Mô Rơ_Lan Ra_Lan Niê_Kdăm Niê_Siêng Mlô_Dun_Du Mlô_Duôn_Du
    Buôn_Yă Buôn_Krông Thiên_Sanh Kra_Zan Păng_Ting Liêng_Hót Bon_Niêng Kơ_Liêng Pi_Năng
"""

# Family names whose folded spelling is no common word, English or Vietnamese: in lower case
# they start a name whatever follows. The others ("lê", "hồ", "đang"/"Đặng", "vàng", "danh",
# "son", "to", "do") need capitals, or in unaccented lower case a middle name or two given names.
_DISTINCTIVE = set("""
    nguyen tran pham hoang huynh bui quach giang sung thao thach phung nghiem diep ksor nie mlo kpa siu rchom
    rcham rcom rahlan rmah puih eban kman touneh chamalea kator pinang alang bhling zoram briu clau ploong
    hoih ating arat hiao ro_cham ro_chom ro_mah ro_o ro_mo nie_kdam nie_sieng mlo_dun_du mlo_duon_du
    buon_ya buon_krong thien_sanh kra_zan pang_ting bing n'tor
""".split())

# In lower case with diacritics, the family names that are no Vietnamese word ("phạm vi", "vũ trụ",
# "đỗ xe", "dương tính" are).
_DISTINCTIVE_ACCENTED = {(w,) for w in """
    nguyễn trần hoàng huỳnh bùi đặng trịnh trương quách giàng sùng thào thạch phùng nghiêm diệp ksor niê mlô
    kpă siu rchom rchâm rahlan rơmah puih êban kmăn touneh chamaléa katơr pinăng alăng bhling zơrâm briu clâu
    pơloong hốih ating arất điểu bing n'tơr
""".split()} | {("rơ", "châm"), ("rơ", "chom"), ("rơ", "mah"), ("niê", "kdăm"), ("thiên", "sanh"), ("buôn", "yă"),
                ("buôn", "krông")}

# Given and middle names, folded: common Kinh names and the minority names of the sources above.
# They tell a name from a phrase where the family name alone cannot ("le van an" or "lo thi
# mai" but not "to the printer").
_GIVEN = set("""
    a an anh ai bach bang bao bau be bich binh buu ca cam can canh cat chau chi chien chinh chuc chung chuong
    cong cuc cuong dai dam dan dang danh dao dat dien diem diep dieu dinh doan doanh dong du duc dung duong
    duy duyen gai gam giang giao gioi ha hai han hang hanh hao hau hien hiep hieu hinh hoa hoai hoan hoang hoc
    hong hop hue hung huong huu huy huyen kha khai khang khanh khiem khoa khoi khuong khue kien kieu kim ky lac
    lai lam lan lang lap le len lien lieu linh loan loc loi long luan luc luong ly mai man manh mien minh my na
    nam nga ngan nghe nghi nghia ngoan ngoc nguyen nguyet nhan nhat nhi nhien nhu nhung ninh oanh phat phi phong
    phu phuc phung phuoc phuong quan quang que quoc quy quyen quyet quynh sa sam sang sen si sinh son suong
    tai tam tan tang thach thai tham than thang thanh thao thap that thi thien thiet thinh tho thoa thom thong
    thu thuan thuc thuong thuy thuyen tien tiep tin tinh toan toi trai tram tran tri trieu trinh trong truc
    trung truong tu tuan tue tung tuong tuyen tuyet uyen van vang viet vinh vu vuong vy xuan xuyen y yen
    seo mi pao chu chua cho dua dinh mua pa pang pua say sinh su tua vua ya cha chang gia giong kha khu lu mao
    mang nhia phu say tong tuan sua cau dong kinh mo na pinh kay va xay dia
    sa ray sophal chanh sokha sol somaly sophea thearith sari ry ni soc khang neang chanh thol mony
    bih hen ngon ngong mari nghia blum jam tuyn kdam wang phin der loet poi jon tih ni phuoc toan nguyen
    thur thop yung blui aying blinh nhieng dim dech njuk huy nhok dai we bot thieu phi nhi hpi glar
    hlang kim thuong doi ut hoi briu ating alang bhling
    ba bia blak blanh blo blong bon breo bri broi brol brong brut bung cham choi de din dju do don duk en ga gio
    gom hech hnhun hom inh jut kham khom klah ko kong krong la lanh lep liec lo luom may me mia muoi nang ngam
    nghien nghieng nhay nhon nhum nu pau pet pha phan phanh phen pieng po pom pot qua ren rin roi sal sanh sau
    senh slam so sot sun tha thiem thoong thuol thuon thuot trang truyen ty ui un wil xa xe xiem xiu xo xoan xua
    yet muoi bay tam chin nhat nhi
""".split())

# Middle names that, right after a family name, make lower-case text a name ("van" and "a" only
# before a given name: "văn bản", "do a retry").
_MARKERS = {"van", "thi", "seo", "mi", "a"}
_MARKERS_ACCENTED = {"văn", "thị", "seo", "mí", "a"}

# Words that end a lower-case name: the English around a name, and Vietnamese function words
# (spelt with their diacritics; unaccented, they end a name only when they are no given name).
_STOP_EN = set("""
    is was has had and or the to for from with at in on of by id phone born read ok failed error sent card dob
    not no he she his her who which that this mother father wife husband spouse daughter child applicant
    citizen name address residence home town typed retyped refused garbage answer for
""".split())
_STOP_VI = set("""
    đã đang sẽ là và của cho nộp không có được với tại từ đến ở rồi này do bị về sinh ngày tháng năm số điện thoại
    địa chỉ họ tên sơ cmnd cccd
""".split())
_STOP_VI_FOLDED = {fold(w) for w in _STOP_VI}


def _stops_a_name(t: "_Tok") -> bool:
    if t.ascii:
        return t.fold in _STOP_EN or (t.fold in _STOP_VI_FOLDED and t.fold not in _GIVEN)
    return _low(t) in _STOP_VI


# A lower-case unaccented word that can be a syllable of a name (Vietnamese spelling, loosely):
# "mother" or "printer" cannot, "pieng" or "sanh" can.
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?")

# Given names that are English words: after a lower-case "a" or "y" they are English, not a name.
_ENGLISH_GIVEN = {"an", "ban", "can", "long", "man", "son", "hang", "tan", "van", "may", "sang", "bin", "lap",
                  "be", "chi", "da", "ha", "hen", "jam", "mo", "na", "ni", "pa", "sa", "si", "su", "to", "tu",
                  "ut", "va", "we", "y", "ya"}


def _split_family(raw: str) -> tuple[str, ...]:
    return tuple(_nfc(w) for w in raw.split("_"))


def _family_table() -> dict[str, list[tuple[tuple[str, ...], frozenset, bool]]]:
    by_folded: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for raw in _FAMILY_NAMES.split():
        words = _split_family(raw)
        folded = tuple(fold(w) for w in words)
        by_folded.setdefault(folded, set()).add(tuple(w.lower() for w in words))
    table: dict[str, list[tuple[tuple[str, ...], frozenset, bool]]] = {}
    for folded, accented in by_folded.items():
        distinctive = "_".join(folded) in _DISTINCTIVE
        table.setdefault(folded[0], []).append((folded, frozenset(accented), distinctive))
    for entries in table.values():
        entries.sort(key=lambda e: len(e[0]), reverse=True)
    return table


_FAMILY = _family_table()
_FAMILY_FIRST = set(_FAMILY)

# Name prefixes: Ê Đê, Jrai, Mnông Y (men) and H' (women); Ba Na, Xơ Đăng, Giẻ Triêng A (men) and
# Y (women); Cơ Ho, Mạ K' (men) and Ka (women); X'tiêng, Chơ Ro Thị (women; their men's Điểu is a
# family name above, as is the Khmer Chau).
_PREFIXES = {"y", "a", "ka", "thi"}

# --------------------------------------------------------------------------------------------
# 3c. Addresses: administrative words, folded, with how much each says on its own

_ADMIN_STRONG = """
    số_nhà thôn xóm ấp buôn bon plei tổ_dân_phố khu_phố khóm sóc phum ngõ ngách hẻm kiệt đường phố phường xã
    thị_trấn quận huyện thị_xã tỉnh thành_phố tp đặc_khu khu_dân_cư khu_đô_thị khu_tập_thể chung_cư
"""
_ADMIN_WEAK = "số tổ khu bản làng khối đội lầu tầng phòng căn_hộ tòa_nhà cụm"
# unaccented, these are common words too ("so", "to", "ban", "xa", "quan", "duong"): weak
_ASCII_STRONG = {("thon",), ("xom",), ("buon",), ("plei",), ("so", "nha"), ("to", "dan", "pho"), ("khu", "pho"),
                 ("khom",), ("phum",), ("ngach",), ("phuong",), ("thi", "tran"), ("huyen",), ("thi", "xa"),
                 ("thanh", "pho"), ("dac", "khu"), ("khu", "dan", "cu"), ("khu", "do", "thi"), ("chung", "cu"),
                 ("tp",)}


def _admin_table() -> dict[str, list[tuple[tuple[str, ...], frozenset, bool]]]:
    table: dict[str, list[tuple[tuple[str, ...], frozenset, bool]]] = {}
    entries: dict[tuple[str, ...], tuple[set, bool]] = {}
    for raws, strong in ((_ADMIN_STRONG, True), (_ADMIN_WEAK, False)):
        for raw in raws.split():
            words = _split_family(raw)
            folded = tuple(fold(w) for w in words)
            accented, was_strong = entries.get(folded, (set(), False))
            accented.add(tuple(w.lower() for w in words))
            entries[folded] = (accented, was_strong or strong)
    for folded, (accented, strong) in entries.items():
        table.setdefault(folded[0], []).append((folded, frozenset(accented), strong))
    for items in table.values():
        items.sort(key=lambda e: len(e[0]), reverse=True)
    return table


_ADMIN = _admin_table()

# --------------------------------------------------------------------------------------------
# Tokens

_LETTER = r"[^\W\d_]"
_TOKEN_RX = re.compile(
    rf"{_LETTER}+(?:['’‘ʼ]{_LETTER}+|-{_LETTER}+)*['’‘ʼ]?"    # words: Nguyễn, H'Hen, Y-Ngông, N'Tơr
    rf"|\d+{_LETTER}?(?:/\d+{_LETTER}?)*"                     # house numbers: 12, 12A, 34/5
)
_GLUE_BEFORE = set("._/@\\-+#$%&*~")
_GLUE_AFTER = set("_/@\\#$%&*~")
_SPACE_GAP = re.compile(r"[ \t\u00a0]+")
_COMMA_GAP = re.compile(r"[ \t\u00a0]*,[ \t\u00a0]*")


class _Tok:
    __slots__ = ("start", "end", "text", "fold", "word", "opaque", "gap", "ascii", "_case", "used")

    def __init__(self, start: int, end: int, text: str, folded: str, word: bool, opaque: bool):
        self.start, self.end, self.text, self.fold, self.word, self.opaque = start, end, text, folded, word, opaque
        self.ascii = text.isascii()
        self._case = None
        self.gap = "break"
        self.used = False

    @property
    def case(self) -> str:
        if self._case is None:
            self._case = _case(self.text) if self.word else "num"
        return self._case


def _case(s: str) -> str:
    if s.isupper():
        return "upper"
    if s.islower():
        return "lower"
    parts = [p for p in re.split(r"['’‘ʼ\-]", s) if p]
    if parts and all(p[0].isupper() and (len(p) == 1 or p[1:].islower()) for p in parts):
        return "title"
    return "mixed"


def _tokens(text: str, folded: str) -> list[_Tok]:
    toks: list[_Tok] = []
    n = len(text)
    for m in _TOKEN_RX.finditer(text):
        start, end = m.span()
        word = not text[start].isdigit()
        if word and end - start > 2 and text[end - 1] in "'’‘ʼ":
            end -= 1  # a closing quote, not part of the word ("H'" alone keeps its mark)
        before = text[start - 1] if start else ""
        after = text[end] if end < n else ""
        after2 = text[end + 1] if end + 1 < n else ""
        opaque = (before.isalnum() or before in _GLUE_BEFORE or after.isalnum() or after in _GLUE_AFTER
                  or (after in ".-:" and after2.isalnum())
                  or (before == "<" and after == ">"))  # a mask already there: <name>, <id>
        toks.append(_Tok(start, end, text[start:end], folded[start:end], word, opaque))
    for a, b in zip(toks, toks[1:]):
        between = text[a.end:b.start]
        a.gap = "space" if _SPACE_GAP.fullmatch(between) else "comma" if _COMMA_GAP.fullmatch(between) else "break"
    return toks


def _low(t: "_Tok") -> str:
    return re.sub(r"[’‘ʼ]", "'", t.text.lower())


def _lookup(table, toks: list[_Tok], i: int) -> tuple[int, bool, frozenset] | None:
    """The longest entry of ``table`` starting at token ``i``: (number of tokens, flag, its
    spellings with diacritics)."""
    t = toks[i]
    if not t.word or t.opaque or t.used:
        return None
    for folded, accented, flag in table.get(t.fold, ()):
        k = len(folded)
        if i + k > len(toks):
            continue
        seg = toks[i:i + k]
        if any(s.fold != f or not s.word or s.opaque or s.used for s, f in zip(seg, folded)):
            continue
        if any(s.gap != "space" for s in seg[:-1]):
            continue
        # without diacritics any spelling will do; with them, only the word's own (so "đang" is
        # no "Đặng", and "hồ" is "Hồ")
        if not all(s.ascii for s in seg) and tuple(_low(s) for s in seg) not in accented:
            continue
        return k, flag, accented
    return None


def _admin_at(toks: list[_Tok], i: int) -> tuple[int, bool] | None:
    found = _lookup(_ADMIN, toks, i)
    if found is None:
        return None
    k, strong, _ = found
    seg = toks[i:i + k]
    if all(s.ascii for s in seg):
        strong = tuple(s.fold for s in seg) in _ASCII_STRONG
    return k, strong


def _strong(t: _Tok) -> bool:
    """A token that a name has and an English phrase has not."""
    return not t.ascii or t.fold in _GIVEN or t.fold in _FAMILY_FIRST or t.fold[:2] in ("h'", "k'")


def _lower_name_word(t: _Tok) -> bool:
    """A lower-case word that may continue a name."""
    if t.case != "lower" or len(t.text) > 10 or _stops_a_name(t):
        return False
    return not t.ascii or t.fold in _GIVEN or t.fold in _FAMILY_FIRST or bool(_SYLLABLE.fullmatch(t.fold))


def _followers(toks: list[_Tok], last: int, accept, limit: int) -> int:
    """How many tokens after ``last`` (space-separated words, ``accept(token, index)``) follow."""
    n = 0
    i = last
    while n < limit and toks[i].gap == "space" and i + 1 < len(toks):
        f = toks[i + 1]
        if not f.word or f.opaque or f.used or not accept(f, i + 1):
            break
        n += 1
        i += 1
    return n


def _title_like(t: _Tok) -> bool:
    return t.case == "title" or (t.case == "upper" and len(t.text) == 1)


def _family_name_at(toks: list[_Tok], i: int) -> int | None:
    """End (inclusive token index) of a name that starts with a family name at ``i``."""
    found = _lookup(_FAMILY, toks, i)
    if not found:
        return None
    k, distinctive, spellings = found
    head = toks[i]
    last = i + k - 1
    if head.case == "title":
        n = _followers(toks, last, lambda f, _: _title_like(f), 5)
        fs = toks[last + 1:last + 1 + n]
        return last + n if n and (distinctive or any(_strong(f) for f in fs)) else None
    if head.case == "upper":
        n = _followers(toks, last, lambda f, _: f.case == "upper", 5)
        fs = toks[last + 1:last + 1 + n]
        return last + n if n and any(_strong(f) for f in fs) else None
    if head.case != "lower":
        return None
    n = _followers(toks, last, lambda f, _: _lower_name_word(f), 4)
    if not n:
        return None
    fs = toks[last + 1:last + 1 + n]
    ascii_only = all(t.ascii for t in toks[i:last + 1])
    if ascii_only:
        # in text with diacritics an unaccented word is the word it spells ("thao tác", "bổ sung"),
        # not a family name that has diacritics (Thào, Sùng)
        if any(not f.ascii for f in fs) and tuple(t.fold for t in toks[i:last + 1]) not in spellings:
            return None
    else:
        # with diacritics, only the family names that are no common word ("phạm vi", "dương tính")
        distinctive = tuple(_low(t) for t in toks[i:last + 1]) in _DISTINCTIVE_ACCENTED
    if distinctive:
        return last + n
    first = fs[0]
    marker = first.fold in _MARKERS if (ascii_only and first.ascii) else _low(first) in _MARKERS_ACCENTED
    if n >= 2 and marker:
        if first.fold in ("van", "a") and not (fs[1].fold in _GIVEN or fs[1].fold in _FAMILY_FIRST):
            return None  # "le van", "do a" and a word: a name only when the word is a given name
        return last + n
    if ascii_only:
        given = 0
        for f in fs:
            if not (f.ascii and (f.fold in _GIVEN or f.fold in _FAMILY_FIRST)):
                break
            given += 1
        if given >= 2:
            return last + given
    return None


def _prefixed_name_at(toks: list[_Tok], i: int) -> int | None:
    """End of a name that starts with a gender prefix: H'Hen Niê, Y Bih Niê, A Huy, Ka Thiếu."""
    t = toks[i]
    if not t.word or t.opaque or t.used:
        return None
    f = t.fold
    if re.match(r"[hk]'", f) or (f.startswith("y-") and t.case in ("title", "upper")):  # not "y-kien-chu-ho"
        last = i
        if len(f) == 2:  # "H' Hen": the mark stands apart
            if t.gap != "space" or i + 1 >= len(toks) or not toks[i + 1].word or toks[i + 1].opaque \
                    or toks[i + 1].used:
                return None
            last = i + 1
        return last + _followers(toks, last, lambda x, _: x.case in ("title", "upper") or x.fold in _FAMILY_FIRST, 3)
    if f not in _PREFIXES or t.gap != "space" or i + 1 >= len(toks):
        return None
    nxt = toks[i + 1]
    if not nxt.word or nxt.opaque or nxt.used:
        return None
    if t.case in ("title", "upper") and nxt.case in ("title", "upper"):
        mode = nxt.case
        if mode == "upper" and len(t.text) > 1 and t.case != "upper":
            return None
        n = _followers(toks, i, lambda x, _: x.case == mode or (mode == "title" and _title_like(x)), 4)
        return i + n if n and any(_strong(x) for x in toks[i + 1:i + 1 + n]) else None
    if t.case == "lower" and f in ("y", "a") and nxt.case == "lower":
        n = _followers(toks, i, lambda x, _: _lower_name_word(x), 3)
        for j in range(i + 2, i + n + 1):  # "y bih niê", "y blô mlô dun du": up to its family name
            found = _lookup(_FAMILY, toks, j)
            if found and "_".join(toks[j + m].fold for m in range(found[0])) in _DISTINCTIVE:
                return j + found[0] - 1
        if n and nxt.ascii and nxt.fold in _GIVEN and nxt.fold not in _ENGLISH_GIVEN:
            return i + 1
    return None


def _capitalised_run_at(toks: list[_Tok], i: int) -> int | None:
    """Two or more capitalised words, one with Vietnamese diacritics: a name or a place the
    lists do not know ("Mường Tè", "Xa Lộc Bính")."""
    t = toks[i]
    if not t.word or t.opaque or t.used or t.case not in ("title", "upper") or len(t.text) < 2:
        return None
    mode = t.case
    n = _followers(toks, i, lambda x, _: x.case == mode or (mode == "title" and _title_like(x)), 5)
    run = toks[i:i + n + 1]
    if n and any(not x.ascii for x in run) and sum(len(x.text) > 1 for x in run) >= 2 \
            and " ".join(x.fold for x in run) not in _PUBLIC_PHRASES:
        return i + n
    return None


_PUBLIC_PHRASES = {"viet nam", "tieng viet"}  # a nationality and a language, not a person's


def _names_a_place(toks: list[_Tok], i: int) -> bool:
    """Token ``i`` can name a place after an administrative word (a word or a number)."""
    x = toks[i]
    if x.used:
        return True
    if x.opaque:
        return False
    if not x.word:
        return True
    return x.case in ("title", "upper") or (x.case == "lower" and not (x.ascii and x.fold in _STOP_EN))


def _locator(toks: list[_Tok], word_end: int) -> int:
    """Last token of what names the place after the administrative word ending at ``word_end``
    (``word_end`` itself when nothing does)."""
    n = len(toks)
    m = word_end
    count = 0
    while count < 5 and toks[m].gap == "space" and m + 1 < n and _names_a_place(toks, m + 1):
        x = toks[m + 1]
        if x.word and not x.used and count:
            adm = _admin_at(toks, m + 1)
            # an administrative word starts the next part when something names it ("ngõ 34 phố
            # Đội Cấn"), and is part of this name when nothing does ("Thành phố Hải Phòng,")
            if adm and toks[m + adm[0]].gap == "space" and m + adm[0] + 1 < n \
                    and _names_a_place(toks, m + adm[0] + 1):
                break
        count += 1
        m += 1
        if not x.word and not x.used:
            break  # a number ends it: "Số 12", "ngõ 34"
    return m


def _address_at(toks: list[_Tok], i: int) -> int | None:
    """End of an address that starts at ``i``: parts (an administrative word and what names the
    place), joined by spaces or commas, then capitalised names after commas ("…, Hà Nội"). One
    part alone counts only when its word says "address" by itself and a number or a capitalised
    name follows ("Phường Ba Đình", "thôn 3"; not "xã hội", "số 3", "phiên bản 2")."""
    n = len(toks)
    parts: list[tuple[bool, bool]] = []
    j, end = i, None
    while j < n:
        adm = _admin_at(toks, j)
        if adm is None:
            if not parts or toks[j - 1].gap != "comma":
                break
            # a capitalised place without its word, after a comma: "…, Ba Đình, Hà Nội"
            r = j - 1
            while r + 1 < n and (r == j - 1 or toks[r].gap == "space") and r - j < 3:
                x = toks[r + 1]
                if not (x.used or (x.word and not x.opaque and _title_like(x))) or _admin_at(toks, r + 1):
                    break
                r += 1
            if r < j:
                break
            end = r
        else:
            k, strong = adm
            m = _locator(toks, j + k - 1)
            if m == j + k - 1:
                break
            loc = toks[j + k:m + 1]
            parts.append((strong, all(x.used or not x.word or x.case in ("title", "upper") for x in loc)))
            end = m
        if toks[end].gap not in ("space", "comma") or end + 1 >= n:
            break
        j = end + 1
    # several parts with a word that says "address", or that all name a place ("so 12 ngo 34");
    # one part when its word says it and a number or a name follows ("Phường Ba Đình", "thôn 3");
    # not "xã hội", "số 3", "phiên bản 2", "6 số cuối số định danh"
    if len(parts) >= 2 and (any(strong for strong, _ in parts) or all(named for _, named in parts)):
        return end
    if len(parts) == 1 and parts[0][0] and parts[0][1]:
        return end
    return None


# Words that can start a name or an address; a text without one (and without a capitalised word
# with diacritics) is left as it is without looking further.
_STARTERS = set(_FAMILY) | set(_ADMIN) | _PREFIXES
_FOLDED_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _worth_a_look(text: str, folded: str) -> bool:
    if not text.isascii() or "'" in folded:
        return True
    return not _STARTERS.isdisjoint(_FOLDED_WORD.findall(folded))


def _scan(text: str) -> str:
    folded = fold(text)
    if not _worth_a_look(text, folded):
        return text
    toks = _tokens(text, folded)
    if not toks:
        return text
    spans: list[tuple[int, int, str]] = []   # token index ranges (inclusive) and their mask

    def take(a: int, b: int, mask: str) -> None:
        for t in toks[a:b + 1]:
            t.used = True
        spans.append((a, b, mask))

    # addresses first: their place names are often a person's ("đường Trần Hưng Đạo") or look like
    # one ("xã Xa Lộc")
    for i in range(len(toks)):
        if toks[i].used or toks[i].fold not in _ADMIN:
            continue
        end = _address_at(toks, i)
        if end is not None:
            start = i
            if i and toks[i - 1].gap == "space" and not toks[i - 1].word and not toks[i - 1].opaque:
                start = i - 1  # the house number before the street: "12 phố Đội Cấn"
            take(start, end, "<address>")
    for i in range(len(toks)):
        f = toks[i].fold
        if toks[i].used or not (f in _FAMILY or f in _PREFIXES or f[:2] in ("h'", "k'", "y-")):
            continue
        end = _prefixed_name_at(toks, i)
        if end is None:
            end = _family_name_at(toks, i)
        if end is not None:
            start = i
            prev = toks[i - 1] if i else None
            # a family name the lists miss, just before a known one: "Ứng Hoàng Hiệp"
            if prev and prev.gap == "space" and prev.word and not prev.opaque and not prev.used and not prev.ascii \
                    and prev.case == toks[i].case and prev.case in ("title", "upper"):
                start = i - 1
            take(start, end, "<name>")
    for i in range(len(toks)):
        if toks[i].used or not toks[i].text[0].isupper():
            continue
        end = _capitalised_run_at(toks, i)
        if end is not None:
            take(i, end, "<personal>")
    if not spans:
        return text
    # one mask where spans overlap: an address that holds a name (a street named after a person)
    char_spans = sorted(((toks[a].start, toks[b].end, mask) for a, b, mask in spans), key=lambda s: (s[0], -s[1]))
    merged: list[list] = []
    for s, e, mask in char_spans:
        if merged and s < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            continue
        merged.append([s, e, mask])
    out, pos = [], 0
    for s, e, mask in merged:
        out.append(text[pos:s])
        out.append(mask)
        pos = e
    out.append(text[pos:])
    return "".join(out)


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape_letters(text: str) -> str:
    # json.dumps(..., ensure_ascii=True) writes "Nguy\u1ec5n": make it a name the patterns can see
    def one(m: re.Match) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if unicodedata.category(ch)[0] in "LM" and not ch.isascii() else m.group(0)

    return _JSON_ESCAPE.sub(one, text) if "\\u" in text else text


def redact(text: str) -> str:
    """``text`` with every personal value this module can recognise replaced by a mask
    (``<name>``, ``<id>``, ``<phone>``, ``<date>``, ``<address>``, ``<personal>`` …)."""
    text = _nfc(_unescape_letters(str(text)))
    known = _known_regex()
    if known is not None:
        folded = fold(text)
        pieces, pos = [], 0
        for m in known.finditer(folded):
            pieces.append(text[pos:m.start()])
            pieces.append("<personal>")
            pos = m.end()
        if pieces:
            pieces.append(text[pos:])
            text = "".join(pieces)
    return _scan(_patterns(text))


# A text without six digits in a row (or a few, with separators) nor an "@" has nothing for
# the patterns above: "12/05/1985", "091 234", "001185…", "IDVNM0930…", "a@b.vn".
_DIGITS_HINT = re.compile(r"\d{6}|\d[ .\-/]?\d{1,2}[ .\-/]\d{2,3}")


# --------------------------------------------------------------------------------------------
# Logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it, and freezes it so handlers cannot re-expand args.
    A :class:`Personal` among the args is masked by its own ``str`` before the patterns run."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the log line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_logging(level: str | int = "INFO") -> None:
    """For a process whose logging nobody set up (a central worker process started by uvicorn):
    a stderr handler when the root logger has none, and the redaction filter on every handler."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
