"""kiosk.service's main process: starts cage (and through it the kiosk app) and speaks for it to systemd.

    /opt/kiosk/venv/bin/python /opt/kiosk/app/systemd/kiosk-session.py /usr/bin/cage -d -- /opt/kiosk/venv/bin/kiosk run --fullscreen

Why it exists:

- **NotifyAccess=main.** The app sends READY=1 and WATCHDOG=1 (kiosk.sdnotify), but it is cage's
  child, and with NotifyAccess=main systemd drops messages from any process but the unit's main
  one (NotifyAccess=all would let any process in the unit, a compromised decoder included, tell
  systemd it is ready or alive). This process is the main one: it gives its child a notify socket
  of its own and passes on, as itself, the few assignments a kiosk sends (READY, WATCHDOG,
  STATUS, STOPPING, ERRNO, EXTEND_TIMEOUT_USEC), never MAINPID= or file descriptors, and only
  from processes of its own user.
- **XDG_RUNTIME_DIR.** pam_systemd points it at /run/user/UID, which ProtectHome= hides; cage needs
  a runtime directory for its Wayland socket, so the child gets $RUNTIME_DIRECTORY (the unit's
  RuntimeDirectory=, 0700, user kiosk) instead.

The child's exit status is this process's exit status; SIGTERM, SIGINT and SIGHUP are passed on.
Outside systemd ($NOTIFY_SOCKET unset) it only sets the runtime directory and waits for the child.
Standard library, plus kiosk.sdnotify (the one sd_notify sender) from the kiosk's venv.
"""
from __future__ import annotations

import array
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

FORWARDED = ("READY", "WATCHDOG", "STATUS", "STOPPING", "ERRNO", "EXTEND_TIMEOUT_USEC")
_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def _send(message: bytes) -> None:
    from kiosk.sdnotify import notify

    lines = [line for line in message.decode("utf-8", "replace").splitlines()
             if "=" in line and line.split("=", 1)[0] in FORWARDED]
    if lines:
        notify(*lines)


def filter_message(data: bytes, ancdata, own_uid: int) -> bytes | None:
    """The datagram to pass on, or None: only from our own user; passed file descriptors are closed."""
    uid = None
    for level, kind, payload in ancdata:
        if level != socket.SOL_SOCKET:
            continue
        if kind == socket.SCM_CREDENTIALS and len(payload) >= _CREDS.size:
            _pid, uid, _gid = _CREDS.unpack_from(payload)
        elif kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    return data if uid == own_uid else None


def _relay(listener: socket.socket, space: int, own_uid: int) -> bool:
    try:
        data, ancdata, _flags, _addr = listener.recvmsg(4096, space)
    except BlockingIOError:
        return False
    message = filter_message(data, ancdata, own_uid)
    if message:
        _send(message)
    return True


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: kiosk-session.py COMMAND [ARG…]", file=sys.stderr)
        return 2
    env = dict(os.environ)
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    if runtime:
        env["XDG_RUNTIME_DIR"] = runtime
    env.pop("WATCHDOG_PID", None)  # it names this process; the app pings through us
    listener = None
    tmpdir = None
    if os.environ.get("NOTIFY_SOCKET"):
        where = Path(runtime) if runtime else Path(tmpdir := tempfile.mkdtemp(prefix="kiosk-session-"))
        path = where / "notify"
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        env["NOTIFY_SOCKET"] = str(path)
    child = subprocess.Popen(argv, env=env)

    def pass_on(signum, _frame):
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, pass_on)
    own_uid = os.getuid()
    space = socket.CMSG_SPACE(_CREDS.size) + socket.CMSG_SPACE(64 * 4)
    try:
        while child.poll() is None:
            if listener is None:
                try:
                    child.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
                continue
            if select.select([listener], [], [], 1.0)[0]:
                _relay(listener, space, own_uid)
        if listener is not None:  # what the child said just before it exited (STOPPING=1, STATUS=)
            listener.setblocking(False)
            while _relay(listener, space, own_uid):
                pass
    finally:
        if listener is not None:
            listener.close()
            try:
                Path(env["NOTIFY_SOCKET"]).unlink()
            except OSError:
                pass
        if tmpdir:
            os.rmdir(tmpdir)
    code = child.returncode
    return 128 - code if code < 0 else code  # killed by signal N: exit 128+N, as a shell would


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
