"""Help clips for a draft's changed steps (issue 20, Deliver 4): which steps changed; the worker
process (`python -m kiosk flows media … --flows-dir … --step …`, the preview's machinery) makes a
real clip of the changed step of a small flow; while it is being made the submit is refused in
words; once done the author's signed bundle carries it (manifest entry with its sha256) and every
other step keeps its old clip; a server that cannot make clips says so and the submit goes on with
the old clips. SQLite only: the clips keep nothing in the database."""
from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import json
import sys
import time
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from central import clips as core_clips
from central.console import clips, preview
from central.drafts import Drafts, set_signing_key
from central.service import Central
from flows import bundles
from kiosk.tools.softhsm import SoftHSM
from testkit import console
from testkit.console import SMALL_FLOW as FLOW, SMALL_FLOW_STEPS as STEPS, console_app, part, post, text

PASSWORD = "mat-khau-cua-tinh-2026"
PIN = "1111-lan"
OLD_TEXT = "Quý khách đọc kỹ hướng dẫn trước khi bắt đầu."
NEW_TEXT = "Quý khách mang theo căn cước và giấy tờ cần chứng thực."
# the draft: version 2, and the first step says something else (its clip must follow)
DRAFT = FLOW.replace("version: 1", "version: 2").replace(OLD_TEXT, NEW_TEXT)


def old_clip(step: str, ext: str) -> bytes:
    return f"clip cũ của bước {step}.{ext}".encode()


# --- which steps changed (pure) -------------------------------------------------------------------------
def test_changed_steps_title_text_field_label_kind_and_new_steps():
    assert core_clips.changed_steps(FLOW, FLOW) == []
    assert core_clips.changed_steps(FLOW, FLOW.replace("version: 1", "version: 2")) == []
    # the guide screen lists the fee: its clip shows the old one after a fee change
    assert core_clips.changed_steps(FLOW, FLOW.replace("version: 1", "version: 2").replace("amount: 0", "amount: 5000")) == ["huong-dan"]
    assert core_clips.changed_steps(FLOW, DRAFT) == ["huong-dan"]                                   # the text
    assert core_clips.changed_steps(FLOW, FLOW.replace("Kiểm tra lại", "Xem lại thông tin")) == ["kiem-tra"]   # the title
    assert core_clips.changed_steps(FLOW, FLOW.replace("Có mấy văn bản?", "Bao nhiêu văn bản?")) == ["van-ban"]  # a field label
    assert core_clips.changed_steps(FLOW, FLOW.replace("kind: review", "kind: guide")) == ["kiem-tra"]  # the kind
    added = FLOW.replace("  - id: kiem-tra\n", "  - id: luu-y\n    kind: guide\n    title: {vi: Lưu ý, en: Note}\n"
                                               "  - id: kiem-tra\n")
    assert core_clips.changed_steps(FLOW, added) == ["luu-y"]                                    # a new step
    assert core_clips.changed_steps("", FLOW) == STEPS                                            # a new procedure
    removed = FLOW.replace("  - id: kiem-tra\n    kind: review\n    title: {vi: Kiểm tra lại, en: Check your answers}\n", "")
    assert core_clips.changed_steps(FLOW, removed) == []                                          # nothing to film


# --- the console --------------------------------------------------------------------------------------------
@pytest.fixture
def hsm(tmp_path, monkeypatch):
    h = SoftHSM(tmp_path / "hsm")
    monkeypatch.setenv(*h.env_item)
    return h


@pytest.fixture
def central(tmp_path, hsm):
    c = Central.open(str(tmp_path / "central.sqlite3"))
    pem, pub = bundles.generate_key()
    c.trusted_keys = [pub, base64.b64encode(hsm.admin("token-tinh01", PIN)).decode()]
    c.min_signatures = 1
    src = tmp_path / "src"
    (src / "flows").mkdir(parents=True)
    (src / "flows" / "xem-thu.yaml").write_text(FLOW, encoding="utf-8")
    for s in STEPS:   # the published bundle's clips, as the province has them today
        folder = src / "media" / "help" / "xem-thu"
        folder.mkdir(parents=True, exist_ok=True)
        for ext in ("mp4", "vtt"):
            (folder / f"{s}.{ext}").write_bytes(old_clip(s, ext))
    data = bundles.build_bundle([src / "flows" / "xem-thu.yaml"], src / "media", bundle_id="hanoi-base")
    assert c.publish_bundle(bundles.sign(data, load_pem_private_key(pem, None), name="Tự động"), actor="cli")[0]
    yield c
    c.close()


