"""Prepare the environment Kivy reads at import time: no screen → Xvfb or SDL's offscreen driver.

Must run before anything imports kivy. Returns a sentence saying what was chosen, so
`kiosk run` can tell the technician whether a real screen is in use.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

_xvfb: subprocess.Popen | None = None


def prepare_kivy_env(kivy_home: str | os.PathLike | None = None, *, want_xvfb: bool = True,
                     size: tuple[int, int] = (1920, 1080), fullscreen: bool = False) -> str:
    os.environ.setdefault("KIVY_NO_ARGS", "1")          # our CLI owns argv
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")    # Kivy must not grab the root logger
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_AUDIO", "sdl2")         # ffpyplayer audio never advances headless
    os.environ.setdefault("KIVY_VIDEO", "ffpyplayer")
    if not logging.getLogger().handlers:
        # a command that set up no logging (preview, demo, media): Kivy's first-run notes
        # ("Config: Older configuration version detected…") would reach the admin's terminal
        # through logging's last-resort handler; its errors still do
        logging.getLogger("kivy").setLevel(logging.ERROR)
    home = Path(kivy_home or tempfile.mkdtemp(prefix="kivy-home-"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(home))
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        how = f"using the screen on {os.environ.get('WAYLAND_DISPLAY') or os.environ.get('DISPLAY')}"
    elif want_xvfb and shutil.which("Xvfb"):
        display = _start_xvfb(size)
        how = f"no screen found: started a virtual X server (Xvfb) on {display}"
    else:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        how = "no screen found: drawing with SDL's offscreen driver (EGL + Mesa)"
    if not os.environ.get("PULSE_SERVER") and not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kivy.config import Config as KivyConfig

    KivyConfig.set("graphics", "width", str(size[0]))
    KivyConfig.set("graphics", "height", str(size[1]))
    KivyConfig.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    KivyConfig.set("graphics", "resizable", "0")
    # Kivy asks for 2× MSAA by default. With Mesa's software GL that is ~70 MB of extra window
    # buffers in RAM (measured: 217 → 138 MB for a bare window) and it smooths nothing the kiosk
    # draws: axis-aligned boxes and text textures are identical, modal corners move by a pixel.
    KivyConfig.set("graphics", "multisamples", "0")
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")
    return how


def _start_xvfb(size: tuple[int, int]) -> str:
    global _xvfb
    for n in range(99, 130):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    display = f":{n}"
    # its own session: Ctrl-C or a SIGTERM to the kiosk's process group must not kill the X server
    # before the app has closed its window (SDL then exits with "X connection broken")
    _xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = display
    import atexit

    atexit.register(stop_xvfb)
    return display


def stop_xvfb() -> None:
    global _xvfb
    if _xvfb is not None:
        _xvfb.terminate()
        try:
            _xvfb.wait(5)
        except subprocess.TimeoutExpired:
            _xvfb.kill()
        _xvfb = None
