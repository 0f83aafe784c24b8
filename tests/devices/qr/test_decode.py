"""Engines and the pipeline on generated Vietnamese QR images, plain and degraded."""
from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from devices.qr import decode_frame
from devices.qr.engines import ENGINES, OpenCvEngine, make_engine
from devices.qr.payloads import parse_cccd
from devices.qr.synth import DEGRADATIONS, cccd_payload, hard_frame, qr_image

SIM_QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
          "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")
# short Vietnamese strings that plain zbar reads as Shift-JIS / Latin-1
GARBLED_BY_PLAIN_ZBAR = ["Huỳnh", "Thủy", "Phường Ba Đình", "Ưng Hoà", "Trường Sa"]


@pytest.mark.parametrize("engine", ["zbar-binary", "zxing", "opencv"])
def test_engines_read_exact_vietnamese(engine):
    e = make_engine(engine)
    for text in [SIM_QR, *GARBLED_BY_PLAIN_ZBAR]:
        got = e.decode(qr_image(text))
        assert [d.text for d in got] == [text]
        assert got[0].data == text.encode("utf-8") and len(got[0].polygon) == 4


def test_plain_zbar_garbles_what_binary_mode_reads():
    plain, binary = make_engine("zbar-plain"), make_engine("zbar-binary")
    garbled = 0
    for text in GARBLED_BY_PLAIN_ZBAR:
        img = qr_image(text)
        garbled += plain.decode(img)[0].text != text
        assert binary.decode(img)[0].text == text
    assert garbled >= 3


@pytest.mark.parametrize("engine", sorted(set(ENGINES) - {"zbar-plain"}))
def test_non_utf8_bytes_give_no_text(engine):
    raw = b"\xff\xfe\x80abc\xc3"
    got = make_engine(engine).decode(qr_image(raw))
    assert got and got[0].text is None and got[0].data == raw


def test_colour_and_gray_inputs():
    img = qr_image(SIM_QR)
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    bgr[:, :, 0] = 255  # channel 0 alone would hold no code: a colour frame must be converted
    for engine in ("zbar-binary", "zxing"):
        assert make_engine(engine).decode(bgr)[0].text == SIM_QR


def test_unknown_engine():
    with pytest.raises(ValueError):
        make_engine("nope")


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_pipeline_on_degraded_frames(kind):
    rng = random.Random(DEGRADATIONS.index(kind))
    ok = 0
    for _ in range(3):
        payloads = [cccd_payload(rng) for _ in range(2 if kind == "multi" else 1)]
        got = decode_frame(hard_frame(rng, payloads, kind))
        texts = [d.text for d in got]
        assert all(t in payloads for t in texts), "a wrong text came out"
        ok += sorted(texts) == sorted(payloads)
        for t in texts:
            parse_cccd(t)
    assert ok >= 2


def test_pipeline_nothing_in_a_blank_frame():
    assert decode_frame(np.full((1080, 1920, 3), 200, np.uint8)) == []


def test_opencv_raw_bytes_heuristic():
    assert OpenCvEngine._raw("ÿþabc") == b"\xff\xfeabc"
    assert OpenCvEngine._raw("Trần") == "Trần".encode()
