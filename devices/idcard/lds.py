"""LDS files of an eMRTD (ICAO 9303 p10): EF.COM, DG1 (MRZ), DG2 (face image), DG14, DG15.

Pure parsers; malformed bytes raise :class:`ParseError`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from devices.idcard import tlv
from devices.idcard.errors import ParseError
from devices.idcard.mrz import MRZ, parse_td1
from devices.idcard.securityinfo import SecurityInfo, parse_security_infos

# LDS tag of each data group (EF.COM lists these)
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9, 0x6A: 10,
           0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}
TAG_OF_DG = {v: k for k, v in DG_TAGS.items()}


def _outer(data: bytes, tag: int, what: str) -> tlv.TLV:
    t, _ = tlv.decode_one(data, 0)
    if t.tag != tag:
        raise ParseError(detail=f"{what}: expected tag {tag:02X}, got {t.tag:02X}")
    return t


@dataclass(frozen=True)
class Com:
    lds_version: str
    unicode_version: str
    data_groups: tuple[int, ...]


def parse_com(data: bytes) -> Com:
    t = _outer(data, 0x60, "EF.COM")
    lds = t.find(0x5F01)
    uni = t.find(0x5F36)
    tags = t.find(0x5C)
    if tags is None:
        raise ParseError(detail="EF.COM: no tag list")
    dgs = tuple(DG_TAGS[b] for b in tags.value if b in DG_TAGS)
    return Com(lds.value.decode("ascii", "replace") if lds else "",
               uni.value.decode("ascii", "replace") if uni else "", dgs)


def build_com(dgs: list[int]) -> bytes:
    return tlv.encode(0x60, [tlv.encode(0x5F01, b"0107"), tlv.encode(0x5F36, b"040000"),
                             tlv.encode(0x5C, bytes(TAG_OF_DG[d] for d in dgs))])


def parse_dg1(data: bytes) -> MRZ:
    t = _outer(data, 0x61, "DG1")
    mrz = t.find(0x5F1F)
    if mrz is None:
        raise ParseError(detail="DG1: no MRZ")
    return parse_td1(mrz.value)


def build_dg1(mrz_text: str) -> bytes:
    return tlv.encode(0x61, tlv.encode(0x5F1F, "".join(mrz_text.split()).encode("ascii")))


# --- DG2: the face image -----------------------------------------------------------------------
# ICAO 9303-10 §4.7.2: 75 { 7F61 { 02 count, 7F60 { A1 BHT {87 format owner, 88 format type},
# 5F2E (ISO/IEC 19794-5:2005 record) or 7F2E (ISO/IEC 39794-5 tagged-binary data) } … } }.

FORMAT_OWNER_JTC1_SC37 = 0x0101
FORMAT_TYPE_19794_5 = 0x0008
IMAGE_TYPE_19794 = {0: "image/jpeg", 1: "image/jp2"}              # 19794-5 image data type
IMAGE_FORMAT_39794 = {2: "image/jpeg", 3: "image/jp2", 4: "image/jp2"}  # jpeg, jpeg2000Lossy, …Lossless
MAX_FACE_PIXELS = 4096 * 4096     # a portrait is ~0.2 Mpx; more is refused before decoding


@dataclass(frozen=True)
class FaceImage:
    data: bytes                     # exactly the image: nothing of the record before or after it
    mime: str                       # what the bytes are (image/jpeg or image/jp2), by their signature
    encoding: str = ""              # "ISO/IEC 19794-5", "ISO/IEC 39794-5", or "" (found by signature only)
    width: int = 0                  # as the record declares them (0: not declared)
    height: int = 0
    problems: tuple[str, ...] = ()  # where the DG2 departs from its standard; empty: conformant

    @property
    def conformant(self) -> bool:
        return not self.problems

    def facts(self) -> dict:
        """What a read reports about the photo (no image bytes)."""
        return {"encoding": self.encoding or "unknown", "mime": self.mime, "bytes": len(self.data),
                "width": self.width, "height": self.height, "conformant": self.conformant,
                "problems": list(self.problems)}


_JP2_SIG = b"\x00\x00\x00\x0CjP  \r\n\x87\n"
_J2K_SIG = b"\xFF\x4F\xFF\x51"
_JPEG_SIG = b"\xFF\xD8\xFF"


def image_type(data: bytes) -> str | None:
    """image/jpeg or image/jp2 by the bytes' own signature, else None."""
    if data.startswith(_JPEG_SIG):
        return "image/jpeg"
    if data.startswith(_JP2_SIG) or data.startswith(_J2K_SIG):
        return "image/jp2"
    return None


