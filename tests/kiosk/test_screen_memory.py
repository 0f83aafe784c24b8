"""What a screen gives back when nobody sees it, and what a visit leaves behind.

The app runs in a child process of its own (Kivy has one window per process and the UI journeys'
module already holds one here): headless SDL offscreen + Mesa, simulated devices, no central
system needed for these paths.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import gc, json, sys, weakref
from pathlib import Path
from kiosk.ui.display import prepare_kivy_env
prepare_kivy_env(Path(sys.argv[1]) / "kivy", want_xvfb=False)
from kivy.config import Config as KivyConfig
from kivy.core.window import Window
from kivy.uix.modalview import ModalView
from kiosk.tools.demo import demo_config, running_app
from kiosk.tools.touch_robot import Driver
from kiosk.ui.widgets.video_help import VideoHelp

out = {"multisamples": KivyConfig.get("graphics", "multisamples")}
cfg = demo_config(Path(sys.argv[1]) / "k")
with running_app(cfg, central=False) as app:
    d = Driver(app)
    d.wait_screen("home")
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    picker = app.sm.get_screen("picker")
    body = weakref.ref(picker.root_box.children[0])
    label = weakref.ref(next(w for w in picker.walk() if w.__class__.__name__ == "Text"))
    out["picker_widgets_shown"] = sum(1 for _ in picker.walk())
    app.go("home")
    d.wait_screen("home")
    d.pump(5)
    gc.collect()
    out["picker_widgets_left"] = sum(1 for _ in picker.walk())
    out["picker_body_alive"] = body() is not None
    out["picker_label_alive"] = label() is not None
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    out["picker_rebuilt_has_search"] = d.has_text("Đăng ký khai sinh")
    d.tap("Đăng ký khai sinh")
    d.wait_screen("step-guide")
    d.tap("Xem hướng dẫn")
    panel = next(w for w in Window.children if isinstance(w, VideoHelp))
    out["clip_loaded"] = panel.video is not None and panel.video._video is not None
    app.end_session()  # the idle timeout's path: the visitor walked away with the help open
    d.wait_screen("home")
    d.pump(5)
    out["panels_open_after_wipe"] = sum(isinstance(w, ModalView) for w in Window.children)
    out["clip_unloaded"] = panel.video._video is None
print(json.dumps(out))
"""


def run_child(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                       env=env, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_left_screens_release_their_widgets_and_a_wipe_closes_open_panels(tmp_path):
    out = run_child(tmp_path)
    # no MSAA: ~70 MB of window buffers with software GL, nothing visible gained
    assert out["multisamples"] == "0"
    # a screen nobody sees keeps only its empty scaffold; its body and labels are collected
    assert out["picker_widgets_shown"] > 20
    assert out["picker_widgets_left"] <= 3, out
    assert not out["picker_body_alive"] and not out["picker_label_alive"], out
    # coming back rebuilds it in full
    assert out["picker_rebuilt_has_search"]
    # the visit ending under an open help panel closes it and unloads its clip
    assert out["clip_loaded"]
    assert out["panels_open_after_wipe"] == 0
    assert out["clip_unloaded"]
