"""sd_notify over a real AF_UNIX datagram socket, like systemd's."""
from __future__ import annotations

import os
import socket

from kiosk import sdnotify


def _listen(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(address)
    s.settimeout(2)
    return s


def test_ready_watchdog_status_to_a_path_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    with _listen(path) as s:
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        assert sdnotify.ready("first screen up")
        assert s.recv(4096) == b"READY=1\nSTATUS=first screen up"
        assert sdnotify.watchdog()
        assert s.recv(4096) == b"WATCHDOG=1"
        assert sdnotify.stopping()
        assert s.recv(4096) == b"STOPPING=1"


def test_abstract_socket(monkeypatch):
    name = f"kiosk-test-{os.getpid()}"
    with _listen(b"\0" + name.encode()) as s:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.status("syncing")
        assert s.recv(4096) == b"STATUS=syncing"


def test_outside_systemd_is_a_quiet_no_op(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.watchdog() is False  # nobody listening: no exception either


def test_watchdog_interval(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")  # cage's PID, not ours: still honoured (NotifyAccess=all)
    assert sdnotify.watchdog_interval() == 30.0
    monkeypatch.setenv("WATCHDOG_USEC", "junk")
    assert sdnotify.watchdog_interval() is None
