"""Data sets of the virtual card: who is on the card and how the chip behaves.

``default`` is the simulated citizen of docs/architecture.md. The others exercise the reader:
``old2021`` (BAC only, short APDUs), ``new2024`` (PACE only, short APDUs, some DG13 fields in an
encoding we cannot read, some absent), ``missing`` (DG13 without several fields), ``noexpiry``
(age 60+, "Không thời hạn"), ``cloned`` (the default card's files on a chip without its private
AA key) and ``tampered`` (DG13 changed after the SOD was signed).
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
    extra_dg13: dict = field(default_factory=dict)


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
]}


@lru_cache(maxsize=4)
def face_jpeg(seed: str, size: tuple[int, int] = (240, 320)) -> bytes:
    """A small, real, decodable JPEG portrait (drawn, deterministic per seed)."""
    from PIL import Image, ImageDraw

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


def dg13_fields(c: Citizen, unreadable: frozenset[int] = frozenset()) -> dict[int, object]:
    f: dict[int, object] = {
        1: c.id_number, 2: c.full_name, 3: c.birth.strftime("%d/%m/%Y"), 4: c.sex, 5: "Việt Nam",
        6: c.ethnicity, 7: c.religion, 8: c.home_town, 9: c.residence, 10: c.marks or None,
        11: c.issued.strftime("%d/%m/%Y"),
        12: c.expiry.strftime("%d/%m/%Y") if c.expiry else "Không thời hạn",
        13: [c.father or "", c.mother or ""] if (c.father or c.mother) else None,
        14: [c.spouse] if c.spouse else None,
        15: c.old_id or None,
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


@lru_cache(maxsize=16)
def build_files(name: str) -> CardFiles:
    from devices.idcard.mrz import key_seed_info
    from devices.idcard.vcard import pki
    from cryptography.hazmat.primitives import serialization

    ds = DATASETS[name]
    c = ds.citizen
    mrz_text = build_td1(id_number=c.id_number, birth=c.birth, sex="F" if c.sex == "Nữ" else "M",
                         expiry=c.expiry, surname=c.surname_mrz, given=c.given_mrz)
    dg = {1: lds.build_dg1(mrz_text)}
    jpeg = face_jpeg(c.id_number)
    dg[2] = lds.build_dg2(jpeg, 240, 320)
    dg[13] = build_dg13(dg13_fields(c, ds.unreadable))
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
        fields = dg13_fields(replace(c, residence="Số 99 phố Giả Mạo, Phường Ba Đình, Thành phố Hà Nội"), ds.unreadable)
        dg[13] = build_dg13(fields)
    files = {0x0100 + n: raw for n, raw in dg.items()}
    files[0x011E] = lds.build_com(sorted(dg))
    files[0x011D] = sod
    if ds.pace:
        files[0x011C] = tlv.encode(0x31, encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13))
    seed = c.id_number + (":clone" if ds.clone else "")
    return CardFiles(files, seed, key_seed_info(c.id_number[-9:], c.birth, c.expiry), c.can)