def _image_end(data: bytes, mime: str) -> int:
    """Where the image starting at data[0] ends: the JPEG / J2K end-of-image marker, or the last
    box of a JP2 file (its contiguous codestream box). len(data) when that cannot be told."""
    if mime == "image/jp2" and data.startswith(_JP2_SIG):
        pos = 0
        while pos + 8 <= len(data):
            size = int.from_bytes(data[pos:pos + 4], "big")
            kind = data[pos + 4:pos + 8]
            if size == 1 and pos + 16 <= len(data):
                size = int.from_bytes(data[pos + 8:pos + 16], "big")
            elif size == 0:
                return len(data)
            if size < 8 or pos + size > len(data):
                return len(data)
            pos += size
            if kind == b"jp2c":
                return pos
        return len(data)
    end = data.rfind(b"\xFF\xD9")
    return end + 2 if end > 0 else len(data)


def _by_signature(block: bytes) -> FaceImage | None:
    """The first JPEG / JPEG 2000 image in ``block``, cut at its end (the fallback for an
    encoding we cannot walk)."""
    candidates = [(i, mime) for sig, mime in ((_JPEG_SIG, "image/jpeg"), (_JP2_SIG, "image/jp2"),
                                              (_J2K_SIG, "image/jp2")) if (i := block.find(sig)) >= 0]
    if not candidates:
        return None
    i, mime = min(candidates)
    data = block[i:]
    return FaceImage(data[:_image_end(data, mime)], mime)


def _checked_image(data: bytes, declared: str | None, what: str, problems: list[str]) -> str:
    """The image's real type; a missing signature or a declared type that disagrees is a problem."""
    actual = image_type(data)
    if actual is None:
        problems.append(f"{what}: the image data is neither JPEG nor JPEG 2000")
        return declared or "application/octet-stream"
    if declared is not None and declared != actual:
        problems.append(f"{what}: the image data type says {_NAMES.get(declared, declared)} "
                        f"but the image is {_NAMES[actual]}")
    return actual


_NAMES = {"image/jpeg": "JPEG", "image/jp2": "JPEG 2000"}


def parse_iso19794_5(bdb: bytes) -> FaceImage:
    """The first face image of an ISO/IEC 19794-5:2005 facial record (BDB 5F2E), strictly:
    general header (FAC, 010, record length, number of images), facial information (its record
    length), feature points, image information (image data type), image data."""
    problems: list[str] = []
    what = "ISO/IEC 19794-5"
    if len(bdb) < 14 or bdb[:4] != b"FAC\x00":
        raise ParseError(detail=f"DG2: {what}: no FAC header")
    version = bdb[4:8]
    if version != b"010\x00":
        raise ParseError(detail=f"DG2: {what}: version {version!r} (ICAO 9303 uses 010)")
    total = int.from_bytes(bdb[8:12], "big")
    count = int.from_bytes(bdb[12:14], "big")
    if total != len(bdb):
        problems.append(f"{what}: the record length field says {total}, the block holds {len(bdb)} bytes")
    if count < 1:
        problems.append(f"{what}: the header counts {count} facial images")
    rec = bdb[14:]
    if len(rec) < 32:
        raise ParseError(detail=f"DG2: {what}: facial record truncated")
    length = int.from_bytes(rec[0:4], "big")
    points = int.from_bytes(rec[4:6], "big")
    info_at = 20 + 8 * points
    if info_at + 12 > len(rec):
        raise ParseError(detail=f"DG2: {what}: {points} feature points do not fit the record")
    info = rec[info_at:info_at + 12]
    declared = IMAGE_TYPE_19794.get(info[1])
    if declared is None:
        problems.append(f"{what}: unknown image data type {info[1]}")
    width, height = int.from_bytes(info[2:4], "big"), int.from_bytes(info[4:6], "big")
    start = info_at + 12
    if start < length <= len(rec):
        data = rec[start:length]
        if length < len(rec) and count <= 1:
            problems.append(f"{what}: {len(rec) - length} bytes after the facial record")
    else:
        problems.append(f"{what}: the facial record length field says {length}, "
                        f"the record holds {len(rec)} bytes")
        data = rec[start:]
        data = data[:_image_end(data, image_type(data) or "")] if image_type(data) else data
    mime = _checked_image(data, declared, what, problems)
    return FaceImage(data, mime, what, width, height, tuple(problems))


