"""The chip's JPEG 2000 portrait on the review screen of the real Kivy app (headless SDL offscreen +
Mesa, simulated devices). The app runs in a child process of its own: Kivy has one window per
process and the UI journeys' module may already hold one in this one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import json, sys
from pathlib import Path
from kiosk.ui.display import prepare_kivy_env
prepare_kivy_env(Path(sys.argv[1]) / "kivy", want_xvfb=False)
import numpy as np
from PIL import Image
from kivy.uix.image import Image as KivyImage
from devices.idcard import AccessKey, lds
from devices.idcard.reader import CardReader
from devices.idcard.transport import VirtualCardTransport
from kiosk.tools.demo import demo_config, running_app
from kiosk.tools.touch_robot import Driver
from kiosk.ui.screens.identify import person_to_dict
from kiosk.ui.steps import screen_for

out = {}
card = CardReader(VirtualCardTransport("iso39794"), trust_store=sys.argv[2]).read(
    AccessKey.from_can("012345"), groups=("DG1", "DG2", "DG13"))
out["mime"] = card.photo_mime
cfg = demo_config(Path(sys.argv[1]) / "k")
with running_app(cfg, central=False) as app:
    d = Driver(app, Path(sys.argv[1]) / "shots")
    d.wait_screen("home")
    app.start_flow(app.services.registry.get("khai-sinh"))
    s = app.session
    s.card, s.applicant, s.applicant_source = card, person_to_dict(card.person), "chip"
    app.go(screen_for("review"))
    d.wait_screen(screen_for("review"))
    shot = d.screenshot("review-jp2")
    screen = app.sm.current_screen
    images = [w for w in screen.walk() if isinstance(w, KivyImage) and w.texture is not None
              and getattr(w.parent, "photo_size", None)]
    out["images"] = len(images)
    img = images[0]
    out["texture_size"] = list(img.texture.size)
    out["shown_size"] = list(img.size)
    # what is on the screen where the photo is, against the decoded portrait
    x, y = img.to_window(*img.pos)
    win = Image.open(shot).convert("RGB")
    W, H = win.size
    box = (int(x), int(H - y - img.height), int(x + img.width), int(H - y))
    drawn = np.asarray(win.crop(box).resize((60, 80)), dtype=np.float32)
    pixels, w, h = lds.face_pixels(card.photo_jpeg)
    want = np.asarray(Image.frombytes("RGB", (w, h), pixels).resize((60, 80)), dtype=np.float32)
    out["diff"] = float(np.abs(drawn - want).mean())
    out["upside_down_diff"] = float(np.abs(drawn[::-1] - want).mean())
    out["std"] = float(drawn.std())
    app.end_session()
    d.wait_screen("home")
    out["card_after_wipe"] = app.session.card is not None
print(json.dumps(out))
"""


def test_a_jpeg2000_photo_from_a_39794_dg2_is_drawn_on_the_review_screen(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(ROOT / "config" / "csca")],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["mime"] == "image/jp2"
    assert out["images"] == 1 and out["texture_size"] == [240, 320]
    assert out["shown_size"][1] == 320
    assert out["std"] > 20                               # a picture, not a blank box
    assert out["diff"] < 20, out                         # the portrait itself, the right way up
    assert out["upside_down_diff"] > out["diff"] + 5, out
    assert out["card_after_wipe"] is False
