"""The kiosk-faithful preview in the province admin console (issue 20, Deliver 2): the real worker
process (`python -m kiosk flows preview … --lang both --theme both`) renders a small flow, 4 PNGs
per step, shown side by side and served one by one; the same YAML again is answered from the
cache; a YAML that does not load is never rendered and its problems are shown; unknown previews,
hostile file names and officers are refused; a server whose interpreter cannot import the kiosk
part says so in words (not a 500); and the central system still builds its app with Kivy blocked.
SQLite only: the preview keeps nothing in the database."""
from __future__ import annotations

import hashlib
import html
import io
import re
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi.testclient import TestClient
from PIL import Image

from central.console import preview
from central.service import Central
from flows import bundles
from testkit.console import SMALL_FLOW, SMALL_FLOW_STEPS as STEPS, console_app
from testkit import console

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://testserver"
PASSWORD = "mat-khau-cua-tinh-2026"
VARIANTS = [("vi", "normal"), ("en", "normal"), ("vi", "high_contrast"), ("en", "high_contrast")]


@pytest.fixture
def central(tmp_path):
    pem, public = bundles.generate_key()
    c = Central.open(str(tmp_path / "central.sqlite3"))
    c.trusted_keys, c.min_signatures = [public], 1
    flow = tmp_path / "xem-thu.yaml"
    flow.write_text(SMALL_FLOW, encoding="utf-8")
    data = bundles.build_bundle([flow], bundle_id="hanoi-2026-12-01", created_at=datetime(2026, 12, 1, 3, tzinfo=timezone.utc))
    assert c.publish_bundle(bundles.sign(data, load_pem_private_key(pem, None), name="Nguyễn Văn Trình"), actor="cli")[0]
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("tinh01", "admin", "", "Quản trị Hà Nội", "01"),
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"))
    return app


def login(app, username: str):
    return console.login(app, username, PASSWORD)


def csrf(http: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', http.get("/console/procedures").text).group(1)


def ask(http: TestClient, **form) -> str:
    """POST a preview request; returns the sha the 303 names."""
    r = http.post("/console/procedures/previews", data={"csrf": csrf(http), **form}, headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text[:500]
    m = re.fullmatch(r"/console/procedures/previews/([0-9a-f]{64})", r.headers["location"])
    assert m, r.headers["location"]
    return m.group(1)


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))).strip()


def wait_done(central, sha: str, timeout: float = 150) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = preview.preview_status(central, sha)
        if st["state"] != "running":
            return st
        time.sleep(0.2)
    raise AssertionError(f"preview {sha[:12]} still running after {timeout} s")


def grey(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)