@pytest.fixture
def app(central):
    app = console_app(central, PASSWORD,
                      ("tinh01", "admin", "", "Nguyễn Thị Lan", "01"),
                      ("lan", "officer", "00004", "Nguyễn Thị Lan"))
    set_signing_key(central, "tinh01", "token-tinh01")
    return app


def draft_with_a_changed_step(app) -> tuple[object, str]:
    lan = console.login(app, "tinh01", PASSWORD)
    r = post(lan, "/console/procedures/xem-thu/draft", "/console/procedures")
    assert r.status_code == 303, r.text[:300]
    page_url = r.headers["location"]
    r = post(lan, page_url + "/yaml", page_url, yaml=DRAFT, reason="Hướng dẫn mới: mang theo căn cước")
    assert r.status_code == 303
    return lan, page_url


def bundle_files(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("manifest.json")), {n: zf.read(n) for n in zf.namelist()}


def test_the_changed_step_gets_a_real_new_clip_in_the_signed_bundle_and_submit_waits_for_it(app, central, tmp_path):
    lan, page_url = draft_with_a_changed_step(app)
    section = part(lan.get(page_url).text, "help-clips")
    assert 'data-state="not_started"' in section and 'data-step="huong-dan"' in section and 'data-step="xac-thuc"' not in section
    assert "cần video hướng dẫn mới" in text(section)

    # another server process is busy with the worker's folder: the job waits, and so must the submit
    w = clips.worker(central)
    w.folder.mkdir(parents=True, exist_ok=True)
    with open(w.folder / ".render.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        r = post(lan, page_url + "/clips", page_url)
        assert r.status_code == 303 and r.headers["location"].endswith("#help-clips")
        section = part(lan.get(page_url).text, "help-clips")
        assert 'data-state="running"' in section and "Đang chờ lượt" in text(section)
        r = post(lan, page_url + "/submit", page_url, pin=PIN)
        assert r.status_code == 409 and core_clips.RUNNING_VI in r.text
        assert 'data-state="draft"' in lan.get(page_url).text     # nothing signed
        fcntl.flock(held, fcntl.LOCK_UN)

    key = clips.clip_key(DRAFT.encode("utf-8"), ["huong-dan"])
    deadline = time.monotonic() + 90
    while (st := clips.clips_status(central, key))["state"] == "running":
        assert time.monotonic() < deadline, st
        time.sleep(0.5)
    assert st["state"] == "done" and st["reason"] == "done", st["log"]
    made = {c["path"]: c for c in st["clips"]}
    assert set(made) == {"media/help/xem-thu/huong-dan.mp4", "media/help/xem-thu/huong-dan.vtt"}
    mp4 = made["media/help/xem-thu/huong-dan.mp4"]
    assert mp4["size"] > 10_000
    page = lan.get(page_url).text
    section = part(page, "help-clips")
    assert 'data-state="done"' in section and "Đã làm xong video mới" in text(section)
    video = lan.get(f"/console/procedures/help-clips/{key}/huong-dan.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    assert hashlib.sha256(video.content).hexdigest() == mp4["sha256"]
    vtt = lan.get(f"/console/procedures/help-clips/{key}/huong-dan.vtt").text
    assert vtt.startswith("WEBVTT") and "căn cước" in vtt                # the narration says the new text
    for bad in (f"{key}/xac-thuc.mp4", f"{key}/..%2Fflow.yaml", f"{key}/flow.yaml", "0" * 64 + "/huong-dan.mp4"):
        assert lan.get(f"/console/procedures/help-clips/{bad}").status_code == 404, bad

    r = post(lan, page_url + "/submit", page_url, pin=PIN)
    assert r.status_code == 303, r.text[:400]
    draft = Drafts(central).get(int(page_url.rsplit("/", 1)[1]), "01")
    assert draft["state"] == "submitted"
    manifest, files = bundle_files(bytes(draft["bundle_data"]))
    media = {m["path"]: m["sha256"] for m in manifest["media"]}
    assert media["media/help/xem-thu/huong-dan.mp4"] == mp4["sha256"] == hashlib.sha256(files["media/help/xem-thu/huong-dan.mp4"]).hexdigest()
    assert files["media/help/xem-thu/huong-dan.vtt"] != old_clip("huong-dan", "vtt")
    for s in STEPS[1:]:   # the steps that did not change keep the clips the province has
        assert files[f"media/help/xem-thu/{s}.mp4"] == old_clip(s, "mp4"), s
    assert [s["role"] for s in bundles.signatures_of(bytes(draft["bundle_data"]))] == ["submitted_by"]


def test_a_server_that_cannot_make_clips_says_so_and_submits_with_the_old_clips(app, central, monkeypatch):
    monkeypatch.setattr(preview, "WORKER_PYTHON", [sys.executable, "-I", "-S"])   # no kiosk package, no Kivy
    lan, page_url = draft_with_a_changed_step(app)
    r = post(lan, page_url + "/submit", page_url, pin=PIN)   # the submit asks for the clips itself
    assert r.status_code == 303, r.text[:400]
    section = part(lan.get(page_url).text, "help-clips")
    assert 'data-state="unavailable"' in section and 'id="make-clips"' not in section
    assert "Kivy, espeak-ng và ffmpeg" in text(section) and "vẫn dùng video cũ" in text(section)
    assert "giữ video cũ" in text(section)
    draft = Drafts(central).get(int(page_url.rsplit("/", 1)[1]), "01")
    _manifest, files = bundle_files(bytes(draft["bundle_data"]))
    assert files["media/help/xem-thu/huong-dan.mp4"] == old_clip("huong-dan", "mp4")
    assert "version: 2" in files["flows/xem-thu.yaml"].decode() and NEW_TEXT in files["flows/xem-thu.yaml"].decode()
    # the same server with Kivy, espeak-ng and ffmpeg installed since: the old answer is not kept
    monkeypatch.setattr(preview, "WORKER_PYTHON", [sys.executable])
    assert 'data-state="not_started"' in part(lan.get(page_url).text, "help-clips")

    # officers have no business here; another province's (or no) draft is not found
    officer = console.login(app, "lan", PASSWORD)
    assert post(officer, page_url + "/clips", "/console/inbox").status_code == 403
    assert post(lan, "/console/procedures/drafts/999/clips", "/console/procedures").status_code == 404


def test_the_probe_wants_espeak_ng_and_ffmpeg_as_well_as_kivy(tmp_path, monkeypatch):
    assert clips.ClipWorker(tmp_path / "with-path").available()
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))   # Kivy is importable, but no ffmpeg or espeak-ng can be found
    assert not clips.ClipWorker(tmp_path / "without").available()


def test_rebuild_adds_and_replaces_help_clips_and_refuses_other_paths(central):
    from central.drafts import rebuild

    base = central.bundle("hanoi-base")[0]
    data = rebuild(base, "xem-thu", DRAFT, media={"media/help/xem-thu/huong-dan.mp4": b"new"})
    manifest, files = bundle_files(data)
    assert files["media/help/xem-thu/huong-dan.mp4"] == b"new" and files["media/help/xem-thu/nop.mp4"] == old_clip("nop", "mp4")
    assert {m["path"]: m["sha256"] for m in manifest["media"]}["media/help/xem-thu/huong-dan.mp4"] == hashlib.sha256(b"new").hexdigest()
    for bad in ("flows/xem-thu.yaml", "media/help/../../etc/x.mp4", "/media/help/x.mp4"):
        with pytest.raises(ValueError):
            rebuild(base, "xem-thu", DRAFT, media={bad: b"x"})
