"""One real help clip, end to end: the real app walked headless (simulated devices, the embedded
central system on loopback), the step's screenshot, espeak-ng narration, ffmpeg, the manifest;
then the clip is played with Kivy's Video through ffpyplayer. One clip only, to keep this quick."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from kiosk.tools import media_gen as mg
from kiosk.ui.widgets.video_help import parse_vtt

FLOW, STEP = "chung-thuc-ban-sao", "huong-dan"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from kiosk.tools.demo import demo_config

    tmp = tmp_path_factory.mktemp("media")
    help_dir = tmp / "media" / "help"
    said = []
    reports = mg.generate(demo_config(tmp / "kiosk"), [FLOW], help_dir, steps={STEP}, progress=said.append)
    return help_dir, reports, said


def _probe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_one_step_gives_one_clip_with_captions_and_manifest(made):
    help_dir, reports, said = made
    (rep,) = reports
    assert rep.flow_id == FLOW and rep.missing == []
    assert rep.written == [f"media/help/{FLOW}/{STEP}.mp4", f"media/help/{FLOW}/{STEP}.vtt"]
    assert sorted(p.name for p in (help_dir / FLOW).iterdir()) == [f"{STEP}.mp4", f"{STEP}.vtt"]
    assert any(f"{FLOW}/{STEP}:" in s for s in said)


def test_clip_has_h264_or_mpeg4_video_and_audio_of_the_narrations_length(made):
    help_dir, _, _ = made
    info = _probe(help_dir / FLOW / f"{STEP}.mp4")
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert set(kinds) == {"video", "audio"}
    v, a = kinds["video"], kinds["audio"]
    assert v["codec_name"] in ("h264", "mpeg4")
    assert (v["width"], v["height"]) == mg.fit_size((v["width"], v["height"]))
    assert v["width"] <= 960 and v["height"] <= 540
    duration = float(info["format"]["duration"])
    assert 5 <= duration <= 40
    assert float(a["duration"]) == pytest.approx(duration, abs=0.3)
    cues = parse_vtt((help_dir / FLOW / f"{STEP}.vtt").read_text(encoding="utf-8"))
    assert len(cues) >= 2
    assert cues[0][0] == pytest.approx(mg.LEAD_IN, abs=0.01)
    assert all(s < e for s, e, _ in cues) and all(a[1] <= b[0] for a, b in zip(cues, cues[1:]))
    # the captions end with the voice, the picture stays a little longer
    assert cues[-1][1] <= duration and duration - cues[-1][1] == pytest.approx(mg.TAIL, abs=0.3)
    said = " ".join(c[2] for c in cues)
    assert said.startswith("Cần chuẩn bị gì. Giấy tờ bị tẩy xóa") and said.endswith("bấm nút Tiếp tục.")


def test_manifest_lists_both_files_with_their_sha256(made):
    help_dir, _, _ = made
    entries = mg.manifest_entries(mg.load_manifest(help_dir.parent / "manifest.json"))
    assert sorted(entries) == [f"media/help/{FLOW}/{STEP}.mp4", f"media/help/{FLOW}/{STEP}.vtt"]
    for rel, e in entries.items():
        f = mg.media_file(help_dir, rel)
        assert e["sha256"] == mg.sha256_file(f) and e["size"] == f.stat().st_size
        assert e["source"] == "generated" and "espeak" in e["generated_by"].lower()
        assert (e["flow"], e["step"]) == (FLOW, STEP)


def test_clip_plays_in_kivy_video_headless(made):
    from kivy.base import EventLoop
    from kivy.uix.video import Video

    help_dir, _, _ = made
    video = Video(source=str(help_dir / FLOW / f"{STEP}.mp4"), state="play", options={"eos": "stop"})
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and not (video.loaded and video.duration > 0 and video.position > 1.0):
            EventLoop.idle()
            time.sleep(0.01)
        assert video.loaded
        info = _probe(help_dir / FLOW / f"{STEP}.mp4")
        v = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert video.duration == pytest.approx(float(info["format"]["duration"]), abs=0.5)
        assert video.position > 1.0  # it advances: frames are being decoded
        assert video.texture is not None and tuple(video.texture.size) == (v["width"], v["height"])
    finally:
        video.state = "stop"
        video.unload()
