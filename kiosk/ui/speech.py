"""Read-aloud without Kivy: text → WAV with espeak-ng, cached on disk by what was said and how.

The app plays the file (``KioskApp.read_aloud`` hands it to Kivy's SoundLoader); the help-video
generator (``kiosk.tools.media_gen``) uses :func:`render` for its narration. Rendering takes a few
hundred milliseconds, so the app calls :func:`speak` from a worker thread.

Privacy: the cache keeps what was spoken, so only public text (step titles and texts from the
flow definition) may be cached. Text that can hold a citizen's data must be spoken with
``cache=False``: it is rendered to a one-off file that the player deletes once loaded.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from common.errors import BilingualError

log = logging.getLogger(__name__)

VOICES = {"vi": "vi", "en": "en"}
# espeak-ng's default of 175 words a minute is hurried for an elderly listener
DEFAULT_RATE = 145
MAX_CACHED = 500


class SpeechError(BilingualError):
    """Speech could not be made. ``message_vi`` is safe to show to a citizen."""

    message_vi = "Không đọc to được nội dung này. Quý khách vui lòng đọc trên màn hình."


def espeak_binary() -> str:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if not exe:
        raise SpeechError(en="espeak-ng is not installed (apt-get install espeak-ng)")
    return exe


def voice_for(lang: str) -> str:
    try:
        return VOICES[lang]
    except KeyError:
        raise SpeechError(en=f"no voice for language {lang!r}; known: {', '.join(sorted(VOICES))}") from None


def render(text: str, out: str | os.PathLike, lang: str = "vi", rate: int = DEFAULT_RATE) -> Path:
    """Speak ``text`` into the WAV file ``out`` (mono, 16-bit, espeak's 22050 Hz)."""
    text = " ".join((text or "").split())
    if not text:
        raise SpeechError(en="nothing to say: the text is empty", vi="Không có nội dung để đọc.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # a part file of its own: the same words asked twice at once (a key pressed twice while the
    # first rendering runs) must not have one rendering move the other's half-written file away
    fd, name = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    # the text goes through stdin, never argv: argv is visible to every process on the machine
    cmd = [espeak_binary(), "-v", voice_for(lang), "-s", str(int(rate)), "-w", str(tmp), "--stdin"]
    try:
        proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise SpeechError(en="espeak-ng took longer than 60 s") from None
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
        tmp.unlink(missing_ok=True)
        raise SpeechError(en=f"espeak-ng failed (exit {proc.returncode}): "
                          f"{proc.stderr.decode('utf-8', 'replace').strip()[:200]}")
    os.replace(tmp, out)
    return out


def wav_duration(path: str | os.PathLike) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def cache_key(text: str, lang: str, rate: int = DEFAULT_RATE) -> str:
    """sha256 of everything that changes the sound: the voice, the speed and the words."""
    words = " ".join(text.split())
    return hashlib.sha256(f"espeak-ng|{voice_for(lang)}|{int(rate)}|{words}".encode("utf-8")).hexdigest()


class Speaker:
    """A WAV cache under one folder (the kiosk uses ``<data_dir>/speech``)."""

    def __init__(self, cache_dir: str | os.PathLike, rate: int = DEFAULT_RATE, max_files: int = MAX_CACHED):
        self.cache_dir = Path(cache_dir)
        self.rate = rate
        self.max_files = max_files

    def cached_path(self, text: str, lang: str = "vi") -> Path:
        return self.cache_dir / f"{cache_key(text, lang, self.rate)}.wav"

    def wav_for(self, text: str, lang: str = "vi", prerendered: str | os.PathLike | None = None,
                cache: bool = True) -> Path:
        """The WAV to play for ``text``: a pre-rendered (recorded) file when given and present,
        else the cached rendering, else a fresh one. With ``cache=False`` the result is a one-off
        file in ``<cache_dir>/once/`` that the caller must delete after loading it."""
        if prerendered is not None and Path(prerendered).is_file():
            return Path(prerendered)
        if not cache:
            once = self.cache_dir / "once"
            once.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(suffix=".wav", dir=once)
            os.close(fd)
            try:
                return render(text, name, lang, self.rate)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        target = self.cached_path(text, lang)
        if target.exists():
            os.utime(target)  # most recently used: kept longest by _prune
            return target
        render(text, target, lang, self.rate)
        self._prune()
        return target

    def clear_once(self) -> None:
        """Delete one-off renderings a crash may have left (call between sessions)."""
        for f in (self.cache_dir / "once").glob("*.wav"):
            f.unlink(missing_ok=True)

    def _prune(self) -> None:
        files = sorted(self.cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime)
        for old in files[:max(0, len(files) - self.max_files)]:
            old.unlink(missing_ok=True)


def speak(text: str, lang: str = "vi", *, cache_dir: str | os.PathLike | None = None,
          prerendered: str | os.PathLike | None = None, play=None, cache: bool = True,
          rate: int = DEFAULT_RATE) -> Path:
    """Render ``text`` (or pick ``prerendered``) and hand the WAV path to ``play`` if given.
    Returns the path. ``cache_dir`` defaults to a folder in the system temp dir; the kiosk passes
    ``<data_dir>/speech``. Raises :class:`SpeechError`."""
    folder = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "kiosk-speech"
    path = Speaker(folder, rate).wav_for(text, lang, prerendered, cache)
    if play is not None:
        play(path)
    return path
