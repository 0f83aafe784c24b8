"""Read-aloud: real espeak-ng renderings, the WAV cache, pre-rendered audio, one-off files."""
from __future__ import annotations

import os
import wave

import pytest

from kiosk.ui import speech

TEXT = "Đặt thẻ căn cước lên đầu đọc và giữ yên trong khi đọc."


def _is_wav(path) -> float:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getnframes() / w.getframerate()


def test_render_speaks_vietnamese_into_a_wav(tmp_path):
    out = speech.render(TEXT, tmp_path / "a.wav")
    secs = _is_wav(out)
    assert 1.5 < secs < 15
    assert speech.wav_duration(out) == pytest.approx(secs)
    # a longer text takes longer to say: the audio follows the words, not a fixed length
    longer = speech.render(TEXT + " " + TEXT, tmp_path / "b.wav")
    assert speech.wav_duration(longer) > secs * 1.6


def test_cache_hit_reuses_the_file_and_key_covers_voice_and_words(tmp_path, monkeypatch):
    calls = []
    real = speech.render
    monkeypatch.setattr(speech, "render", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    first = speech.speak(TEXT, "vi", cache_dir=tmp_path)
    again = speech.speak("  " + TEXT.replace(" ", "   ") + " ", "vi", cache_dir=tmp_path)  # same words
    assert first == again and len(calls) == 1
    assert first.parent == tmp_path and first.name == speech.cache_key(TEXT, "vi") + ".wav"
    english = speech.speak("Place your card on the reader.", "en", cache_dir=tmp_path)
    assert english != first and len(calls) == 2
    assert speech.cache_key(TEXT, "vi") != speech.cache_key(TEXT, "en")
    assert speech.cache_key(TEXT, "vi", 145) != speech.cache_key(TEXT, "vi", 180)


def test_play_callback_gets_the_path(tmp_path):
    played = []
    path = speech.speak(TEXT, cache_dir=tmp_path, play=played.append)
    assert played == [path] and path.exists()


def test_prerendered_audio_wins_when_present(tmp_path):
    recorded = tmp_path / "help" / "xac-thuc.wav"
    recorded.parent.mkdir()
    speech.render("Bản ghi sẵn.", recorded)
    assert speech.speak(TEXT, cache_dir=tmp_path / "c", prerendered=recorded) == recorded
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").glob("*.wav"))
    # a missing pre-rendered file falls back to espeak-ng
    fallback = speech.speak(TEXT, cache_dir=tmp_path / "c", prerendered=tmp_path / "nope.wav")
    assert fallback.parent == tmp_path / "c"


def test_uncached_text_leaves_no_cache_entry(tmp_path):
    path = speech.speak("Trần Thị Ngọc Ánh, số định danh 001185012345", cache_dir=tmp_path, cache=False)
    assert path.parent == tmp_path / "once" and _is_wav(path) > 1
    assert list(tmp_path.glob("*.wav")) == []
    speech.Speaker(tmp_path).clear_once()
    assert not path.exists()


def test_cache_is_bounded(tmp_path):
    sp = speech.Speaker(tmp_path, max_files=2)
    paths = []
    for i, word in enumerate(("Một.", "Hai.", "Ba.")):
        paths.append(sp.wav_for(word))
        os.utime(paths[-1], (1000 + i, 1000 + i))  # distinct ages whatever the clock's resolution
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == sorted(p.name for p in paths[1:])


def test_bad_input_gives_typed_errors_with_vietnamese(tmp_path):
    with pytest.raises(speech.SpeechError) as e:
        speech.speak("   ", cache_dir=tmp_path)
    assert "Không có nội dung" in e.value.message_vi and "empty" in e.value.message_en
    with pytest.raises(speech.SpeechError) as e:
        speech.speak(TEXT, "xx", cache_dir=tmp_path)
    assert e.value.message_vi and "no voice" in e.value.message_en


def test_missing_espeak_is_a_typed_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    with pytest.raises(speech.SpeechError) as e:
        speech.render(TEXT, tmp_path / "x.wav")
    assert "espeak-ng" in e.value.message_en and "đọc" in e.value.message_vi
