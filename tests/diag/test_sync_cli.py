"""`kiosk sync` (what kiosk-sync.service runs): one pass, and --forever until SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid

import pytest

from kiosk.tools.cli import main

from .conftest import free_port

Outbox = pytest.importorskip("kiosk.outbox").Outbox


def test_one_pass_with_nothing_to_send(make_cfg, central, capsys):
    url, _, _ = central
    cfg = make_cfg({"central": {"url": url, "embedded": False}})
    assert main(["--config", str(cfg.sources[-1]), "sync"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sent"] == 0 and out["stopped_by"] is None and out["outbox"]["pending"] == 0


def test_one_pass_with_central_down_keeps_the_dossier_and_exits_1(make_cfg, capsys):
    cfg = make_cfg({"central": {"url": f"http://127.0.0.1:{free_port()}", "embedded": False, "timeout_s": 1.0}})
    box = Outbox(cfg["outbox"]["path"], cfg["outbox"]["key_file"])
    box.enqueue({"schema": "kiosk-dossier/1", "uuid": str(uuid.uuid4()), "kiosk_id": cfg["kiosk"]["id"], "attachments": []})
    box.close()
    assert main(["--config", str(cfg.sources[-1]), "sync"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["stopped_by"] == "offline" and out["outbox"]["pending"] == 1


def test_forever_stops_cleanly_on_sigterm(make_cfg, tmp_path):
    cfg = make_cfg({"central": {"url": f"http://127.0.0.1:{free_port()}", "embedded": False, "timeout_s": 1.0}})
    # the readiness message kiosk-sync.service (Type=notify) waits for, on a real datagram socket
    sock_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(60)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg.sources[-1]), "sync", "--forever"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": str(sock_path)})
    try:
        assert b"READY=1" in listener.recv(4096)
    finally:
        listener.close()
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
