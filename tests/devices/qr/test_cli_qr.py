"""`kiosk qr decode` / `kiosk qr listen` end to end (the listener over a real socat pty pair)."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import serial

from devices.qr.synth import DEGRADATIONS, cccd_payload, hard_frame, qr_image
from kiosk.tools.cli import main

ROOT = Path(__file__).resolve().parents[3]
SIM_QR = ("001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|"
          "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023")


@pytest.fixture(scope="module")
def cccd_images(tmp_path_factory):
    """CCCD-style test images: the simulated citizen's clean code, and one per kind of trouble."""
    d = tmp_path_factory.mktemp("qrimg")
    rng = random.Random(42)
    cases = []
    p = d / "sim-citizen.png"
    cv2.imwrite(str(p), qr_image(SIM_QR))
    cases.append((str(p), [SIM_QR]))
    for kind in DEGRADATIONS:
        payloads = [cccd_payload(rng) for _ in range(2 if kind == "multi" else 1)]
        p = d / f"{kind}.png"
        cv2.imwrite(str(p), hard_frame(rng, payloads, kind))
        cases.append((str(p), payloads))
    return cases


def test_decode_prints_exact_vietnamese_text(cccd_images, capsys):
    rc = main(["qr", "decode", cccd_images[0][0]])
    assert rc == 0
    assert capsys.readouterr().out == SIM_QR + "\n"


def test_decode_json_every_cccd_image(cccd_images, capsys):
    rc = main(["qr", "decode", "--json", *[p for p, _ in cccd_images]])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    for (path, payloads), entry in zip(cccd_images, out["images"]):
        assert entry["image"] == path
        assert sorted(c["text"] for c in entry["codes"]) == sorted(payloads), path
        assert all(c["kind"] == "cccd" for c in entry["codes"])


def test_decode_exit_codes(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), 255 * (qr_image("x")[:10, :10] > 0).astype("uint8"))
    assert main(["qr", "decode", str(blank)]) == 1
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["qr", "decode", str(bad), str(blank)]) == 2
    raw = tmp_path / "raw.png"
    cv2.imwrite(str(raw), qr_image(b"\xff\xfe\x80"))
    assert main(["qr", "decode", str(raw)]) == 0
    cap = capsys.readouterr()
    assert cap.out.strip() == "fffe80" and "character set of a code is not certain" in cap.err


def test_installed_command_prints_utf8(cccd_images):
    exe = Path(sys.executable).with_name("kiosk")  # the command of the venv running the tests
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kiosk"]
    r = subprocess.run([*cmd, "qr", "decode", cccd_images[0][0]], capture_output=True, timeout=60,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"}, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode("utf-8") == SIM_QR + "\n"


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
def test_listen_over_serial(tmp_path):
    a, b = tmp_path / "ttyQR", tmp_path / "ttyDEV"
    socat = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if a.exists() and b.exists():
                break
            time.sleep(0.01)
        listener = subprocess.Popen([sys.executable, "-m", "kiosk", "qr", "listen", "--port", str(a),
                                     "--count", "2", "--timeout", "20", "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            # the listener reports its scanner's health once its end is open (opening flushes input)
            first = listener.stderr.readline().decode("utf-8")
            assert "serial scanner: ok" in first, first
            with serial.Serial(str(b), 9600, timeout=1) as dev:
                dev.write(b"\xff\xfe junk\r")
                dev.write(SIM_QR.encode() + b"\r")
                dev.write(b"kiosk://flow/khai-sinh\r")
            out, err = listener.communicate(timeout=30)
        finally:
            if listener.poll() is None:
                listener.kill()
        assert listener.returncode == 0, err.decode()
        lines = [json.loads(x) for x in out.decode("utf-8").splitlines()]
        assert lines == [{"text": SIM_QR, "kind": "cccd"}, {"text": "kiosk://flow/khai-sinh", "kind": "procedure"}]
        assert "refused (garbage)" in err.decode("utf-8")
    finally:
        socat.send_signal(signal.SIGTERM)
        socat.wait(5)
