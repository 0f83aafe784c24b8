"""`kiosk flows preview` renders each step with the real kiosk screens (a process of its own:
Kivy has one window per process)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_preview_writes_a_screen_png_per_step(tmp_path):
    from flows import load_registry

    flow = load_registry(ROOT / "flows" / "definitions").get("chung-thuc-ban-sao")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "kiosk", "flows", "preview", "chung-thuc-ban-sao", "--out",
                        str(tmp_path)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    pngs = sorted(tmp_path.glob("*.png"))
    assert [p.stem.split("-", 1)[1] for p in pngs] == [f"chung-thuc-ban-sao-{s.id}" for s in flow.steps]
    for p in pngs:
        img = np.asarray(Image.open(p).convert("L"), dtype=np.float32)
        assert img.shape == (1080, 1920) and img.std() > 20, p.name