def _ctx(node: tlv.TLV, n: int) -> tlv.TLV | None:
    """The child with context tag [n] (primitive 80+n or constructed A0+n)."""
    for c in node.parse():
        if c.tag in (0x80 | n, 0xA0 | n):
            return c
    return None


def parse_iso39794_5(bdb: bytes) -> FaceImage:
    """The face image of ISO/IEC 39794-5 tagged-binary data (BDB 7F2E): FaceImageDataBlock
    [APPLICATION 5] { versionBlock [0], representationBlocks [1] { RepresentationBlock {
    representationId [0], imageRepresentation [1] { base [0] { imageRepresentation2DBlock [0] {
    representationData2D [0] OCTET STRING, imageInformation2DBlock [1] { imageDataFormat [0]
    { code [0] }, …, imageSizeBlock [7] { width [0], height [1] } } } } } } } }, as in the ICAO
    39794-5 application profile (whose samples wrap it in [1])."""
    what = "ISO/IEC 39794-5"
    problems: list[str] = []
    nodes = tlv.decode_all(bdb)
    if len(nodes) == 1 and nodes[0].tag == 0xA1:
        nodes = nodes[0].parse()
    block = next((n for n in nodes if n.tag == 0x65), None)
    if block is None:
        raise ParseError(detail=f"DG2: {what}: no FaceImageDataBlock ([APPLICATION 5])")
    if _ctx(block, 0) is None:
        problems.append(f"{what}: no version block")
    reps = _ctx(block, 1)
    if reps is None or not reps.constructed:
        raise ParseError(detail=f"DG2: {what}: no representation blocks")
    kids = reps.parse()
    rep = kids[0] if kids and kids[0].tag == 0x30 else reps   # SEQUENCE OF, or the one block itself
    if len(kids) > 1 and all(k.tag == 0x30 for k in kids):
        problems.append(f"{what}: {len(kids)} representation blocks (the profile allows 1)")
    image_rep = _ctx(rep, 1)
    base = _ctx(image_rep, 0) if image_rep is not None and image_rep.constructed else None
    two_d = _ctx(base, 0) if base is not None and base.constructed else None
    if two_d is None or not two_d.constructed:
        raise ParseError(detail=f"DG2: {what}: no 2D image representation")
    data_node = _ctx(two_d, 0)
    if data_node is None or data_node.tag != 0x80:
        raise ParseError(detail=f"DG2: {what}: no representation data")
    declared, width, height = None, 0, 0
    info = _ctx(two_d, 1)
    if info is None or not info.constructed:
        problems.append(f"{what}: no image information block")
    else:
        fmt = _ctx(info, 0)
        code = _ctx(fmt, 0) if fmt is not None and fmt.constructed else None
        if code is None or code.tag != 0x80:
            problems.append(f"{what}: no image data format code")
        else:
            value = tlv.decode_int(code.value) if code.value else -1
            declared = IMAGE_FORMAT_39794.get(value)
            if declared is None:
                problems.append(f"{what}: image data format {value} is not JPEG or JPEG 2000")
        size = _ctx(info, 7)
        if size is not None and size.constructed:
            w, h = _ctx(size, 0), _ctx(size, 1)
            width = tlv.decode_int(w.value) if w is not None and w.value else 0
            height = tlv.decode_int(h.value) if h is not None and h.value else 0
    data = data_node.value
    mime = _checked_image(data, declared, what, problems)
    return FaceImage(data, mime, what, width, height, tuple(problems))


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image of DG2, by its structure (ISO/IEC 19794-5 in 5F2E, ISO/IEC 39794-5
    in 7F2E). A DG2 that departs from its standard still gives its image when one can be found:
    the departures are in ``FaceImage.problems`` (the reader reports them); no image at all is a
    :class:`ParseError`."""
    t = _outer(data, 0x75, "DG2")
    problems: list[str] = []
    group = t.find(0x7F61)
    bits = [c for c in group.parse() if c.tag == 0x7F60] if group is not None else []
    if group is None:
        problems.append("DG2: no biometric information group template (7F61)")
    elif not bits:
        problems.append("DG2: no biometric information template (7F60)")
    else:
        count = group.find(0x02)
        n = tlv.decode_int(count.value) if count is not None and count.value else None
        if n != len(bits):
            problems.append(f"DG2: the template counts {n} faces, {len(bits)} are there")
    for bit in bits:
        bht = bit.find(0xA1)
        owner = bht.find(0x87) if bht is not None else None
        ftype = bht.find(0x88) if bht is not None else None
        if bht is None or owner is None or ftype is None:
            problems.append("DG2: biometric header template without format owner and type")
        bdb_19794, bdb_39794 = bit.find(0x5F2E), bit.find(0x7F2E)
        try:
            if bdb_19794 is not None:
                if ftype is not None and int.from_bytes(ftype.value, "big") != FORMAT_TYPE_19794_5:
                    problems.append(f"DG2: format type {ftype.value.hex()} with an ISO/IEC 19794-5 block (0008)")
                face = parse_iso19794_5(bdb_19794.value)
            elif bdb_39794 is not None:
                face = parse_iso39794_5(bdb_39794.value)
            else:
                continue
        except ParseError as exc:
            problems.append(exc.detail)
            block = (bdb_19794 or bdb_39794).value
            found = _by_signature(block)
            if found is None:
                continue
            return replace(found, problems=tuple(problems) + ("DG2: image found by its signature only",))
        return replace(face, problems=tuple(problems) + face.problems)

    # no template we can walk: any biometric data block anywhere, then any image signature
    def walk(node: tlv.TLV, depth: int = 0):
        for c in node.parse():
            if c.tag in (0x5F2E, 0x7F2E):
                img = _by_signature(c.value)
                if img:
                    return img
            elif c.constructed and depth < 6:
                found = walk(c, depth + 1)
                if found:
                    return found
        return None

    img = walk(t)
    if img is None:
        raise ParseError(detail="DG2: no JPEG or JPEG 2000 image found")
    return replace(img, problems=tuple(problems) + ("DG2: image found by its signature only",))


def face_pixels(data: bytes, max_size: tuple[int, int] = (480, 640), mode: str = "RGB") -> tuple[bytes, int, int]:
    """Decode a face image (JPEG, or JPEG 2000 through Pillow's OpenJPEG) to ``mode`` (RGB or
    RGBA) pixels, top row first, no larger than ``max_size``: what a screen draws. Raises
    :class:`ParseError` for bytes that are not a decodable image or one larger than
    :data:`MAX_FACE_PIXELS`."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in ("JPEG", "JPEG2000"):
                raise ParseError(detail=f"face image: {img.format} is not JPEG or JPEG 2000")
            w, h = img.size
            if w * h > MAX_FACE_PIXELS or not w or not h:
                raise ParseError(detail=f"face image: {w}×{h} pixels is not a portrait")
            if img.format == "JPEG":
                img.draft("RGB", max_size)
            img = img.convert(mode)
            img.thumbnail(max_size)
            return img.tobytes(), img.width, img.height
    except ParseError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ParseError(detail=f"face image not decodable ({type(exc).__name__})") from None


