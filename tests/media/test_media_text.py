"""Help-clip text, captions, audio joining and the media manifest (no video encoding here)."""
from __future__ import annotations

import json
import subprocess

import pytest

from flows import load_registry
from kiosk.tools import media_gen as mg
from kiosk.ui import speech
from kiosk.ui.widgets.video_help import parse_vtt

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "flows" / "definitions")


def test_narration_says_title_text_and_the_button(registry):
    flow = registry.get("khai-sinh")
    guide = flow.steps[0]
    said = mg.narration(guide)
    # the guide's own title (a step title never repeats the procedure's name: flows/loader.py)
    assert said.startswith("Cần chuẩn bị gì. Mang thẻ căn cước của cha hoặc mẹ.")
    assert "trong 60 ngày kể từ ngày cháu bé chào đời" in said
    assert said.endswith("bấm nút Tiếp tục.")  # the label on screen, without its arrow
    # consent and submit are one screen with one button (issue #18)
    submit = next(s for s in flow.steps if s.kind == "submit")
    assert "bấm nút Tôi đồng ý và nộp hồ sơ" in mg.narration(submit)


def test_every_step_kind_of_a_shipped_flow_is_narrated_with_its_own_button(registry):
    """The hint and the button come from the kind's entry (kiosk/ui/steps/<kind>.py)."""
    from kiosk.ui.steps import step_ui

    for flow in registry.flows:
        for step in flow.steps:
            said, entry = mg.narration(step), step_ui(step.kind)
            assert said.startswith(" ".join(step.title["vi"].split())), (flow.id, step.id)
            if "{button}" in entry.hint_vi:
                assert f"nút {mg.button_label(step.kind)}" in said, (flow.id, step.id)
            assert mg.button_key(step.kind) == entry.button


def test_chunks_are_sentences_and_never_too_long():
    text = ("Chuẩn bị: thẻ căn cước của cha hoặc mẹ, giấy chứng sinh của trẻ, văn bản ủy quyền nếu người đi "
            "đăng ký không phải là cha, mẹ, ông, bà hoặc người thân thích khác. Không mất lệ phí.")
    chunks = mg.chunk_text(text, 64)
    assert chunks[0] == "Chuẩn bị:"
    assert chunks[-1] == "Không mất lệ phí."
    assert all(len(c) <= 64 for c in chunks)
    assert " ".join(chunks) == " ".join(text.split())  # nothing lost, nothing added


def test_vtt_round_trips_through_the_players_parser():
    cues = [(0.5, 2.25, "Kiểm tra lại."), (2.55, 61.0, "Muốn sửa, bấm nút Quay lại.")]
    text = mg.vtt_text(cues)
    assert text.startswith("WEBVTT\n") and "00:01:01.000" in text
    assert parse_vtt(text) == cues


def test_joined_audio_spans_follow_each_part(tmp_path):
    parts = [speech.render(t, tmp_path / f"{i}.wav") for i, t in enumerate(("Một câu ngắn.", "Câu thứ hai dài hơn một chút."))]
    spans = mg.join_wavs(parts, tmp_path / "all.wav", lead_in=0.5, gap=0.3)
    d0, d1 = speech.wav_duration(parts[0]), speech.wav_duration(parts[1])
    assert spans[0] == pytest.approx((0.5, 0.5 + d0), abs=1e-3)
    assert spans[1] == pytest.approx((0.8 + d0, 0.8 + d0 + d1), abs=1e-3)
    assert speech.wav_duration(tmp_path / "all.wav") == pytest.approx(spans[1][1], abs=1e-3)


def test_fit_size_keeps_aspect_and_even_sides():
    assert mg.fit_size((1920, 1080)) == (960, 540)
    assert mg.fit_size((800, 600)) == (720, 540)
    assert mg.fit_size((640, 360)) == (640, 360)  # never upscaled


