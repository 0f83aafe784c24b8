"""DG2, the face image: ISO/IEC 19794-5 and ISO/IEC 39794-5 walked by their structure (exactly the
image bytes, nothing before or after), JPEG 2000 decoded with Pillow's OpenJPEG, and a DG2 that
departs from its standard reported by the reader without failing the read."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image, features

from devices.idcard import AccessKey, lds, open_reader, tlv
from devices.idcard.errors import ParseError
from devices.idcard.vcard import datasets
from devices.idcard.vcard.datasets import DATASETS, Dataset, build_files, face_jp2, face_jpeg

from _idcard_helpers import TRUST

JPEG = face_jpeg("dg2-test")
JP2 = face_jp2("dg2-test")


def _old_virtual_card_dg2(image: bytes) -> bytes:
    """The virtual card's DG2 before issue 15: facial record length 20, image data type JPEG 2000."""
    facial_info = (20).to_bytes(4, "big") + (0).to_bytes(2, "big") + b"\x00" * 14
    image_info = bytes([1, 1]) + (240).to_bytes(2, "big") + (320).to_bytes(2, "big") + bytes([1, 0]) + bytes(4)
    record = facial_info + image_info + image
    header = b"FAC\x00" + b"010\x00" + (14 + len(record)).to_bytes(4, "big") + (1).to_bytes(2, "big")
    bht = tlv.encode(0xA1, [tlv.encode(0x80, b"\x01\x01"), tlv.encode(0x87, b"\x01\x01"), tlv.encode(0x88, b"\x00\x08")])
    return tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"),
                                                  tlv.encode(0x7F60, [bht, tlv.encode(0x5F2E, header + record)])]))


def test_pillow_has_openjpeg():
    assert features.check("jpg_2000")


@pytest.mark.parametrize("encoding", ["19794", "39794"])
@pytest.mark.parametrize("image,mime", [(JPEG, "image/jpeg"), (JP2, "image/jp2")])
def test_both_encodings_give_exactly_the_image_conformant(encoding, image, mime):
    face = lds.parse_dg2(lds.build_dg2(image, 240, 320, encoding=encoding))
    assert face.data == image                       # no byte of the record before or after it
    assert face.mime == mime and face.conformant and face.problems == ()
    assert face.encoding == {"19794": "ISO/IEC 19794-5", "39794": "ISO/IEC 39794-5"}[encoding]
    assert (face.width, face.height) == (240, 320)


def test_the_virtual_cards_19794_record_is_conformant_byte_by_byte():
    bdb = lds.build_face_record(JPEG, 240, 320)
    assert bdb[:8] == b"FAC\x00010\x00" and int.from_bytes(bdb[8:12], "big") == len(bdb)
    assert int.from_bytes(bdb[12:14], "big") == 1
    record = bdb[14:]
    assert int.from_bytes(record[0:4], "big") == len(record) == 20 + 12 + len(JPEG)   # the record's length
    assert record[20 + 1] == 0                                                          # image data type: JPEG
    assert lds.build_face_record(JP2, 240, 320)[14 + 20 + 1] == 1                       # JPEG 2000


def test_39794_structure_as_the_icao_application_profile_encodes_it():
    """7F2E { A1 { 65 { A0 version, A1 { 30 { 80 id, A1 { A0 { A0 { 80 image, A1 { A0 { 80 format }
    … } } } } } } } } }, BHT format type 002A: the layout of the ICAO 39794-5 AP sample DG2s."""
    dg2 = lds.build_dg2(JP2, 240, 320, encoding="39794")
    bit = tlv.decode(dg2).find(0x7F61).find(0x7F60)
    assert bit.find(0xA1).find(0x88).value == b"\x00\x2A"
    block = bit.find(0x7F2E).parse()[0]
    assert block.tag == 0xA1 and block.parse()[0].tag == 0x65
    rep = block.parse()[0].find(0xA1).find(0x30)
    two_d = rep.find(0xA1).find(0xA0).find(0xA0)
    assert two_d.find(0x80).value == JP2
    assert two_d.find(0xA1).find(0xA0).find(0x80).value == b"\x03"     # jpeg2000Lossy
    # the bare FaceImageDataBlock (no [1] wrapper) reads the same
    bare = lds.build_face_data_block(JPEG, 10, 20, wrap=False)
    assert lds.parse_iso39794_5(bare).data == JPEG