def build_face_record(image: bytes, width: int, height: int, *, jp2: bool | None = None) -> bytes:
    """An ISO/IEC 19794-5:2005 facial record block (the BDB of DG2): general header, one facial
    record whose length field is the record's length, image information whose image data type
    says what ``image`` is (JPEG 0, JPEG 2000 1)."""
    if jp2 is None:
        jp2 = image_type(image) == "image/jp2"
    facial_len = 20 + 12 + len(image)
    facial_info = (facial_len.to_bytes(4, "big") + (0).to_bytes(2, "big")        # length, feature points
                   + bytes([0, 0, 0]) + bytes(3) + bytes(2) + bytes(3) + bytes(3))  # gender … pose uncertainty
    image_info = (bytes([1, 1 if jp2 else 0]) + width.to_bytes(2, "big") + height.to_bytes(2, "big")
                  + bytes([1, 0]) + bytes(2) + bytes(2))   # full frontal; type; size; 24-bit RGB; unknown source
    record = facial_info + image_info + image
    header = b"FAC\x00" + b"010\x00" + (14 + len(record)).to_bytes(4, "big") + (1).to_bytes(2, "big")
    return header + record


def build_face_data_block(image: bytes, width: int, height: int, *, wrap: bool = True) -> bytes:
    """ISO/IEC 39794-5 tagged-binary face image data (the BDB 7F2E value), as the ICAO
    application profile's samples encode it (mandatory fields, image size)."""
    code = {"image/jpeg": 2, "image/jp2": 3}[image_type(image) or "image/jpeg"]
    info = tlv.encode(0xA1, [tlv.encode(0xA0, tlv.encode(0x80, bytes([code]))),
                             tlv.encode(0xA7, [tlv.encode(0x80, tlv.encode_int(width)),
                                               tlv.encode(0x81, tlv.encode_int(height))])])
    two_d = tlv.encode(0xA0, [tlv.encode(0x80, image), info])
    rep = tlv.encode(0x30, [tlv.encode(0x80, b"\x00"), tlv.encode(0xA1, tlv.encode(0xA0, two_d))])
    block = tlv.encode(0x65, [tlv.encode(0xA0, [tlv.encode(0x80, b"\x03"), tlv.encode(0x81, (2019).to_bytes(2, "big"))]),
                              tlv.encode(0xA1, rep)])
    return tlv.encode(0xA1, block) if wrap else block


