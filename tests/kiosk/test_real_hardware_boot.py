"""The kiosk booted the way config/examples/real-hardware.toml configures it, on stand-ins that speak
the real OS interfaces, and a citizen files a whole procedure through it.

The override changes only where each device is and what a test machine must not touch:

* ``[devices.idcard] backend = "pcsc"``: pcscd with Debian's vpcd driver; the virtual card connects
  to it as a contactless card would (the ``pcscd`` fixture);
* ``[devices.qr] backend = "serial"``: a socat pseudo-terminal pair; the test's "scanner" types the
  card's QR into the other end, CR-terminated as scanners do. Second run: ``backend = "camera"``,
  the card's QR held in front of the camera;
* ``[devices.camera] backend = "opencv"`` on a video file (OpenCV's VideoCapture, the same call a
  /dev/video device goes through; this kernel has no v4l2loopback);
* ``[devices.printer] backend = "network"``: a TCP listener on 127.0.0.1 that prints what it gets
  and answers DLE EOT like a real printer (paper, cover);
* the central system over HTTPS with mutual TLS on 127.0.0.1 (a private CA, the kiosk's client
  certificate), its own data and log folders under tmp_path;
* the outbox key as systemd hands it to the units (``key_source = "credential"``, the example's):
  decrypted into ``$CREDENTIALS_DIRECTORY/outbox-key`` — there is no systemd as PID 1 here to do it;
* what a province installs (testkit/pki.py): the kiosk's ID and secret, a technician PIN that is
  not the public one, a CSCA whose key is not in the repository (the virtual card signs with its
  document signer: ``KIOSK_VCARD_PKI``), and a signed flow bundle with its trusted key. The
  configuration passes ``kiosk config check``: a kiosk with real devices refuses to start otherwise.

The kiosk itself runs in a child process (Kivy has one window per process):
tests/kiosk/real_hardware_driver.py. Its screenshots are kept in out/test-screens/real-hardware-*.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "examples" / "real-hardware.toml"
ARTEFACTS = ROOT / "out" / "test-screens"
VPCD_READER = "Virtual PCD 00 00"
KIOSK_ID, SECRET = "KIOSK-HN-BADINH-07", "boot-test-secret-3f9c1a7e52"

pytestmark = [pytest.mark.pcscd, pytest.mark.real_hardware,
              pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")]


# --- the configuration: the shipped example, and only what the stand-ins need on top ----------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string is a JSON string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def write_config(path: Path, override: dict) -> dict:
    merged = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, values in override.items():
        target = merged
        for part in section.split("."):
            target = target.setdefault(part, {})
        target.update(values)

    def emit(prefix, table, out):
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if scalars:
            out.append(f"[{prefix}]")
            out += [f"{k} = {_toml_value(v)}" for k, v in scalars.items()]
        for k, v in table.items():
            if isinstance(v, dict):
                emit(f"{prefix}.{k}" if prefix else k, v, out)

    lines: list[str] = []
    emit("", merged, lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return merged


def _scenes(folder: Path) -> None:
    """card.avi: the sample card's QR held up to the camera; page.avi: a paper on the desk."""
    import cv2
    import numpy as np

    from devices.camera.scene import desk_photo
    from devices.qr.scanner import SIM_CITIZEN_QR
    from devices.qr.synth import qr_image

    folder.mkdir(parents=True, exist_ok=True)
    size = (1280, 720)
    card = np.full((size[1], size[0], 3), 96, np.uint8)
    q = qr_image(SIM_CITIZEN_QR, scale=6, border=4)
    y, x = (size[1] - q.shape[0]) // 2, (size[0] - q.shape[1]) // 2
    card[y:y + q.shape[0], x:x + q.shape[1]] = q[:, :, None]
    page, _ = desk_photo(3, size)
    for name, frame in (("card", card), ("page", page)):
        out = cv2.VideoWriter(str(folder / f"{name}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 15, size)
        assert out.isOpened(), "OpenCV cannot write MJPG"
        for _ in range(10):
            out.write(frame)
        out.release()


class Pty:
    """socat pty pair: the kiosk opens ``kiosk_end``; the test's scanner types into ``scanner_end``."""

    def __init__(self, folder: Path):
        self.kiosk_end, self.scanner_end = str(folder / "ttyACM-kiosk"), str(folder / "ttyACM-scanner")
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.kiosk_end}", f"pty,raw,echo=0,link={self.scanner_end}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (os.path.exists(self.kiosk_end) and os.path.exists(self.scanner_end)):
            assert time.monotonic() < deadline, "socat did not create the ptys"
            time.sleep(0.01)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(5)


@pytest.fixture
def stand_ins(tmp_path, pcscd):
    from central.server import TLSOptions, run_in_thread
    from devices.printer import NetworkPrinterEmulator, PrinterModel, get_profile
    from kiosk.config import hash_pin, load_config
    from testkit import pki
    from testkit.central import free_port

    _scenes(tmp_path / "scenes")
    video = tmp_path / "camera.avi"
    shutil.copy(tmp_path / "scenes" / "page.avi", video)
    pty = Pty(tmp_path)
    printer = NetworkPrinterEmulator(PrinterModel(get_profile("80mm").dots_per_line)).start()
    port = free_port()
    data = tmp_path / "var-lib-kiosk"
    card_pki = pki.card_pki(tmp_path / "card-pki")
    tls = pki.tls(tmp_path / "tls", KIOSK_ID)
    flow_keys = pki.four_eyes_bundle(data / "flows", ["khai-sinh", "chung-thuc-ban-sao"])  # two admins: min_signatures 2
    pin_hash = hash_pin("975310")
    creds = tmp_path / "credentials"  # what LoadCredentialEncrypted= gives kiosk.service
    creds.mkdir(mode=0o700)
    from kiosk.outbox_key import load_or_create_key

    load_or_create_key(creds / "outbox-key")

    def config(qr_backend: str) -> Path:
        path = tmp_path / f"kiosk-{qr_backend}.toml"
        write_config(path, {
            "kiosk": {"id": KIOSK_ID},
            "paths": {"data_dir": str(data)},
            "logging": {"file": str(tmp_path / "log" / "kiosk.log")},
            "central": {"url": f"https://127.0.0.1:{port}", "kiosk_secret": SECRET, "ca_file": tls["ca"],
                        "client_cert": tls["client_cert"], "client_key": tls["client_key"],
                        "database": str(tmp_path / "central.sqlite3")},
            "outbox": {"path": str(data / "outbox" / "outbox.sqlite3")},
            "flows": {"bundle_dir": str(data / "flows"), "trusted_keys": flow_keys},
            "maintenance": {"pin_hash": pin_hash},
            "devices.idcard": {"reader": VPCD_READER, "trust_store": str(card_pki / "csca")},
            "devices.qr": {"backend": qr_backend, "port": pty.kiosk_end},
            "devices.camera": {"source": str(video)},
            "devices.printer": {"backend": "network", "host": printer.host, "port": printer.port,
                                "out_dir": str(data / "printer"), "spool_dir": str(data / "printer" / "spool")},
        })
        return path

    central = run_in_thread(load_config(config("serial")),
                            tls=TLSOptions(tls["server_cert"], tls["server_key"], client_ca=tls["ca"]))
    try:
        yield {"config": config, "video": video, "scenes": tmp_path / "scenes", "pty": pty, "printer": printer,
               "central_db": tmp_path / "central.sqlite3", "tmp": tmp_path, "card_pki": card_pki,
               "env": {**os.environ, "KIOSK_VCARD_PKI": str(card_pki), "CREDENTIALS_DIRECTORY": str(creds)}}
    finally:
        central.stop()
        printer.stop()
        pty.close()


def boot_and_file(env, qr_backend: str, flow_id: str) -> dict:
    shots = ARTEFACTS / f"real-hardware-{qr_backend}"
    shutil.rmtree(shots, ignore_errors=True)
    result = env["tmp"] / f"result-{qr_backend}.json"
    cmd = [sys.executable, str(Path(__file__).with_name("real_hardware_driver.py")),
           "--config", str(env["config"](qr_backend)), "--flow", flow_id, "--qr", qr_backend,
           "--scanner-end", env["pty"].scanner_end, "--video", str(env["video"]), "--scenes", str(env["scenes"]),
           "--reader", VPCD_READER, "--shots", str(shots), "--result", str(result)]
    proc = subprocess.run(cmd, cwd=env["tmp"], capture_output=True, text=True, timeout=420, env=env["env"])
    assert proc.returncode == 0, f"the kiosk run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    summary = json.loads(result.read_text(encoding="utf-8"))
    summary["shots"] = sorted(p.name for p in shots.glob("*.png"))
    return summary


def check_filed(env, summary: dict, jobs_before: int) -> None:
    # nothing to fix: the configuration is fit for citizens (kiosk.deployment), every device opened
    assert summary["startup_problems"] == [], summary["startup_problems"]
    assert summary["verified_card"], "passive authentication against the installed CSCA failed"
    assert summary["backends"]["idcard"] == "PcscTransport"
    assert summary["backends"]["camera"] == "OpenCvCamera"
    assert summary["backends"]["outbox_key"] == "credential"
    assert summary["backends"]["printer"] == f"network {env['printer'].host}:{env['printer'].port}"
    assert not summary["provisional"] and summary["code"], summary
    with sqlite3.connect(env["central_db"]) as con:
        codes = [r[0] for r in con.execute("select dossier_code from dossiers")]
    assert summary["code"] in codes
    # the receipt went to the listener: a cut job, drawn, and nothing left in the kiosk's spool
    paper = env["printer"].model.render()
    assert len(paper.cuts) > jobs_before, "no receipt reached the printer"
    top = paper.cuts[jobs_before - 1] if jobs_before else 0
    receipt = paper.image.crop((0, top, paper.image.width, paper.cuts[jobs_before]))
    assert receipt.height > 400
    receipt.save(ARTEFACTS / f"real-hardware-{summary['qr']}" / "receipt-as-printed.png")
    assert summary["spooled"] == []
    # the card was left on the reader: reminded at goodbye and home, gone when lifted (pcscd events)
    assert summary["reminded"] and summary["reminded_at_home"] and summary["reminder_gone"]
    assert {"identify-waiting-for-card", "goodbye"} <= {Path(s).stem.split("-", 1)[1] for s in summary["shots"]}


def kiosk_cli(env, config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env["env"])


def test_real_hardware_config_files_a_procedure_with_serial_scanner_and_network_printer(stand_ins):
    env = stand_ins
    summary = boot_and_file(env, "serial", "khai-sinh")
    summary["qr"] = "serial"
    assert summary["backends"]["qr"] == "SerialScanner"
    check_filed(env, summary, 0)

    # the listener now says what a real printer says with its cover open: the kiosk's CLI tells
    env["printer"].model.set_state(cover_open=True)
    check = kiosk_cli(env, env["config"]("serial"), "config", "check")
    assert check.returncode == 0, check.stderr
    status = kiosk_cli(env, env["config"]("serial"), "printer", "status", "--json")
    assert status.returncode == 1, status.stdout + status.stderr
    assert json.loads(status.stdout)["facts"]["status"]["cover_open"] is True
    env["printer"].model.set_state(cover_open=False, paper="out")
    status = kiosk_cli(env, env["config"]("serial"), "printer", "status", "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["facts"]["status"]["paper"] == "out"


def test_real_hardware_config_reads_the_card_qr_through_the_camera(stand_ins):
    env = stand_ins
    summary = boot_and_file(env, "camera", "chung-thuc-ban-sao")
    summary["qr"] = "camera"
    assert summary["backends"]["qr"] == "CameraScanner"
    check_filed(env, summary, 0)

    # the technician's check on the same configuration: the camera shows the card's QR, diag reads it
    shutil.copy(env["scenes"] / "card.avi", env["video"])
    diag = kiosk_cli(env, env["config"]("camera"), "diag", "--json")
    checks = {c["name"]: c for c in json.loads(diag.stdout)["checks"]}
    assert checks["qr"]["state"] == "ok", checks["qr"]
