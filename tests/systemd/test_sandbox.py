"""The kiosk's programs still work under their units' system-call filters (tests/systemd/sandbox.py
loads the filters a unit asks for, the way systemd 252 does, without systemd as PID 1):

- kiosk.service: kiosk-session.py → the app (offscreen SDL, Mesa's llvmpipe, the embedded central
  system) sends READY=1 and WATCHDOG=1 from the unit's main process and draws its home screen;
  with MemoryDenyWriteExecute it dies before its first watchdog ping, which is why the unit
  leaves that setting out;
- kiosk-sync.service: `kiosk sync` sends a dossier to a real central system, with the outbox key
  from $CREDENTIALS_DIRECTORY as LoadCredentialEncrypted= hands it over, under the filter plus
  MemoryDenyWriteExecute, in a mount namespace whose /proc is mounted as ProcSubset=pid and
  ProtectProc=invisible make it;
- kiosk-flows-update.service: `kiosk flows fetch` stages a signed bundle the same way.
"""
from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO

SANDBOX = REPO / "tests" / "systemd" / "sandbox.py"
SESSION = REPO / "systemd" / "kiosk-session.py"


def _libseccomp_loads() -> bool:
    import ctypes.util

    try:
        import ctypes

        ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"),
    pytest.mark.skipif(not _libseccomp_loads(), reason="libseccomp is not installed"),
]


def sandboxed(unit: str, *cmd: str, mdwe: bool = False, proc_subset: bool = False) -> list[str]:
    argv = [sys.executable, str(SANDBOX), str(REPO / "systemd" / unit), *(["--mdwe"] if mdwe else []), "--", *cmd]
    if proc_subset:
        # ProcSubset=pid + ProtectProc=invisible: /proc without meminfo, cpuinfo, sys…, and only
        # this user's processes (root here: the namespace needs it, the filter comes after)
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("a private /proc needs root and unshare(1)")
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount -t proc -o subset=pid,hidepid=invisible proc /proc && exec "$@"', "sh", *argv]
    return argv


def test_the_harness_applies_the_filters():
    """Control: what the filters forbid is refused, what they allow works."""
    probe = ("import errno, mmap, os, socket\n"
             "out = []\n"
             "for name, call in (('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, 0, 5)),\n"
             "                   ('packet', lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),\n"
             "                   ('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),\n"
             "                   ('wx', lambda: mmap.mmap(-1, 4096, prot=7))):\n"
             "    try:\n"
             "        call(); out.append(name + ':ok')\n"
             "    except OSError as exc:\n"
             "        out.append(name + ':' + errno.errorcode[exc.errno])\n"
             "print(' '.join(out))")
    sync = subprocess.run(sandboxed("kiosk-sync.service", sys.executable, "-c", probe), capture_output=True,
                          text=True, timeout=60)
    assert sync.stdout.split() == ["setpriority:EPERM", "packet:EAFNOSUPPORT", "netlink:EAFNOSUPPORT", "wx:EPERM"], \
        sync.stderr
    kiosk = subprocess.run(sandboxed("kiosk.service", sys.executable, "-c", probe), capture_output=True, text=True,
                           timeout=60)
    assert kiosk.stdout.split() == ["setpriority:EPERM", "packet:EAFNOSUPPORT", "netlink:ok", "wx:ok"], kiosk.stderr


# --- kiosk.service --------------------------------------------------------------------------------
def _start_app(tmp_path, *, mdwe: bool):
    from kiosk.tools.demo import demo_config, free_port

    cfg = demo_config(tmp_path / "kiosk", port=free_port())
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    runtime = tmp_path / "run-kiosk-session"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(NOTIFY_SOCKET=str(tmp_path / "notify"), RUNTIME_DIRECTORY=str(runtime), WATCHDOG_USEC="30000000")
    # the unit's command line, with this venv's python and the app in place of cage + kiosk
    cmd = sandboxed("kiosk.service", sys.executable, str(SESSION), sys.executable, "-m", "kiosk", "--config",
                    str(cfg.sources[-1]), "run", "--embedded-central", "--no-xvfb", "--screenshot-every", "1", mdwe=mdwe)
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, notify, Path(cfg["paths"]["data_dir"]) / "screen.png"


def _messages_until(proc, notify, want: str, timeout: float) -> list[tuple[str, int]]:
    got: list[tuple[str, int]] = []
    deadline = time.monotonic() + timeout
    notify.settimeout(1)
    while time.monotonic() < deadline and proc.poll() is None and not any(want in m for m, _ in got):
        try:
            data, anc, _f, _a = notify.recvmsg(4096, socket.CMSG_SPACE(12))
        except TimeoutError:
            continue
        got.append((data.decode(), struct.unpack_from("3i", anc[0][2])[0]))
    return got


def test_the_kiosk_app_starts_under_kiosk_service_filters(tmp_path):
    proc, notify, screen = _start_app(tmp_path, mdwe=False)
    try:
        got = _messages_until(proc, notify, "WATCHDOG=1", 120)
        assert proc.poll() is None, proc.stdout.read()
        assert [m for m, _ in got][:2] == ["READY=1", "WATCHDOG=1"]
        # from the unit's main process (the session relay), as NotifyAccess=main wants
        assert {pid for _, pid in got} == {proc.pid}
        deadline = time.monotonic() + 30
        while not screen.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert screen.exists(), "the app never drew its home screen"
        proc.terminate()  # what systemd does on stop: the relay passes SIGTERM on
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert "serving the home screen" in out and "Traceback" not in out
    finally:
        notify.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_memory_deny_write_execute_would_stop_the_kiosk_app(tmp_path):
    """Why kiosk.service has no MemoryDenyWriteExecute=: Mesa's llvmpipe JIT needs executable pages.
    If this starts passing (a Mesa without the JIT, a GPU driver), reconsider the setting."""
    proc, notify, _screen = _start_app(tmp_path, mdwe=True)
    try:
        got = _messages_until(proc, notify, "WATCHDOG=1", 90)
        proc.wait(timeout=60)
        out = proc.stdout.read()
        assert proc.returncode not in (0, None), out
        assert not any("WATCHDOG=1" in m for m, _ in got), "the app ran under MemoryDenyWriteExecute"
        assert "llvmpipe" in out  # the renderer that needs it
    finally:
        notify.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- kiosk-sync.service and kiosk-flows-update.service ---------------------------------------------
