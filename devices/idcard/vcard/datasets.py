"""Data sets of the virtual card: who is on the card and how the chip behaves.

``default`` is the simulated citizen of docs/architecture.md. The others exercise the reader:
``old2021`` (BAC only, short APDUs), ``new2024`` (PACE only, short APDUs, some DG13 fields in an
encoding we cannot read, some absent), ``missing`` (DG13 without several fields), ``noexpiry``
(age 60+, "Không thời hạn"), ``cloned`` (the default card's files on a chip without its private
AA key), ``tampered`` (DG13 changed after the SOD was signed) and ``iso39794`` (the default
citizen with an ISO/IEC 39794-5 DG2 holding a JPEG 2000 portrait).

The Vietnamese card profiles (docs/idcard.md, "Vietnamese card profiles", with the source of each
fact and the assumptions): ``cccd2021`` (the 12-digit CCCD with chip, Circular 06/2021/TT-BCA),
``cancuoc2024`` (the căn cước card of the Law on Identification 2023, Circular 16/2024/TT-BCA) and
``cccd60plus`` (issued after 60: no expiry), each with every DG13 field the cards are known to
carry and a DG3 (fingerprints) that refuses to be read without EAC, as real cards do.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache

from devices.idcard import lds
from devices.idcard.dg13 import build_dg13
from devices.idcard.mrz import build_td1, vn_expiry
from devices.idcard.securityinfo import encode_pace_info
from devices.idcard import tlv


@dataclass(frozen=True)
class Citizen:
    id_number: str
    full_name: str
    surname_mrz: str
    given_mrz: str
    birth: date
    sex: str                 # Nam | Nữ
    issued: date
    old_id: str = ""
    ethnicity: str = "Kinh"
    religion: str | None = "Không"
    home_town: str | None = ""
    residence: str | None = ""
    father: str | None = None
    mother: str | None = None
    spouse: str | None = None
    marks: str = "Nốt ruồi C:1cm trên trước mép trái"

    @property
    def expiry(self) -> date | None:
        return vn_expiry(self.birth, self.issued)

    @property
    def can(self) -> str:
        return self.id_number[-6:]


@dataclass(frozen=True)
class Dataset:
    name: str
    citizen: Citizen
    pace: bool = True
    bac: bool = True
    extended_length: bool = True
    max_le: int = 65536                            # larger READ BINARY Le is refused with 6700
    unreadable: frozenset[int] = frozenset()       # DG13 field numbers written in an unknown encoding
    tamper_dg13: bool = False
    clone: bool = False
    description: str = ""
    extra_dg13: dict = field(default_factory=dict)  # more DG13 fields (number → value, as build_dg13 takes)
    dg2_encoding: str = "19794"                     # "19794" (ISO/IEC 19794-5, 5F2E) or "39794" (7F2E)
    photo_format: str = "jpeg"                      # "jpeg" or "jp2" (JPEG 2000)
    dg3: bool = False                               # a DG3 (fingerprints) that answers 6982: EAC needed


ANH = Citizen(
    id_number="001185012345", full_name="Trần Thị Ngọc Ánh", surname_mrz="TRAN", given_mrz="THI NGOC ANH",
    birth=date(1985, 5, 12), sex="Nữ", issued=date(2023, 6, 15), old_id="012345678",
    home_town="Xã Đông Anh, Thành phố Hà Nội",
    residence="Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
    father="Trần Văn Bình", mother="Lê Thị Hoa", spouse="Lê Minh Tuấn",
)

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("default", ANH, description="the simulated citizen; PACE and BAC, extended length"),
    Dataset("old2021", Citizen(
        id_number="079090001234", full_name="Nguyễn Văn Hùng", surname_mrz="NGUYEN", given_mrz="VAN HUNG",
        birth=date(1990, 3, 20), sex="Nam", issued=date(2021, 4, 10), old_id="025123456",
        home_town="Xã Tân Thông Hội, Huyện Củ Chi, Thành phố Hồ Chí Minh",
        residence="Số 5 đường Lê Lợi, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
        father="Nguyễn Văn Tâm", mother="Phạm Thị Lan", spouse="Võ Thị Mai", religion="Phật giáo"),
        pace=False, extended_length=False, description="2021 CCCD: BAC only, short APDUs"),
    Dataset("new2024", Citizen(
        id_number="048305004567", full_name="Lê Minh Châu", surname_mrz="LE", given_mrz="MINH CHAU",
        birth=date(2005, 9, 2), sex="Nữ", issued=date(2024, 8, 1), religion=None,
        home_town="Phường Hải Châu, Thành phố Đà Nẵng",
        residence="Số 7 đường Bạch Đằng, Phường Hải Châu, Thành phố Đà Nẵng",
        father="Lê Văn Quang", mother="Đỗ Thị Thu"),
        bac=False, extended_length=False, unreadable=frozenset({8, 9}),
        description="2024 thẻ căn cước: PACE only, short APDUs, home town and residence unreadable, no religion"),
    Dataset("missing", Citizen(
        id_number="031088007890", full_name="Phạm Văn Đức", surname_mrz="PHAM", given_mrz="VAN DUC",
        birth=date(1988, 1, 15), sex="Nam", issued=date(2022, 2, 1), religion=None, home_town=None,
        residence="Thôn 3, Xã An Lão, Thành phố Hải Phòng", marks=""),
        description="DG13 without religion, home town, parents, spouse or old ID"),
    Dataset("noexpiry", Citizen(
        id_number="001155006789", full_name="Hoàng Thị Lan", surname_mrz="HOANG", given_mrz="THI LAN",
        birth=date(1955, 7, 7), sex="Nữ", issued=date(2021, 5, 10), old_id="011223344",
        home_town="Xã Phù Đổng, Huyện Gia Lâm, Thành phố Hà Nội",
        residence="Số 3 phố Hàng Bông, Phường Hoàn Kiếm, Thành phố Hà Nội",
        father="Hoàng Văn Thụ", mother="Nguyễn Thị Nga", spouse="Trịnh Văn Sơn"),
        description="issued after 60: no expiry (Không thời hạn)"),
    Dataset("cloned", ANH, clone=True, description="the default card's files copied onto a chip without its AA key"),
    Dataset("tampered", ANH, tamper_dg13=True, description="DG13 residence changed after the SOD was signed"),
    Dataset("iso39794", ANH, dg2_encoding="39794", photo_format="jp2",
            description="the default citizen; DG2 in ISO/IEC 39794-5 with a JPEG 2000 portrait"),
    # --- Vietnamese card profiles (docs/idcard.md "Vietnamese card profiles") --------------------
    Dataset("cccd2021", Citizen(
        id_number="036092004815", full_name="Vũ Đức Thắng", surname_mrz="VU", given_mrz="DUC THANG",
        birth=date(1992, 11, 3), sex="Nam", issued=date(2021, 7, 9), old_id="163215487",
        religion="Công giáo", home_town="Xã Hải Minh, Huyện Hải Hậu, Tỉnh Nam Định",
        residence="Tổ 5, Phường Lộc Hạ, Thành phố Nam Định, Tỉnh Nam Định",
        father="Vũ Văn Lộc", mother="Trần Thị Nhung", spouse="Đỗ Thị Hồng Nhung",
        marks="Sẹo chấm C:2cm dưới sau cánh mũi phải"),
        dg3=True, extra_dg13={16: "3F9A01C47D2B8E05"},
        description="CCCD with chip (2021, Circular 06/2021/TT-BCA): PACE (CAN) and BAC, DG13 fields 1–16, DG3 locked"),
    Dataset("cancuoc2024", Citizen(
        id_number="079304011223", full_name="Huỳnh Ngọc Bảo Trân", surname_mrz="HUYNH", given_mrz="NGOC BAO TRAN",
        birth=date(2004, 2, 29), sex="Nữ", issued=date(2024, 9, 16), religion="Không",
        home_town="Xã Tân Phú Đông, Thành phố Sa Đéc, Tỉnh Đồng Tháp",
        residence="Số 41/7 đường Trần Hưng Đạo, Phường Cầu Ông Lãnh, Quận 1, Thành phố Hồ Chí Minh",
        father="Huỳnh Văn Bảo", mother="Lâm Thị Ngọc Hân", marks="Nốt ruồi C:0,5cm trên trước đuôi mày trái"),
        dg3=True, extra_dg13={16: "A04C7719E2D05B63"},
        description="thẻ căn cước (2024, Law on Identification 2023): PACE (CAN) and BAC, DG13 fields 1–16, DG3 locked"),
    Dataset("cccd60plus", Citizen(
        id_number="001058003307", full_name="Đặng Văn Khải", surname_mrz="DANG", given_mrz="VAN KHAI",
        birth=date(1958, 4, 1), sex="Nam", issued=date(2022, 10, 20), old_id="010668412",
        religion="Phật giáo", home_town="Xã Ninh Hiệp, Huyện Gia Lâm, Thành phố Hà Nội",
        residence="Số 18 ngõ 95 phố Chùa Bộc, Phường Trung Liệt, Quận Đống Đa, Thành phố Hà Nội",
        father="Đặng Văn Nhân", mother="Nguyễn Thị Tý", spouse="Lưu Thị Mận", marks="Sẹo chấm C:1cm trên sau đầu mày phải"),
        dg3=True, extra_dg13={16: "5D13E8F0A6C29B74"},
        description="CCCD issued after 60: DG13 field 12 'Không thời hạn', MRZ expiry <<<<<<, DG13 fields 1–16"),
]}


@lru_cache(maxsize=8)
def face_jp2(seed: str, size: tuple[int, int] = (240, 320)) -> bytes:
    """The same portrait as :func:`face_jpeg`, as a JPEG 2000 file (JP2, Pillow's OpenJPEG)."""
    from PIL import Image

    img = Image.open(io.BytesIO(face_jpeg(seed, size)))
    buf = io.BytesIO()
    img.save(buf, "JPEG2000", quality_mode="rates", quality_layers=[20], irreversible=True)
    return buf.getvalue()


# the simulated citizens whose DG2 holds a real photo (public domain, devices/face/photos/README.md), so
# the kiosk's face step can match the simulated camera's face against it; the others are drawn
PHOTO_OF = {ANH.id_number: "card_holder"}


@lru_cache(maxsize=4)
def face_jpeg(seed: str, size: tuple[int, int] = (240, 320)) -> bytes:
    """A small, real, decodable JPEG portrait, deterministic per seed: for a citizen of
    :data:`PHOTO_OF` a 240×320 crop of a real photograph, else a drawn face."""
    from PIL import Image, ImageDraw

    if seed in PHOTO_OF and size == (240, 320):
        from devices.face.synth import chip_portrait

        return chip_portrait(PHOTO_OF[seed])

    rnd = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (235, 238, 242))
    d = ImageDraw.Draw(img)
    skin = (224 - rnd.randint(0, 30), 182 - rnd.randint(0, 30), 150 - rnd.randint(0, 30))
    d.rectangle([w * 0.2, h * 0.75, w * 0.8, h], fill=(40, 60, 120))                   # shoulders
    d.ellipse([w * 0.25, h * 0.18, w * 0.75, h * 0.72], fill=skin)                     # face
    d.chord([w * 0.22, h * 0.08, w * 0.78, h * 0.5], 180, 360, fill=(30, 25, 20))      # hair
    for ex in (0.39, 0.61):
        d.ellipse([w * ex - 8, h * 0.42 - 5, w * ex + 8, h * 0.42 + 5], fill=(40, 30, 30))
    d.arc([w * 0.4, h * 0.52, w * 0.6, h * 0.62], 20, 160, fill=(150, 60, 60), width=3)
    px = img.load()
    for _ in range(w * h // 3):  # sensor-like noise, so the JPEG has a realistic size
        x, y = rnd.randrange(w), rnd.randrange(h)
        r, g, b = px[x, y]
        n = rnd.randint(-14, 14)
        px[x, y] = (max(0, min(255, r + n)), max(0, min(255, g + n)), max(0, min(255, b + n)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def dg13_fields(c: Citizen, unreadable: frozenset[int] = frozenset(), extra: dict | None = None) -> dict[int, object]:
    f: dict[int, object] = {
        1: c.id_number, 2: c.full_name, 3: c.birth.strftime("%d/%m/%Y"), 4: c.sex, 5: "Việt Nam",
        6: c.ethnicity, 7: c.religion, 8: c.home_town, 9: c.residence, 10: c.marks or None,
        11: c.issued.strftime("%d/%m/%Y"),
        12: c.expiry.strftime("%d/%m/%Y") if c.expiry else "Không thời hạn",
        13: [c.father or "", c.mother or ""] if (c.father or c.mother) else None,
        14: [c.spouse] if c.spouse else [],     # a single person's card: the field with its number only
        15: c.old_id or None,
        **(extra or {}),
    }
    for n in unreadable:
        if f.get(n):
            # stands in for the 2024 cards' own encoding: bytes that are not UTF-8 text
            f[n] = b"\xfe\x01" + bytes(b ^ 0xA5 for b in str(f[n]).encode("utf-8"))
    return f


@dataclass
class CardFiles:
    files: dict[int, bytes]         # FID → contents
    aa_key_seed: str                # the chip's own AA and CA private key identity
    mrz_info_key: str               # MRZ information for BAC / PACE-MRZ
    can: str


def build_files(name: str) -> CardFiles:
    """The card's files for data set ``name``: a copy of its own for every caller (a test that swaps
    a file on one card must not change the next card), built once per data set."""
    built = _build_files(name)
    return replace(built, files=dict(built.files))


def _clear_cache() -> None:
    _build_files.cache_clear()


build_files.cache_clear = _clear_cache   # type: ignore[attr-defined]


@lru_cache(maxsize=16)
def _build_files(name: str) -> CardFiles:
    from devices.idcard.mrz import key_seed_info
    from devices.idcard.vcard import pki
    from cryptography.hazmat.primitives import serialization

    ds = DATASETS[name]
    c = ds.citizen
    mrz_text = build_td1(id_number=c.id_number, birth=c.birth, sex="F" if c.sex == "Nữ" else "M",
                         expiry=c.expiry, surname=c.surname_mrz, given=c.given_mrz)
    dg = {1: lds.build_dg1(mrz_text)}
    photo = face_jp2(c.id_number) if ds.photo_format == "jp2" else face_jpeg(c.id_number)
    dg[2] = lds.build_dg2(photo, 240, 320, encoding=ds.dg2_encoding)
    if ds.dg3:
        # fingerprints (ISO/IEC 19794-4 in 7F2E) behind EAC: hashed in the SOD, never served
        dg[3] = tlv.encode(0x63, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x00")]))
    dg[13] = build_dg13(dg13_fields(c, ds.unreadable, ds.extra_dg13))
    aa_info = tlv.encode(0x30, [tlv.encode(0x06, tlv.encode_oid("2.23.136.1.1.5")), tlv.encode(0x02, b"\x01"),
                                tlv.encode(0x06, tlv.encode_oid("0.4.0.127.0.7.1.1.4.1.3"))])
    from devices.idcard.chipauth import encode_ca_infos
    from devices.idcard.ec import BRAINPOOL_P256R1
    infos = [aa_info] + encode_ca_infos(BRAINPOOL_P256R1, BRAINPOOL_P256R1.mul(pki.ca_scalar(c.id_number),
                                                                                BRAINPOOL_P256R1.g))
    if ds.pace:
        infos.append(encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13))
    dg[14] = tlv.encode(0x6E, tlv.encode(0x31, infos))
    spki = pki.aa_key(c.id_number).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    dg[15] = tlv.encode(0x6F, spki)
    sod = pki.build_sod(dg)
    if ds.tamper_dg13:
        fields = dg13_fields(replace(c, residence="Số 99 phố Giả Mạo, Phường Ba Đình, Thành phố Hà Nội"), ds.unreadable,
                             ds.extra_dg13)
        dg[13] = build_dg13(fields)
    files = {0x0100 + n: raw for n, raw in dg.items()}
    files[0x011E] = lds.build_com(sorted(dg))
    files[0x011D] = sod
    if ds.pace:
        files[0x011C] = tlv.encode(0x31, encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13))
    seed = c.id_number + (":clone" if ds.clone else "")
    return CardFiles(files, seed, key_seed_info(c.id_number[-9:], c.birth, c.expiry), c.can)