def build_dg2(image: bytes, width: int, height: int, *, encoding: str = "19794") -> bytes:
    """DG2 with one face (virtual card): an ISO/IEC 19794-5 record in 5F2E (``encoding="19794"``)
    or ISO/IEC 39794-5 data in 7F2E (``"39794"``)."""
    if encoding == "39794":
        bht = tlv.encode(0xA1, [tlv.encode(0x87, FORMAT_OWNER_JTC1_SC37.to_bytes(2, "big")),
                                tlv.encode(0x88, b"\x00\x2A")])   # as in the ICAO 39794-5 AP sample DG2
        bdb = tlv.encode(0x7F2E, build_face_data_block(image, width, height))
    else:
        bht = tlv.encode(0xA1, [tlv.encode(0x80, b"\x01\x01"), tlv.encode(0x87, FORMAT_OWNER_JTC1_SC37.to_bytes(2, "big")),
                                tlv.encode(0x88, FORMAT_TYPE_19794_5.to_bytes(2, "big"))])
        bdb = tlv.encode(0x5F2E, build_face_record(image, width, height))
    return tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), tlv.encode(0x7F60, [bht, bdb])]))


def parse_dg14(data: bytes) -> list[SecurityInfo]:
    t = _outer(data, 0x6E, "DG14")
    return parse_security_infos(t.value)


def parse_dg15(data: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of the active-authentication key."""
    t = _outer(data, 0x6F, "DG15")
    inner, _ = tlv.decode_one(t.value, 0)
    if inner.tag != 0x30:
        raise ParseError(detail="DG15: expected a SubjectPublicKeyInfo")
    return inner.raw