def test_the_worker_renders_every_step_in_both_languages_and_themes_and_serves_them(app, central):
    http = login(app, "tinh01")
    page = http.get("/console/procedures/xem-thu")
    assert page.status_code == 200 and 'id="preview-flow"' in page.text  # the button on the published procedure
    sha = ask(http, flow_id="xem-thu")
    assert sha == hashlib.sha256(SMALL_FLOW.encode()).hexdigest()
    r = http.get(f"/console/procedures/previews/{sha}")
    assert r.status_code == 200 and 'data-state="running"' in r.text and r.headers["refresh"] == "3"
    st = wait_done(central, sha)
    assert st["state"] == "done" and st["reason"] == "done", (st["walk"], st["log"])
    assert [s["id"] for s in st["steps"]] == STEPS and len(st["images"]) == 4 * len(STEPS)
    r = http.get(f"/console/procedures/previews/{sha}")
    assert r.status_code == 200 and 'data-state="done"' in r.text and "refresh" not in r.headers
    rows = re.findall(r'<tr class="preview-step" id="step-([\w-]+)".*?</tr>', r.text, re.S)
    assert rows == STEPS
    srcs = re.findall(rf'<img class="shot" src="/console/procedures/previews/{sha}/([^"]+)"\s+data-lang="(\w+)" data-theme="(\w+)"', r.text)
    assert len(srcs) == 4 * len(STEPS) and [(lang, theme) for _, lang, theme in srcs[:4]] == VARIANTS
    assert "Thủ tục xem thử" in text(r.text) and "Trial procedure" in text(r.text)

    shots = {}
    for step in STEPS:
        for lang, theme in VARIANTS:
            name = next(n for n, la, th in srcs if la == lang and th == theme and f"-{step}-{lang}-{theme}." in n)
            img = http.get(f"/console/procedures/previews/{sha}/{name}")
            assert img.status_code == 200 and img.headers["content-type"] == "image/png", name
            px = grey(img.content)
            assert px.shape == (1080, 1920) and px.std() > 20, name  # a real screen, not a blank one
            shots[step, lang, theme] = px
    for step in STEPS:
        # the English screen is not the Vietnamese one, and high contrast is the dark theme
        assert np.abs(shots[step, "en", "normal"] - shots[step, "vi", "normal"]).mean() > 2, step
        assert np.abs(shots[step, "en", "high_contrast"] - shots[step, "vi", "high_contrast"]).mean() > 2, step
        assert shots[step, "vi", "high_contrast"].mean() < shots[step, "vi", "normal"].mean() - 40, step

    # the same YAML again, pasted (the draft editor's way): the same preview, answered from the cache
    finished = st["finished_at"]
    t0 = time.monotonic()
    assert ask(http, yaml=SMALL_FLOW) == sha
    again = preview.preview_status(central, sha)
    assert again["state"] == "done" and again["finished_at"] == finished and time.monotonic() - t0 < 5

    # only the PNGs the render wrote, by exact name
    folder = preview.preview_folder(central) / sha
    assert (folder / "status.json").is_file() and (folder / "flow.yaml").is_file()
    base = f"/console/procedures/previews/{sha}/"
    for bad in ("status.json", "flow.yaml", ".render.lock", "..%2Fstatus.json", "..%2F..%2Fcentral.sqlite3",
                "%2e%2e%2fstatus.json", f"{srcs[0][0]}%2F..%2Fstatus.json", "99-xem-thu-huong-dan-vi-normal.png",
                srcs[0][0].upper(), srcs[0][0] + "%00", srcs[0][0].replace(".png", ".PNG")):
        assert http.get(base + bad).status_code == 404, bad
    for bad_sha in (sha.upper(), sha[:-1], sha + "0", "..%2F" + sha[3:]):
        assert http.get(f"/console/procedures/previews/{bad_sha}/{srcs[0][0]}").status_code == 404, bad_sha


def test_a_yaml_that_does_not_load_is_not_rendered_and_its_problems_are_shown(app, central, monkeypatch):
    def no_process(*a, **kw):
        raise AssertionError("no worker process for a flow that does not load")

    monkeypatch.setattr(preview.subprocess, "Popen", no_process)
    http = login(app, "tinh01")
    broken = SMALL_FLOW.replace("processing_days: 0\n", "processing_days: -3\n").replace("kind: review", "kind: reveiw")
    sha = ask(http, yaml=broken)
    st = preview.preview_status(central, sha)
    assert st["state"] == "failed" and st["reason"] == "invalid" and st["images"] == []
    assert any(p["line"] and "processing_days" in (p["path"] + p["message"]) for p in st["problems"]), st["problems"]
    r = http.get(f"/console/procedures/previews/{sha}")
    assert r.status_code == 200 and 'data-state="failed"' in r.text and "<img" not in r.text
    problems = text(re.search(r'<ul id="problems">.*?</ul>', r.text, re.S).group(0))
    assert "Dòng" in problems and "processing_days" in problems
    assert "Tệp quy trình chưa hợp lệ" in text(r.text)
    assert not list((preview.preview_folder(central) / sha).glob("*.png"))


