"""KioskApp.read_aloud in the real app: rendered off the UI thread, played through SoundLoader
(SDL2 with the dummy audio driver), cached for public text, nothing left on disk for private text."""
from __future__ import annotations

import time
from pathlib import Path

from kiosk.ui import speech


def _wait(app, predicate, timeout=20.0):
    from kivy.base import EventLoop

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        EventLoop.idle()
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_read_aloud_plays_and_caches_public_text_only(tmp_path):
    from kiosk.tools.demo import demo_config, running_app

    cfg = demo_config(tmp_path / "kiosk")
    cache = Path(cfg["paths"]["data_dir"]) / "speech"
    with running_app(cfg, central=False) as app:
        text = "Chạm vào nút lớn để bắt đầu."
        app.read_aloud(text)
        assert _wait(app, lambda: getattr(app, "_speech_sound", None) is not None)
        sound = app._speech_sound
        assert sound.length > 1.0 and sound.source == str(cache / (speech.cache_key(text, "vi") + ".wav"))
        assert Path(sound.source).exists()

        app.read_aloud("Trần Thị Ngọc Ánh, 001185012345", cache=False)
        assert _wait(app, lambda: app._speech_sound is not sound)
        assert app._speech_sound.length > 1.0
        assert not Path(app._speech_sound.source).exists()  # deleted once loaded
        assert sorted(p.name for p in cache.glob("*.wav")) == [speech.cache_key(text, "vi") + ".wav"]
        app._speech_sound.stop()