def test_manifest_round_trip_and_damage(tmp_path):
    path = tmp_path / "manifest.json"
    assert mg.load_manifest(path) == {"format": 1, "media": []}
    f = tmp_path / "x.vtt"
    f.write_text("WEBVTT\n", encoding="utf-8")
    e = mg.file_entry("media/help/khai-sinh/x.vtt", f, "generated", "test")
    mg.save_manifest(path, {e["path"]: e})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["media"] == [e] and e["size"] == 7
    assert e["sha256"] == __import__("hashlib").sha256(b"WEBVTT\n").hexdigest()
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(mg.MediaError) as err:
        mg.load_manifest(path)
    assert "hỏng" in err.value.message_vi
    path.write_text('{"format": 9, "media": []}', encoding="utf-8")
    with pytest.raises(mg.MediaError):
        mg.load_manifest(path)


def test_recorded_clips_are_protected_and_registered(tmp_path, registry):
    help_dir = tmp_path / "media" / "help"
    flow = registry.get("tam-tru")
    step = flow.steps[0]
    filmed = tmp_path / "filmed.mp4"  # a real (if tiny) video, as a camera would give
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=5:duration=1",
                    "-c:v", "mpeg4", str(filmed)], check=True, timeout=60)
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video", encoding="utf-8")
    captions = tmp_path / "filmed.vtt"
    captions.write_text(mg.vtt_text([(0, 2, "Xin chào.")]), encoding="utf-8")
    entries = mg.register_recorded(help_dir, flow, step.id, filmed, captions)
    assert [e["path"] for e in entries] == [step.help.video, step.help.captions]
    assert mg.media_file(help_dir, step.help.video).read_bytes() == filmed.read_bytes()
    manifest = mg.manifest_entries(mg.load_manifest(tmp_path / "media" / "manifest.json"))
    assert manifest[step.help.video]["source"] == "recorded"
    assert manifest[step.help.video]["sha256"] == mg.sha256_file(filmed)
    assert mg._protected(manifest, help_dir, step.help.video) == "recorded"
    # a file nobody listed is not ours to replace either; a generated one is
    stray = mg.media_file(help_dir, flow.steps[1].help.video)
    stray.write_bytes(b"?")
    assert mg._protected(manifest, help_dir, flow.steps[1].help.video) == "not in the manifest"
    manifest[flow.steps[1].help.video] = {"path": flow.steps[1].help.video, "source": "generated"}
    assert mg._protected(manifest, help_dir, flow.steps[1].help.video) is None
    with pytest.raises(mg.MediaError):
        mg.register_recorded(help_dir, flow, "no-such-step", filmed)
    with pytest.raises(mg.MediaError):
        mg.register_recorded(help_dir, flow, step.id, tmp_path / "missing.mp4")
    with pytest.raises(mg.MediaError) as err:
        mg.register_recorded(help_dir, flow, step.id, not_video)
    assert "không phải là video" in err.value.message_vi
    with pytest.raises(mg.MediaError):
        mg.register_recorded(help_dir, flow, step.id, filmed, not_video)  # captions that are not WebVTT
    # a refused file changed nothing
    assert mg.media_file(help_dir, step.help.video).read_bytes() == filmed.read_bytes()


def test_shipped_manifest_matches_the_files():
    """The committed clips are exactly what media/manifest.json says, and every step has one."""
    mpath = ROOT / "media" / "manifest.json"
    if not mpath.exists():
        pytest.skip("no media manifest committed yet")
    entries = mg.manifest_entries(mg.load_manifest(mpath))
    for rel, e in entries.items():
        f = mg.media_file(ROOT / "media" / "help", rel)
        assert f.stat().st_size == e["size"], rel
        assert mg.sha256_file(f) == e["sha256"], rel
    reg = load_registry(ROOT / "flows" / "definitions")
    missing = [p for flow in reg.flows for p in flow.media_paths() if p not in entries]
    assert missing == []