def test_unknown_previews_and_bad_requests(app):
    http = login(app, "tinh01")
    assert http.get("/console/procedures/previews/" + "0" * 64).status_code == 404
    assert http.get("/console/procedures/previews/" + "0" * 64 + "/01-xem-thu-huong-dan-vi-normal.png").status_code == 404
    assert http.get("/console/procedures/previews/not-a-sha").status_code == 404
    token = csrf(http)
    r = http.post("/console/procedures/previews", data={"csrf": token, "flow_id": "khong-co"}, headers={"Origin": ORIGIN})
    assert r.status_code == 404
    r = http.post("/console/procedures/previews", data={"csrf": token}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "Cần mã quy trình hoặc nội dung tệp YAML" in text(r.text)
    r = http.post("/console/procedures/previews", data={"flow_id": "xem-thu"}, headers={"Origin": ORIGIN})
    assert r.status_code == 403  # no CSRF token


def test_an_officer_cannot_ask_for_or_see_a_preview(app, central, monkeypatch):
    monkeypatch.setattr(preview, "WORKER_PYTHON", [sys.executable, "-I", "-S"])  # no render needed here
    sha = preview.start_preview(central, SMALL_FLOW.encode())
    http = login(app, "lan")
    token = re.search(r'name="csrf" value="([^"]+)"', http.get("/console/").text).group(1)
    r = http.post("/console/procedures/previews", data={"csrf": token, "flow_id": "xem-thu"}, headers={"Origin": ORIGIN})
    assert r.status_code == 403
    assert http.get(f"/console/procedures/previews/{sha}").status_code == 403
    assert http.get(f"/console/procedures/previews/{sha}/01-xem-thu-huong-dan-vi-normal.png").status_code == 403
    anonymous = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    assert anonymous.get(f"/console/procedures/previews/{sha}").status_code in (302, 303)


def test_without_the_kiosk_part_the_page_says_so_instead_of_failing(app, central, monkeypatch):
    # an interpreter that cannot import Kivy nor the kiosk package: isolated, without site-packages
    monkeypatch.setattr(preview, "WORKER_PYTHON", [sys.executable, "-I", "-S"])
    http = login(app, "tinh01")
    sha = ask(http, flow_id="xem-thu")
    st = preview.preview_status(central, sha)
    assert st["state"] == "unavailable" and st["images"] == [] and st["problems"] == []
    r = http.get(f"/console/procedures/previews/{sha}")
    assert r.status_code == 200 and 'data-state="unavailable"' in r.text
    assert "Máy chủ này chưa cài phần xem trước của ki-ốt (Kivy)" in text(r.text)
    assert "no kiosk preview renderer (Kivy is not installed)" in text(r.text)


def test_central_builds_its_app_with_kivy_blocked(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["kivy"] = None  # any import of Kivy now raises ImportError
        from central.app import create_app
        from central.service import Central
        from central.console import preview
        app = create_app(Central.open({str(tmp_path / "c.sqlite3")!r}))
        paths = {{getattr(r, "path", "") for r in app.routes}}
        assert {{"/console/procedures/previews", "/console/procedures/previews/{{sha}}",
                 "/console/procedures/previews/{{sha}}/{{name}}"}} <= paths, sorted(paths)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("kivy", "kiosk") and sys.modules[m] is not None)
        assert loaded == [], loaded
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_a_render_that_takes_too_long_is_stopped_and_the_cache_keeps_the_newest(app, central, monkeypatch, tmp_path):
    # a stand-in interpreter: it "has" Kivy (the probe passes) and then never finishes the render
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\nif [ "$1" = "-c" ]; then exit 0; fi\nexec sleep 60\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(preview, "WORKER_PYTHON", [str(fake)])
    monkeypatch.setattr(preview, "TIMEOUT_S", 1.0)
    monkeypatch.setattr(preview, "KEEP", 3)
    t0 = time.monotonic()
    sha = preview.start_preview(central, SMALL_FLOW.encode())
    st = wait_done(central, sha, timeout=20)
    assert st["state"] == "failed" and st["reason"] == "timeout" and time.monotonic() - t0 < 10
    assert "Dựng hình quá lâu nên đã dừng" in st["message_vi"]
    # four more (flows that do not load: no render): only the newest 3 previews stay on disk
    shas = [preview.start_preview(central, f"id: x{i}\n".encode()) for i in range(4)]
    kept = {d.name for d in preview.preview_folder(central).iterdir() if re.fullmatch(r"[0-9a-f]{64}", d.name)}
    assert kept == set(shas[-3:])
    assert preview.preview_status(central, sha) is None
