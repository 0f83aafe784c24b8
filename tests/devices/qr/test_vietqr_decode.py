"""A VietQR code drawn as the kiosk draws it (segno → PNG) is read back by the project's own QR
pipeline (devices.qr.decode_frame) into the very payload, and that payload parses to the amount
and dossier code it was built from."""
from __future__ import annotations

import io

import cv2
import numpy as np
import segno

from common.vietqr import build_payload, parse_payload
from devices.qr import decode_frame

DOSSIER = "01.00004-261204-0007"


def _png(payload: str, scale: int) -> bytes:
    buf = io.BytesIO()
    # error correction M, as bank apps' own VietQR images use; no micro QR (bank apps do not read it)
    segno.make(payload, error="m", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def _gray(png: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)


def test_segno_png_decodes_to_the_same_payload():
    payload = build_payload("970415", "113366668888", 4000, DOSSIER, DOSSIER)
    png = _png(payload, scale=8)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    found = decode_frame(_gray(png))
    assert [d.text for d in found] == [payload]
    got = parse_payload(found[0].text)
    assert (got["amount"], got["bill"], got["bank_bin"], got["account"]) == (4000, DOSSIER, "970415", "113366668888")


def test_code_on_a_screen_sized_frame_still_decodes():
    """The code as part of a 1080p screen (white page, text around it), shrunk and slightly blurred,
    as a screenshot or a phone camera sees it."""
    payload = build_payload("970403", "0011012345678", 200000, DOSSIER, "Le phi chung thuc")
    code = _gray(_png(payload, scale=6))
    screen = np.full((1080, 1920), 255, np.uint8)
    y, x = 300, 760
    screen[y:y + code.shape[0], x:x + code.shape[1]] = code
    cv2.putText(screen, "Quet ma de nop le phi 200.000 d", (600, 240), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    shot = cv2.GaussianBlur(cv2.resize(screen, (1280, 720), interpolation=cv2.INTER_AREA), (3, 3), 0)
    found = decode_frame(cv2.cvtColor(shot, cv2.COLOR_GRAY2BGR))
    assert [d.text for d in found] == [payload]
    assert parse_payload(found[0].text)["amount"] == 200000