def test_39794_image_is_cut_exactly_where_the_old_signature_search_left_trailing_bytes():
    dg2 = lds.build_dg2(JP2, 240, 320, encoding="39794")
    bdb = tlv.decode(dg2).find(0x7F61).find(0x7F60).find(0x7F2E).value
    start = bdb.find(JP2[:12])
    assert len(bdb[start:]) > len(JP2)              # what the old parser returned: image + the blocks after it
    assert lds.parse_dg2(dg2).data == JP2


def test_the_old_virtual_card_dg2_is_reported_not_silently_accepted():
    face = lds.parse_dg2(_old_virtual_card_dg2(JPEG))
    assert face.data == JPEG and face.mime == "image/jpeg"
    assert not face.conformant
    text = " ".join(face.problems)
    assert "facial record length field says 20" in text
    assert "image data type says JPEG 2000 but the image is JPEG" in text


@pytest.mark.parametrize("mutate,expect", [
    (lambda bdb: bdb[:8] + (len(bdb) + 5).to_bytes(4, "big") + bdb[12:], "record length field says"),
    (lambda bdb: bdb[:12] + b"\x00\x00" + bdb[14:], "counts 0 facial images"),
    (lambda bdb: bdb[:14 + 21] + b"\x07" + bdb[14 + 22:], "unknown image data type 7"),
])
def test_19794_departures_are_named(mutate, expect):
    bdb = mutate(lds.build_face_record(JPEG, 240, 320))
    face = lds.parse_iso19794_5(bdb)
    assert face.data == JPEG and any(expect in p for p in face.problems), face.problems


def test_19794_format_type_and_count_departures_in_the_template():
    bht = tlv.encode(0xA1, [tlv.encode(0x87, b"\x01\x01"), tlv.encode(0x88, b"\x00\x09")])
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x02"), tlv.encode(0x7F60, [
        bht, tlv.encode(0x5F2E, lds.build_face_record(JPEG, 240, 320))])]))
    face = lds.parse_dg2(dg2)
    assert face.data == JPEG
    assert any("counts 2 faces" in p for p in face.problems) and any("format type 0009" in p for p in face.problems)


def test_39794_declared_format_that_disagrees_with_the_image_is_reported():
    dg2 = lds.build_dg2(JPEG, 240, 320, encoding="39794").replace(b"\xA0\x03\x80\x01\x02", b"\xA0\x03\x80\x01\x04", 1)
    face = lds.parse_dg2(dg2)
    assert face.data == JPEG and face.mime == "image/jpeg"
    assert any("says JPEG 2000 but the image is JPEG" in p for p in face.problems)


def test_a_dg2_outside_any_template_is_found_by_signature_and_says_so():
    dg2 = tlv.encode(0x75, tlv.encode(0x5F2E, b"junk" + JPEG + b"\x00\x00after"))
    face = lds.parse_dg2(dg2)
    assert face.data == JPEG and not face.conformant
    assert any("signature only" in p for p in face.problems)


def test_a_broken_record_falls_back_to_the_image_signature_exactly():
    bdb = b"FAC\x00999\x00" + bytes(6) + JP2 + b"tail"
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), tlv.encode(0x7F60, [
        tlv.encode(0xA1, [tlv.encode(0x87, b"\x01\x01"), tlv.encode(0x88, b"\x00\x08")]), tlv.encode(0x5F2E, bdb)])]))
    face = lds.parse_dg2(dg2)
    assert face.data == JP2 and face.mime == "image/jp2"          # the JP2 boxes say where it ends
    assert any("version" in p for p in face.problems)


def test_no_image_at_all_is_a_parse_error():
    with pytest.raises(ParseError):
        lds.parse_dg2(tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01")])))


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_dg2_parsers_only_raise_parse_error(data):
    for fn in (lds.parse_iso19794_5, lds.parse_iso39794_5):
        try:
            fn(data)
        except ParseError:
            pass
    for blob in (tlv.encode(0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01"), tlv.encode(0x7F60, [
            tlv.encode(0xA1, b""), tlv.encode(tag, data)])])) for tag in (0x5F2E, 0x7F2E)):
        try:
            lds.parse_dg2(blob)
        except ParseError:
            pass


