"""central/tts.py: what the waiting room hears — the Vietnamese words of a call, the espeak-ng WAV
cached by the text's hash, and the synthesised ding-dong chime."""
import io
import math
import struct
import time
import wave

import pytest

from central import tts


def samples(data: bytes) -> tuple[list[int], int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        raw = w.readframes(w.getnframes())
        return list(struct.unpack(f"<{len(raw) // 2}h", raw)), w.getframerate()


def dominant_hz(xs: list[int], rate: int, candidates: list[float]) -> float:
    """Which candidate frequency holds the most energy (a Goertzel-style single-bin DFT each)."""
    def power(f):
        re_ = sum(x * math.cos(2 * math.pi * f * i / rate) for i, x in enumerate(xs))
        im = sum(x * math.sin(2 * math.pi * f * i / rate) for i, x in enumerate(xs))
        return re_ * re_ + im * im
    return max(candidates, key=power)


@pytest.mark.parametrize("n, words", [
    (0, "không"), (3, "ba"), (10, "mười"), (12, "mười hai"), (15, "mười lăm"), (21, "hai mươi mốt"),
    (24, "hai mươi tư"), (35, "ba mươi lăm"), (100, "một trăm"), (105, "một trăm linh năm"),
    (214, "hai trăm mười bốn"), (1005, "một nghìn không trăm linh năm"), (1012, "một nghìn không trăm mười hai"),
])
def test_numbers_are_read_as_vietnamese_words(n, words):
    assert tts.number_words(n) == words


def test_a_call_spells_the_ticket_and_reads_the_counter_as_a_number():
    assert tts.call_text("A012", "Quầy 3") == "Mời số a, không, một, hai, đến quầy số ba."
    assert tts.call_text("B105", "Quầy 12") == "Mời số bê, một, không, năm, đến quầy số mười hai."
    # a counter named otherwise keeps its name; its digits become words
    assert tts.call_text("C001", "Bàn tiếp nhận 2") == "Mời số xê, không, không, một, đến Bàn tiếp nhận hai."
    assert tts.shown_text("A012", "Quầy 3") == "Mời số A012 đến Quầy 3"


def test_speech_is_a_wave_with_sound_in_it_and_comes_from_the_cache_the_second_time(tmp_path):
    cache = tts.SpeechCache(tmp_path)
    text = tts.call_text("A012", "Quầy 3")
    t0 = time.perf_counter()
    first = cache.wav(text)
    rendered_s = time.perf_counter() - t0
    data = first.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    xs, rate = samples(data)
    assert len(xs) / rate > 1.5  # a whole sentence, not a click
    loud = sum(1 for x in xs if abs(x) > 1000)
    assert loud > 0.1 * len(xs), f"only {loud} of {len(xs)} samples are not near silence"
    assert first.name == f"{tts.cache_key(text)}.wav"
    t0 = time.perf_counter()
    again = cache.wav(text)
    cached_s = time.perf_counter() - t0
    assert again == first and cache.renders == 1
    assert cached_s < rendered_s / 5, (cached_s, rendered_s)
    print(f"rendered in {rendered_s * 1000:.1f} ms, from the cache in {cached_s * 1000:.2f} ms")


def test_the_cache_is_bounded_least_recently_used_first(tmp_path):
    cache = tts.SpeechCache(tmp_path, max_files=2)
    text_a = "Mời số a, không, không, một, đến quầy số một."
    a = cache.wav(text_a)
    time.sleep(0.02)
    b = cache.wav("Mời số a, không, không, hai, đến quầy số một.")
    time.sleep(0.02)
    cache.wav(text_a)  # a asked again: now b is the least recently used
    time.sleep(0.02)
    c = cache.wav("Mời số a, không, không, ba, đến quầy số một.")
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == sorted([a.name, c.name])
    assert not b.exists() and not list(tmp_path.glob("*.part"))


def test_without_espeak_ng_speech_is_refused_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert tts.espeak_binary() is None
    with pytest.raises(tts.SpeechUnavailable):
        tts.SpeechCache(tmp_path).wav("Mời số a, không, một, hai, đến quầy số ba.")
    assert not list(tmp_path.glob("*.wav"))


def test_the_chime_is_a_ding_then_a_dong():
    data = tts.chime_wav()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    xs, rate = samples(data)
    assert 1.0 < len(xs) / rate < 2.0
    assert max(abs(x) for x in xs) > 20000  # loud enough for a hall
    ding = int(0.55 * rate)
    # the first tone is the higher (E5), the second the lower (C5): "ding-dong"
    window = 2048
    assert dominant_hz(xs[1000:1000 + window], rate, [523.25, 659.25]) == 659.25
    assert dominant_hz(xs[ding + 1000:ding + 1000 + window], rate, [523.25, 659.25]) == 523.25
