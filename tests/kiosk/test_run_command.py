"""`kiosk run --embedded-central` as a technician starts it: a real process, its own data folder."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import requests

from kiosk.tools.demo import demo_config, free_port


def test_run_serves_the_home_screen_until_stopped(tmp_path):
    port = free_port()
    cfg = demo_config(tmp_path, port=port)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    shot = tmp_path / "var" / "screen.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(cfg.sources[-1]), "run", "--embedded-central",
         "--no-xvfb", "--screenshot-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        answered = False
        while time.monotonic() < deadline and not (answered and shot.exists()):
            assert proc.poll() is None, "".join(lines)
            try:
                answered = requests.get(f"http://127.0.0.1:{port}/api/v1/flows", timeout=2).status_code == 200
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert answered, "the embedded central system never answered"
        assert shot.exists(), "the kiosk never drew its screen"
        time.sleep(3)
        assert proc.poll() is None, "the kiosk stopped by itself"
        # the simulated centre: the banner names the console and this run's officer password, which logs in
        banner = "".join(lines)
        found = re.search(r"officers' console (\S+)\s+\(canbo\.demo / (\S+);", banner)
        assert found, banner
        console, password = found.groups()
        with requests.Session() as web:
            page = web.get(console + "login", timeout=10)
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            answer = web.post(console + "login", data={"username": "canbo.demo", "password": password, "csrf": csrf},
                              headers={"Origin": f"http://127.0.0.1:{port}"}, timeout=30)
            assert answer.status_code == 200 and "Đăng xuất" in answer.text, answer.text[:500]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(10)
        out = "".join(lines)
        assert proc.returncode == 0, out
        assert "offscreen" in out and "serving the home screen" in out
        assert "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