# --- decoding for the screen ----------------------------------------------------------------------
@pytest.mark.parametrize("image", [JPEG, JP2])
def test_face_pixels_decodes_jpeg_and_jpeg2000_to_what_the_screen_draws(image):
    pixels, w, h = lds.face_pixels(image)
    assert (w, h) == (240, 320) and len(pixels) == w * h * 3
    shown = Image.frombytes("RGB", (w, h), pixels)
    original = Image.open(io.BytesIO(JPEG)).convert("RGB")
    # the same portrait (lossy both ways): mean absolute difference of a few levels
    diff = sum(abs(a - b) for a, b in zip(shown.tobytes(), original.tobytes())) / len(pixels)
    assert diff < 12, diff
    rgba, w2, h2 = lds.face_pixels(image, max_size=(120, 160), mode="RGBA")
    assert (w2, h2) == (120, 160) and len(rgba) == 120 * 160 * 4


def test_face_pixels_refuses_what_is_not_a_portrait():
    with pytest.raises(ParseError):
        lds.face_pixels(b"not an image")
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    with pytest.raises(ParseError):
        lds.face_pixels(png.getvalue())
    with pytest.raises(ParseError):
        lds.face_pixels(JP2[: len(JP2) // 3])       # truncated codestream
    huge = io.BytesIO()
    Image.new("L", (5000, 4000)).save(huge, "JPEG")
    with pytest.raises(ParseError):
        lds.face_pixels(huge.getvalue())


# --- through the reader ---------------------------------------------------------------------------
def _sim(dataset):
    return open_reader({"backend": "sim", "dataset": dataset, "trust_store": TRUST})


@pytest.mark.parametrize("dataset,mime,encoding", [("default", "image/jpeg", "ISO/IEC 19794-5"),
                                                   ("iso39794", "image/jp2", "ISO/IEC 39794-5")])
def test_reader_gives_the_exact_photo_and_reports_the_encoding(dataset, mime, encoding):
    r = _sim(dataset).read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    c = DATASETS[dataset].citizen
    expected = face_jp2(c.id_number) if mime == "image/jp2" else face_jpeg(c.id_number)
    assert r.verified and r.photo_jpeg == expected and r.photo_mime == mime
    facts = r.stats["face_image"]
    assert facts == {"encoding": encoding, "mime": mime, "bytes": len(expected), "width": 240, "height": 320,
                     "conformant": True, "problems": []}
    assert lds.face_pixels(r.photo_jpeg)[1:] == (240, 320)


def test_reader_reports_a_non_conformant_dg2_as_a_fact_and_still_verifies(monkeypatch, caplog):
    """A genuine (signed) DG2 that departs from 19794-5: the photo is shown, the departure is in
    the read's facts and the log; the read is neither failed nor refused."""
    name = "test-old-dg2"
    monkeypatch.setitem(DATASETS, name, Dataset(name, DATASETS["default"].citizen))
    real_build = lds.build_dg2
    monkeypatch.setattr(datasets.lds, "build_dg2", lambda image, w, h, encoding="19794": _old_virtual_card_dg2(image))
    build_files.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="devices.idcard.reader"):
            r = _sim(name).read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    finally:
        monkeypatch.setattr(datasets.lds, "build_dg2", real_build)
        build_files.cache_clear()
    assert r.verified and r.checks["hashes"].status == "ok"
    assert r.photo_jpeg == face_jpeg(DATASETS["default"].citizen.id_number) and r.photo_mime == "image/jpeg"
    facts = r.stats["face_image"]
    assert not facts["conformant"] and len(facts["problems"]) == 2
    assert "DG2 is not conformant" in caplog.text


def test_reader_with_a_dg2_without_image_gives_no_photo_and_says_why(monkeypatch):
    name = "test-empty-dg2"
    monkeypatch.setitem(DATASETS, name, Dataset(name, DATASETS["default"].citizen))
    real_build = lds.build_dg2
    monkeypatch.setattr(datasets.lds, "build_dg2", lambda image, w, h, encoding="19794": tlv.encode(
        0x75, tlv.encode(0x7F61, [tlv.encode(0x02, b"\x01")])))
    build_files.cache_clear()
    try:
        r = _sim(name).read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    finally:
        monkeypatch.setattr(datasets.lds, "build_dg2", real_build)
        build_files.cache_clear()
    assert r.verified and r.photo_jpeg is None and r.person.full_name == "Trần Thị Ngọc Ánh"
    assert r.stats["face_image"]["conformant"] is False and r.stats["face_image"]["problems"]
