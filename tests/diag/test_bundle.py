"""The support bundle holds what support needs and no personal data."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from kiosk.diagnostics import run_all
from kiosk.diagnostics.bundle import build_bundle

from .conftest import PERSONAL


def _seed(cfg, lines):
    log = Path(cfg["logging"]["file"])
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    Path(str(log) + ".1").write_text(lines[0] + "\n", encoding="utf-8")  # a rotated file
    apdu = Path(cfg["paths"]["data_dir"]) / "apdu" / "apdu-2026-11-23.log"
    apdu.parent.mkdir(parents=True, exist_ok=True)
    apdu.write_text("> 00 B0 00 00 DF\n< 6D 82 ... Trần Thị Ngọc Ánh 001185012345 12/05/1985 9000\n", encoding="utf-8")


def _all_text(zf: zipfile.ZipFile) -> dict[str, str]:
    return {n: zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist()}


def test_bundle_contents_and_no_personal_data(make_cfg, tmp_path, seeded_logs):
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False,
                                "kiosk_secret": "super-secret-kiosk-pass", "admin_token": "admin-token-0123456789"}})
    _seed(cfg, seeded_logs)
    results = run_all(cfg)
    out = build_bundle(cfg, tmp_path / "b.zip", results=results, journal=False)
    with zipfile.ZipFile(out) as zf:
        texts = _all_text(zf)
    names = set(texts)
    for required in ("config.json", "diag.json", "versions.json", "printer/status.json", "README.txt",
                     "manifest.json", "logs/kiosk.log", "logs/kiosk.log.1", "apdu/apdu/apdu-2026-11-23.log",
                     "apdu/diag-test-read.log"):
        assert required in names, sorted(names)
    assert not any(n.startswith("camera/") for n in names)  # not in maintenance mode
    for name, text in texts.items():
        for value in PERSONAL:
            assert value not in text, f"{value!r} leaked into {name}"
        assert "super-secret-kiosk-pass" not in text and "admin-token-0123456789" not in text, name
    # redaction kept the lines (support still sees what happened), only the values went
    assert texts["logs/kiosk.log"].count("\n") >= 4 and "<name>" in texts["logs/kiosk.log"]
    diag = json.loads(texts["diag.json"])
    assert [c["name"] for c in diag["checks"]] == [r.name for r in results]
    assert json.loads(texts["manifest.json"])["members"] == sorted(names - {"manifest.json"})
    assert json.loads(texts["config.json"])["central"]["kiosk_secret"] == "<redacted>"
    assert "kivy" in json.loads(texts["versions.json"])


def test_values_remembered_for_the_visit_are_redacted_too(make_cfg, tmp_path):
    from common import redact

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    # a name no pattern knows (not a common family name) is caught only through the visit's registry
    redact.remember("Xa Lộc Bính")
    _seed(cfg, ["INFO citizen Xa Lộc Bính pressed next"])
    out = build_bundle(cfg, tmp_path / "b.zip", results=[], journal=False)
    with zipfile.ZipFile(out) as zf:
        assert "Lộc Bính" not in zf.read("logs/kiosk.log").decode()


def test_maintenance_mode_adds_a_snapshot(make_cfg, tmp_path):
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    out = build_bundle(cfg, tmp_path / "m.zip", results=[], maintenance=True, journal=False)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("camera/snapshot.jpg")[:2] == b"\xff\xd8"  # the simulated camera's frame
        assert json.loads(zf.read("manifest.json"))["maintenance"] is True


def test_maintenance_mode_with_the_camera_gone_says_why(make_cfg, tmp_path):
    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False},
                    "devices.camera": {"backend": "file", "source": str(tmp_path / "missing.png")}})
    out = build_bundle(cfg, tmp_path / "m.zip", results=[], maintenance=True, journal=False)
    with zipfile.ZipFile(out) as zf:
        assert "camera/snapshot.jpg" not in zf.namelist()
        assert "no snapshot" in zf.read("camera/snapshot-error.txt").decode()


def test_cli_bundle_writes_the_zip_where_asked(make_cfg, tmp_path):
    from kiosk.tools.cli import main

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    out = tmp_path / "cli.zip"
    rc = main(["--config", str(cfg.sources[-1]), "diag", "bundle", "--out", str(out), "--no-journal", "--timeout", "20"])
    assert rc == 0 and zipfile.is_zipfile(out)


def test_the_card_reader_apdu_logs_reach_the_bundle_without_personal_data(make_cfg, tmp_path):
    """The kiosk's reads leave their redacted APDU logs in <data_dir>/apdu (kiosk.config wires the
    folder); the bundle carries them, and no name, ID number or date of birth of the card."""
    from devices.idcard import AccessKey, open_reader

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False}})
    folder = Path(cfg["paths"]["data_dir"]) / "apdu"
    assert Path(cfg["devices.idcard"]["apdu_log_dir"]) == folder
    reader = open_reader(cfg["devices.idcard"])
    reader.read(AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
    results = run_all(cfg)                                 # its card reader check makes a test read too
    logs = sorted(folder.iterdir())
    assert len(logs) == 2 and all(p.name.startswith("read-") for p in logs)
    out = build_bundle(cfg, tmp_path / "b.zip", results=results, journal=False)
    with zipfile.ZipFile(out) as zf:
        texts = _all_text(zf)
    members = [f"apdu/apdu/{p.name}" for p in logs]
    for name in members:
        assert "READ BINARY" in texts[name] and "# outcome: ok" in texts[name]
    for name in [*members, "apdu/diag-test-read.log"]:
        for value in PERSONAL + ["850512", "185012345", "TRAN<<THI<NGOC<ANH"]:
            assert value not in texts[name], f"{value!r} in {name}"


def test_an_apdu_log_folder_outside_the_data_folder_is_picked_up(make_cfg, tmp_path):
    from devices.idcard import AccessKey, open_reader

    cfg = make_cfg({"central": {"url": "http://127.0.0.1:9", "embedded": False},
                    "devices.idcard": {"apdu_log_dir": str(tmp_path / "elsewhere")}})
    open_reader(cfg["devices.idcard"]).read(AccessKey.from_can("012345"))
    (log,) = (tmp_path / "elsewhere").iterdir()
    out = build_bundle(cfg, tmp_path / "b.zip", results=[], journal=False)
    with zipfile.ZipFile(out) as zf:
        assert "READ BINARY" in zf.read(f"apdu/log/{log.name}").decode()