def _config(tmp_path, url: str, extra: str = "") -> Path:
    from testkit.central import KIOSK_SECRET

    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[paths]\ndata_dir = "{tmp_path}/var"\n[logging]\nfile = ""\n'
        f'[central]\nurl = "{url}"\nembedded = false\nkiosk_secret = "{KIOSK_SECRET}"\ntimeout_s = 10\n'
        f'[outbox]\npath = "{tmp_path}/var/outbox.sqlite3"\nkey_file = "{tmp_path}/var/outbox.key"\n'
        f'key_source = "credential"\n'
        f'[flows]\nbundle_dir = "{tmp_path}/var/flows"\n' + extra, encoding="utf-8")
    return cfg


@pytest.mark.skipif(shutil.which("systemd-creds") is None, reason="systemd-creds is not installed")
def test_kiosk_sync_sends_under_its_units_filters_with_the_sealed_key(tmp_path, monkeypatch):
    import json

    from kiosk.outbox import Outbox
    from kiosk.outbox_key import CREDENTIAL_NAME, CredentialKeySource
    from testkit.central import sample_dossier, start_central

    secret = tmp_path / "credential.secret"
    monkeypatch.setenv("SYSTEMD_CREDENTIAL_SECRET", str(secret))
    assert subprocess.run(["systemd-creds", "setup"], capture_output=True).returncode == 0
    sealed = tmp_path / "credstore.encrypted" / "kiosk-outbox-key"
    server = start_central(str(tmp_path / "central.sqlite3"))
    try:
        cfg = _config(tmp_path, server.url)
        with Outbox(tmp_path / "var" / "outbox.sqlite3", CredentialKeySource(sealed, run_dir=tmp_path / "none")) as box:
            box.enqueue(*sample_dossier())
        # LoadCredentialEncrypted=: PID 1 decrypts into the unit's credentials folder
        creds = tmp_path / "credentials" / "kiosk-sync.service"
        creds.mkdir(parents=True, mode=0o700)
        subprocess.run(["systemd-creds", "decrypt", f"--name={CREDENTIAL_NAME}", str(sealed), str(creds / CREDENTIAL_NAME)],
                       check=True, capture_output=True)
        env = {**os.environ, "CREDENTIALS_DIRECTORY": str(creds), "SYSTEMD_CREDENTIAL_SECRET": str(tmp_path / "none"),
               "PYTHONUNBUFFERED": "1"}
        out = subprocess.run(sandboxed("kiosk-sync.service", sys.executable, "-m", "kiosk", "--config", str(cfg), "sync",
                                       mdwe=True, proc_subset=True),
                             capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
        assert out.returncode == 0, out.stdout + out.stderr
        report = json.loads(out.stdout)
        assert report["sent"] == 1 and report["outbox"]["pending"] == 0, report
    finally:
        server.stop()


def test_kiosk_flows_fetch_works_under_its_units_filters(tmp_path, capsys):
    from central.server import run_in_thread
    from kiosk.tools.cli import main
    from testkit.central import ADMIN_TOKEN, free_port

    definitions = REPO / "flows" / "definitions"
    main(["flows", "keygen", "--out", str(tmp_path / "admin.key")])
    pub = capsys.readouterr().out.strip()
    server = run_in_thread({
        "central": {"url": "http://127.0.0.1:0", "database": str(tmp_path / "c.sqlite3"),
                    "kiosk_secret": "test-kiosk-secret-1234", "admin_token": ADMIN_TOKEN},
        "kiosk": {"id": "KIOSK-HN-BADINH-01", "province_code": "01", "commune_code": "00004"},
        "flows": {"trusted_keys": [pub]},
    }, port=free_port())
    try:
        cfg = _config(tmp_path, server.url).read_text().replace("[flows]\n", f'[flows]\ntrusted_keys = ["{pub}"]\n')
        (tmp_path / "kiosk.toml").write_text(cfg, encoding="utf-8")
        b = tmp_path / "b.zip"
        assert main(["--config", str(tmp_path / "kiosk.toml"), "flows", "bundle", str(definitions), "--out", str(b)]) == 0
        assert main(["--config", str(tmp_path / "kiosk.toml"), "flows", "sign", str(b), "--key", str(tmp_path / "admin.key")]) == 0
        assert main(["--config", str(tmp_path / "kiosk.toml"), "flows", "publish", str(b), "--token", ADMIN_TOKEN]) == 0
        capsys.readouterr()
        out = subprocess.run(sandboxed("kiosk-flows-update.service", sys.executable, "-m", "kiosk", "--config",
                                       str(tmp_path / "kiosk.toml"), "flows", "fetch", mdwe=True, proc_subset=True),
                             capture_output=True, text=True, timeout=120, cwd=REPO)
        assert out.returncode == 0 and "staged bundle" in out.stdout, out.stdout + out.stderr
    finally:
        server.stop()
