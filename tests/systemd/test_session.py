"""systemd/kiosk-session.py, kiosk.service's main process: with NotifyAccess=main systemd takes
notifications only from it, so it relays the app's READY/WATCHDOG as its own, and nothing else.

A datagram socket stands in for systemd's notify socket and reads each sender's PID from
SCM_CREDENTIALS, the way systemd checks NotifyAccess=main."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO

SESSION = REPO / "systemd" / "kiosk-session.py"


class FakeSystemd:
    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

    def receive(self, timeout: float = 30) -> tuple[str, int]:
        """(message, sender pid)."""
        self.sock.settimeout(timeout)
        data, anc, _flags, _addr = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = next(struct.unpack_from("3i", payload)[0] for level, kind, payload in anc
                   if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS)
        return data.decode(), pid

    def nothing_more(self, within: float = 1.0) -> bool:
        self.sock.settimeout(within)
        try:
            self.sock.recv(4096)
        except TimeoutError:
            return True
        return False


@pytest.fixture
def systemd(tmp_path):
    fake = FakeSystemd(tmp_path / "notify")
    yield fake
    fake.sock.close()


def start(tmp_path, systemd, code: str, **env) -> subprocess.Popen:
    runtime = tmp_path / "run-kiosk-session"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.Popen([sys.executable, str(SESSION), sys.executable, "-c", code], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NOTIFY_SOCKET": str(systemd.path), "RUNTIME_DIRECTORY": str(runtime),
                                 "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1", **env})


def test_the_apps_messages_reach_systemd_from_the_main_process(tmp_path, systemd):
    proc = start(tmp_path, systemd, "from kiosk import sdnotify; import time\n"
                 "sdnotify.ready('up'); sdnotify.watchdog(); time.sleep(0.3); sdnotify.watchdog()")
    msgs = [systemd.receive() for _ in range(3)]
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    assert [m for m, _ in msgs] == ["READY=1\nSTATUS=up", "WATCHDOG=1", "WATCHDOG=1"]
    assert {pid for _, pid in msgs} == {proc.pid}  # what NotifyAccess=main accepts


def test_only_the_kiosk_assignments_are_passed_on(tmp_path, systemd):
    proc = start(tmp_path, systemd, "from kiosk.sdnotify import notify\n"
                 "notify('MAINPID=1', 'FDSTORE=1', 'BARRIER=1')\n"      # nothing of this
                 "notify('READY=1', 'MAINPID=1', 'STATUS=ok', 'garbage')\n"
                 "notify('STOPPING=1')")
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    assert systemd.receive()[0] == "READY=1\nSTATUS=ok"
    assert systemd.receive()[0] == "STOPPING=1"  # sent just before the child exited: still passed on
    assert systemd.nothing_more()


def test_the_child_gets_its_own_socket_and_runtime_dir(tmp_path, systemd):
    proc = start(tmp_path, systemd, "import os, json; print(json.dumps({k: os.environ.get(k) for k in "
                 "('NOTIFY_SOCKET', 'XDG_RUNTIME_DIR', 'WATCHDOG_PID', 'WATCHDOG_USEC')}))",
                 XDG_RUNTIME_DIR="/run/user/1000")
    out, _err = proc.communicate(timeout=30)
    seen = json.loads(out)
    runtime = str(tmp_path / "run-kiosk-session")
    # ProtectHome= hides /run/user: cage and the app use the unit's runtime directory
    assert seen["XDG_RUNTIME_DIR"] == runtime
    assert seen["NOTIFY_SOCKET"] == runtime + "/notify"
    assert seen["WATCHDOG_PID"] is None and seen["WATCHDOG_USEC"] == "30000000"
    assert not Path(runtime, "notify").exists()  # cleaned up


def test_messages_from_another_user_are_dropped(tmp_path, systemd):
    """The socket file is 0600 in a 0700 folder; should a datagram still come from another uid
    (or carry file descriptors), it is not passed on and the descriptors are closed."""
    spec = importlib.util.spec_from_file_location("kiosk_session", SESSION)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    creds = struct.pack("3i", 4242, os.getuid() + 1, 0)
    assert mod.filter_message(b"READY=1", [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)], os.getuid()) is None
    assert mod.filter_message(b"READY=1", [], os.getuid()) is None  # no credentials, no trust
    r, w = os.pipe()
    fds = struct.pack("i", r)
    mine = struct.pack("3i", 4242, os.getuid(), 0)
    assert mod.filter_message(b"READY=1", [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, mine),
                                           (socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)], os.getuid()) == b"READY=1"
    with pytest.raises(OSError):
        os.fstat(r)  # closed by the filter
    os.close(w)
    proc = start(tmp_path, systemd, "import time; time.sleep(2)")
    try:
        time.sleep(0.5)
        mode = (tmp_path / "run-kiosk-session" / "notify").stat().st_mode & 0o777
        assert mode == 0o600
    finally:
        proc.wait(timeout=30)


def test_exit_status_and_signals_are_the_childs(tmp_path, systemd):
    proc = start(tmp_path, systemd, "raise SystemExit(7)")
    assert proc.wait(timeout=30) == 7
    proc = start(tmp_path, systemd, "import signal, sys, time\n"
                 "from kiosk import sdnotify\n"
                 "signal.signal(signal.SIGTERM, lambda *_: (sdnotify.stopping(), sys.exit(0)))\n"
                 "sdnotify.ready()\n"
                 "time.sleep(60)")
    assert systemd.receive()[0] == "READY=1"
    proc.send_signal(signal.SIGTERM)  # systemd stopping the unit: the child stops cleanly, so do we
    assert proc.wait(timeout=30) == 0
    assert systemd.receive()[0] == "STOPPING=1"
    proc = start(tmp_path, systemd, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert proc.wait(timeout=30) == 128 + signal.SIGKILL  # as a shell reports it


def test_without_systemd_it_just_runs_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "RUNTIME_DIRECTORY")}
    out = subprocess.run([sys.executable, str(SESSION), sys.executable, "-c",
                          "import os; print(os.environ.get('NOTIFY_SOCKET'))"],
                         capture_output=True, text=True, timeout=30, env=env, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "None"
    assert subprocess.run([sys.executable, str(SESSION)], capture_output=True, timeout=30).returncode == 2
