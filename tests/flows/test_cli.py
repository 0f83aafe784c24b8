"""`kiosk flows …` end to end, in-process: validate (exit codes), preview, keygen → bundle → sign
→ verify → stage → activate → status → rollback on a kiosk's bundle folder, and publish to a
real central system."""
from __future__ import annotations

import json
import re
import shutil

from flows_testdata import DEFINITIONS, MINIMAL, dump

from kiosk.tools.cli import main


def test_validate_exit_codes(tmp_path, capsys):
    assert main(["flows", "validate", str(DEFINITIONS)]) == 0
    out = capsys.readouterr().out
    assert "12 passed, 0 refused" in out
    bad = dict(MINIMAL, steps=MINIMAL["steps"][:2] + [dict(MINIMAL["steps"][2], kind="payment")] + MINIMAL["steps"][3:])
    (tmp_path / "bad.yaml").write_bytes(dump(bad))
    assert main(["flows", "validate", str(tmp_path / "bad.yaml"), str(DEFINITIONS / "khai-sinh.yaml")]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml:" in out and "steps[2].kind" in out and "1 passed, 1 refused" in out
    assert main(["flows", "validate", str(tmp_path / "none")]) == 1
    capsys.readouterr()
    assert main(["flows", "validate", "--json", str(tmp_path / "bad.yaml")]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res[0]["ok"] is False and res[0]["problems"][0]["line"] > 1


def test_preview(tmp_path, capsys):
    # text only here (in-process); the screen PNGs are tested in a process of their own:
    # tests/kiosk/test_preview_command.py
    assert main(["flows", "preview", "khai-sinh", "--out", str(tmp_path), "--flows-dir", str(DEFINITIONS),
                 "--text-only"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    # one file per step (consent and submit are one step since issue #18; the face check since #21) and the walk
    assert names[0] == "01-huong-dan.txt" and "walk.txt" in names and len(names) == 12
    assert "Họ của cháu bé" in (tmp_path / "06-tre.txt").read_text(encoding="utf-8")
    assert '"schema": "kiosk-dossier/1"' in (tmp_path / "walk.txt").read_text(encoding="utf-8")
    assert main(["flows", "preview", "khong-co", "--out", str(tmp_path), "--flows-dir", str(DEFINITIONS),
                 "--text-only"]) == 1


def _config(tmp_path, pub, url="http://127.0.0.1:9", secret="test-kiosk-secret-1234"):
    # the kiosk's credentials: central answers GET /api/v1/flows to an authenticated kiosk (a pilot
    # gets its pilot bundle) and refuses wrong credentials, as everywhere
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\nid = "KIOSK-HN-BADINH-01"\n[flows]\ntrusted_keys = ["{pub}"]\nbundle_dir = "kiosk-bundles"\n'
                   f'[central]\nurl = "{url}"\nkiosk_secret = "{secret}"\n', encoding="utf-8")
    return str(cfg)


def test_admin_round_on_a_kiosk(tmp_path, capsys):
    key = tmp_path / "admin.key"
    assert main(["flows", "keygen", "--out", str(key)]) == 0
    pub = capsys.readouterr().out.strip()
    assert (key.stat().st_mode & 0o777) == 0o600
    assert main(["flows", "keygen", "--out", str(key)]) == 1  # never overwrites
    cfg = _config(tmp_path, pub)
    b1 = tmp_path / "b1.zip"
    assert main(["--config", cfg, "flows", "bundle", str(DEFINITIONS), "--out", str(b1)]) == 0
    assert main(["--config", cfg, "flows", "verify", str(b1)]) == 1  # unsigned
    assert main(["--config", cfg, "flows", "sign", str(b1), "--key", str(key)]) == 0
    assert main(["--config", cfg, "flows", "verify", str(b1)]) == 0
    assert main(["--config", cfg, "flows", "stage", str(b1)]) == 0
    assert main(["--config", cfg, "flows", "activate"]) == 0
    capsys.readouterr()
    assert main(["--config", cfg, "flows", "status"]) == 0
    st = json.loads(capsys.readouterr().out)
    first = st["current"]["bundle_id"]
    shipped = int(re.search(r"^version: (\d+)$", (DEFINITIONS / "khai-sinh.yaml").read_text(encoding="utf-8"), re.M).group(1))
    assert f"khai-sinh v{shipped}" in st["current"]["flows"] and st["previous"] is None
    # a second version of one flow
    src = tmp_path / "src"
    shutil.copytree(DEFINITIONS, src)
    f = src / "khai-sinh.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace(f"\nversion: {shipped}\n", f"\nversion: {shipped + 1}\n"), encoding="utf-8")
    b2 = tmp_path / "b2.zip"
    assert main(["--config", cfg, "flows", "bundle", str(src), "--out", str(b2)]) == 0
    assert main(["--config", cfg, "flows", "sign", str(b2), "--key", str(key)]) == 0
    assert main(["--config", cfg, "flows", "stage", str(b2)]) == 0
    assert main(["--config", cfg, "flows", "activate"]) == 0
    capsys.readouterr()
    main(["--config", cfg, "flows", "status"])
    st = json.loads(capsys.readouterr().out)
    assert f"khai-sinh v{shipped + 1}" in st["current"]["flows"] and st["previous"]["bundle_id"] == first
    assert main(["--config", cfg, "flows", "rollback"]) == 0
    capsys.readouterr()
    main(["--config", cfg, "flows", "status"])
    assert json.loads(capsys.readouterr().out)["current"]["bundle_id"] == first
    assert main(["--config", cfg, "flows", "rollback"]) == 1  # nothing further back
    # a tampered bundle is refused and changes nothing
    data = bytearray(b2.read_bytes())
    data[len(data) // 3] ^= 1  # inside a compressed flow file
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    assert main(["--config", cfg, "flows", "stage", str(tmp_path / "bad.zip")]) == 1
    capsys.readouterr()
    main(["--config", cfg, "flows", "status"])
    assert json.loads(capsys.readouterr().out)["current"]["bundle_id"] == first


def test_publish_and_fetch_through_central(tmp_path, capsys):
    from central.server import run_in_thread
    from testkit.central import ADMIN_TOKEN, free_port

    key = tmp_path / "admin.key"
    main(["flows", "keygen", "--out", str(key)])
    pub = capsys.readouterr().out.strip()
    server = run_in_thread({
        "central": {"url": "http://127.0.0.1:0", "database": str(tmp_path / "c.sqlite3"),
                    "kiosk_secret": "test-kiosk-secret-1234", "admin_token": ADMIN_TOKEN},
        "kiosk": {"id": "KIOSK-HN-BADINH-01", "province_code": "01", "commune_code": "00004"},
        "flows": {"trusted_keys": [pub]},
    }, port=free_port())
    try:
        cfg = _config(tmp_path, pub, server.url)
        b = tmp_path / "b.zip"
        main(["--config", cfg, "flows", "bundle", str(DEFINITIONS), "--out", str(b)])
        main(["--config", cfg, "flows", "sign", str(b), "--key", str(key)])
        assert main(["--config", cfg, "flows", "publish", str(b), "--token", "wrong-token-123456789"]) == 1
        assert main(["--config", cfg, "flows", "publish", str(b), "--token", ADMIN_TOKEN]) == 0
        assert main(["--config", cfg, "flows", "publish", str(b), "--token", ADMIN_TOKEN]) == 0  # "already"
        capsys.readouterr()
        assert main(["--config", cfg, "flows", "fetch"]) == 0
        assert "staged bundle" in capsys.readouterr().out
        assert main(["--config", cfg, "flows", "activate"]) == 0
        assert main(["--config", cfg, "flows", "fetch"]) == 0
        assert "nothing new" in capsys.readouterr().out
    finally:
        server.stop()
