"""Spoken announcements for the waiting-room display: Vietnamese text → WAV with espeak-ng, cached on
disk by the text's hash; and the announcement chime, synthesised here (no third-party audio).

Central's own module (central/ never imports kiosk/): the kiosk's read-aloud (kiosk/ui/speech.py)
works the same way — text through stdin, a part file moved into place, a bounded cache.

Only public words are spoken here (a ticket number and a counter's name), so caching them is safe.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

log = logging.getLogger(__name__)

# espeak-ng's default 175 words a minute is hurried for an elderly listener in a noisy hall
RATE = 135
TIMEOUT_S = 10.0
MAX_FILES = 2000  # a centre calls ≤ 700 numbers a day; many centres share the same few thousand texts

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Vietnamese names of the letters, as a listener in a hall expects them ("số Bê không một hai");
# espeak-ng's vi voice reads a lone "B" as "bê" too, but "D" it reads "dê", "F" not at all
LETTERS = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e rờ", "S": "ét xì", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích xì",
    "Y": "i dài", "Z": "dét",
}


def number_words(n: int) -> str:
    """A whole number 0..9999 as Vietnamese words ("mười hai", "hai mươi mốt", "một trăm linh năm")."""
    if not 0 <= n <= 9999:
        return " ".join(DIGITS[int(d)] for d in str(abs(n)))
    if n < 10:
        return DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
        if ones == 0:
            return head
        if ones == 1 and tens > 1:
            return f"{head} mốt"
        if ones == 5:
            return f"{head} lăm"
        if ones == 4 and tens > 1:
            return f"{head} tư"
        return f"{head} {DIGITS[ones]}"
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = f"{DIGITS[hundreds]} trăm"
        if rest == 0:
            return head
        return f"{head} linh {DIGITS[rest]}" if rest < 10 else f"{head} {number_words(rest)}"
    thousands, rest = divmod(n, 1000)
    head = f"{DIGITS[thousands]} nghìn"
    if rest == 0:
        return head
    if rest < 100:
        return f"{head} không trăm {number_words(rest) if rest >= 10 else 'linh ' + DIGITS[rest]}"
    return f"{head} {number_words(rest)}"


def spell_ticket(number: str) -> str:
    """A ticket number as it is called in a hall: the letter by its name, then the digits one by
    one, with pauses ("A012" → "a, không, một, hai"): a listener writes down what they hear, and
    "mười hai" heard against a printed "012" confuses."""
    parts = []
    for ch in number.upper():
        if ch.isdigit():
            parts.append(DIGITS[int(ch)])
        elif ch in LETTERS:
            parts.append(LETTERS[ch])
    return ", ".join(parts)


def speak_counter(name: str) -> str:
    """A counter's name with its numbers as words ("Quầy 3" → "quầy số ba", "Quầy 12" → "quầy số
    mười hai"): a counter is a place, read as a whole number, unlike a ticket."""
    name = " ".join(name.split())
    words = re.sub(r"\d+", lambda m: number_words(int(m.group())), name)
    if re.fullmatch(r"(?i)quầy \d+", name):
        words = "quầy số " + words.split(" ", 1)[1]
    return words


def call_text(number: str, counter_name: str) -> str:
    """What the hall hears: "Mời số a, không, một, hai, đến quầy số ba"."""
    return f"Mời số {spell_ticket(number)}, đến {speak_counter(counter_name)}."


def shown_text(number: str, counter_name: str) -> str:
    """What the screen shows for the same call: "Mời số A012 đến Quầy 3"."""
    return f"Mời số {number} đến {counter_name}"


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def cache_key(text: str, rate: int = RATE) -> str:
    """sha256 of everything that changes the sound: engine, voice, speed and words."""
    words = " ".join(text.split())
    return hashlib.sha256(f"espeak-ng|vi|{int(rate)}|{words}".encode("utf-8")).hexdigest()


class SpeechUnavailable(Exception):
    """espeak-ng is missing, failed or took too long: the display shows the number and chimes."""


def render(text: str, out: Path, rate: int = RATE, timeout: float = TIMEOUT_S) -> Path:
    """Speak ``text`` (Vietnamese voice) into the WAV file ``out``. Raises SpeechUnavailable."""
    exe = espeak_binary()
    if exe is None:
        raise SpeechUnavailable("espeak-ng is not installed (Debian package espeak-ng)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    # the words go through stdin, as the kiosk's do: argv is visible to every process
    cmd = [exe, "-v", "vi", "-s", str(int(rate)), "-w", str(tmp), "--stdin"]
    try:
        proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise SpeechUnavailable(f"espeak-ng took longer than {timeout:g} s") from None
    if proc.returncode != 0 or tmp.stat().st_size <= 44:
        tmp.unlink(missing_ok=True)
        raise SpeechUnavailable(f"espeak-ng failed (exit {proc.returncode})")
    os.replace(tmp, out)
    return out


class SpeechCache:
    """WAVs under one folder named by :func:`cache_key`; at most ``max_files``, least recently used
    go first. Thread-safe: the same text asked by two displays at once is rendered once."""

    def __init__(self, folder: str | os.PathLike, *, max_files: int = MAX_FILES, rate: int = RATE,
                 timeout: float = TIMEOUT_S):
        self.folder = Path(folder)
        self.max_files, self.rate, self.timeout = max_files, rate, timeout
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Lock] = {}
        self.renders = 0  # how many times espeak-ng ran (the tests and the bench read it)

    def path_for(self, text: str) -> Path:
        return self.folder / f"{cache_key(text, self.rate)}.wav"

    def wav(self, text: str) -> Path:
        """The WAV for ``text``, rendered now if not cached. Blocking: call it from a worker thread."""
        target = self.path_for(text)
        if target.exists():
            _touch(target)
            return target
        with self._lock:
            key_lock = self._rendering.setdefault(target.name, threading.Lock())
        with key_lock:
            try:
                if target.exists():  # the other display's request rendered it meanwhile
                    return target
                render(text, target, self.rate, self.timeout)
                self.renders += 1
            finally:
                with self._lock:
                    self._rendering.pop(target.name, None)
        self._prune()
        return target

    def _prune(self) -> None:
        files = list(self.folder.glob("*.wav"))
        if len(files) <= self.max_files:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[:len(files) - self.max_files]:
            old.unlink(missing_ok=True)


def _touch(path: Path) -> None:
    try:
        os.utime(path)  # recently used: kept longest by _prune
    except OSError:  # pruned by another thread a moment ago: the caller still reads it or re-renders
        pass


def chime_wav(rate: int = 22050) -> bytes:
    """The announcement chime: a two-tone "ding-dong" (E5 then C5, each with a soft attack, a bell's
    second partial and an exponential decay), 16-bit mono, about 1.3 s."""
    frames = bytearray()

    def tone(freq: float, seconds: float, gain: float) -> None:
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            envelope = min(1.0, t / 0.01) * math.exp(-3.2 * t)
            sample = math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(2 * math.pi * 2.76 * freq * t) * math.exp(-6 * t)
            frames.extend(struct.pack("<h", int(max(-1.0, min(1.0, gain * envelope * sample / 1.35)) * 32767)))

    tone(659.25, 0.55, 0.8)
    tone(523.25, 0.8, 0.8)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()
