"""The outbox key in the system keyring, through a REAL Secret Service: a private dbus-daemon
session bus and a real gnome-keyring-daemon, unlocked with a test password, in a temp HOME.

Nothing here is faked: the key is stored and read by secretstorage over D-Bus, and
cross-checked with libsecret's own `secret-tool`. Faults are real too: the daemon is stopped,
frozen (SIGSTOP), restarted locked, or the item is deleted with secret-tool.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from kiosk.outbox import Outbox, OutboxKeyError
from kiosk.outbox_key import FileKeySource, KeyringKeySource, key_source_from_config

for tool in ("dbus-daemon", "dbus-send", "dbus-monitor", "gnome-keyring-daemon", "secret-tool"):
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed (scripts/apt-packages.txt)", allow_module_level=True)
pytest.importorskip("secretstorage", reason="secretstorage not installed (pyproject.toml)")

PASSWORD = "kiosk-test-password"
SERVICE, USER = "kiosk-outbox-test", "outbox-key"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <!-- no service directories on purpose: nothing is auto-started, so a stopped keyring stays
       stopped and no unlock prompter can be activated -->
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretServiceSession:
    """A private D-Bus session bus with gnome-keyring-daemon on it, all under one temp folder."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.runtime = root / "run"
        for d in (self.home, self.runtime):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        self.address = f"unix:path={self.runtime / 'bus'}"  # where systemd's user manager puts it
        self.env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        self.env.update(HOME=str(self.home), XDG_RUNTIME_DIR=str(self.runtime),
                        XDG_DATA_HOME=str(self.home / ".local" / "share"),
                        XDG_CONFIG_HOME=str(self.home / ".config"), XDG_CACHE_HOME=str(self.home / ".cache"),
                        DBUS_SESSION_BUS_ADDRESS=self.address)
        self.bus: subprocess.Popen | None = None
        self.keyring: subprocess.Popen | None = None

    def start_bus(self):
        conf = self.root / "bus.conf"
        conf.write_text(_BUS_CONFIG.format(sock=self.runtime / "bus"), encoding="utf-8")
        self.bus = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--nosyslog",
                                     "--print-address=1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    env=self.env)
        self.bus.stdout.readline()  # printed once it listens

    def start_keyring(self, *, unlock: bool = True):
        args = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlock:
            args.append("--unlock")  # reads the login keyring's password from stdin (creates it the first time)
        with open(self.root / "gnome-keyring.log", "ab") as log:  # the child keeps its own copy
            self.keyring = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log,
                                            env=self.env)
        if unlock:
            self.keyring.stdin.write(PASSWORD.encode())
        self.keyring.stdin.close()
        self._wait_for_name()

    def daemon_report(self) -> str:
        """For failure messages: is the daemon alive, and the end of what it printed."""
        rc = self.keyring.poll() if self.keyring else "not running"
        log = self.root / "gnome-keyring.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return f"gnome-keyring-daemon exit status: {rc}\n{tail}"

    def _wait_for_name(self, timeout_s: float = 30.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                  "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                  "string:org.freedesktop.secrets"], env=self.env, capture_output=True, text=True)
            if "boolean true" in out.stdout:
                # the login collection is published a moment after the name
                probe = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
                                        "/org/freedesktop/secrets/aliases/default",
                                        "org.freedesktop.DBus.Properties.Get",
                                        "string:org.freedesktop.Secret.Collection", "string:Locked"],
                                       env=self.env, capture_output=True, text=True)
                if probe.returncode == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("gnome-keyring-daemon did not appear on the test bus")

    def stop_keyring(self):
        if self.keyring and self.keyring.poll() is None:
            os.kill(self.keyring.pid, signal.SIGCONT)  # in case a test froze it
            self.keyring.terminate()
            try:
                self.keyring.wait(5)
            except subprocess.TimeoutExpired:
                self.keyring.kill()
                self.keyring.wait()
        self.keyring = None

    def stop(self):
        self.stop_keyring()
        if self.bus and self.bus.poll() is None:
            self.bus.terminate()
            self.bus.wait(5)
        if self.bus and self.bus.stdout:
            self.bus.stdout.close()

    def secret_tool(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["secret-tool", *args], input=input, env=self.env, capture_output=True, text=True,
                              timeout=10)

    def stored_value(self) -> str:
        """The item as libsecret (not our code) sees it; '' when absent."""
        return self.secret_tool("lookup", "service", SERVICE, "username", USER).stdout

    def lock(self):
        out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
                              "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock",
                              "array:objpath:/org/freedesktop/secrets/aliases/default"],
                             env=self.env, capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr


@pytest.fixture
def secret_service(tmp_path, monkeypatch):
    session = SecretServiceSession(tmp_path / "ss")
    session.start_bus()
    session.start_keyring()
    for k, v in session.env.items():
        if k.startswith(("XDG_", "DBUS_", "HOME")):
            monkeypatch.setenv(k, v)
    yield session
    session.stop()


def source(tmp_path, **kw) -> KeyringKeySource:
    return KeyringKeySource(SERVICE, USER, lock_file=tmp_path / "outbox.sqlite3.keylock", **kw)


def dossier() -> dict:
    return {"schema": "kiosk-dossier/1", "uuid": str(uuid.uuid4()), "kiosk_id": "KIOSK-HN-BADINH-01",
            "applicant": {"full_name": "Trần Thị Ngọc Ánh", "id_number": "001185012345"}, "attachments": []}


def filled_outbox(tmp_path, src) -> tuple[Path, str]:
    path = tmp_path / "outbox.sqlite3"
    with Outbox(path, src) as box:
        d = dossier()
        box.enqueue(d)
    return path, d["uuid"]


# --- the core path --------------------------------------------------------------------------
def test_key_is_created_once_in_the_keyring_and_read_back_by_later_starts(tmp_path, secret_service):
    assert secret_service.stored_value() == ""
    path, uid = filled_outbox(tmp_path, source(tmp_path))
    stored = secret_service.stored_value()  # libsecret reads what we wrote: base64 of 32 random bytes
    assert len(base64.b64decode(stored, validate=True)) == 32
    # a later start (new source object, daemon restarted from its file on disk) reads the same key
    secret_service.stop_keyring()
    secret_service.start_keyring()
    assert secret_service.stored_value() == stored
    with Outbox(path, source(tmp_path)) as box:
        assert box.get(uid).dossier["applicant"]["full_name"] == "Trần Thị Ngọc Ánh"
    assert source(tmp_path).load(create=True) == base64.b64decode(stored)
    assert secret_service.stored_value() == stored  # never re-created


def test_from_config_uses_the_keyring_and_leaves_the_key_file_alone(tmp_path, secret_service):
    section = {"path": str(tmp_path / "outbox.sqlite3"), "key_file": str(tmp_path / "outbox.key"),
               "key_source": "keyring", "keyring_service": SERVICE, "keyring_user": USER, "keyring_timeout_s": 5.0}
    src = key_source_from_config(section)
    assert isinstance(src, KeyringKeySource) and src.lock_file == tmp_path / "outbox.sqlite3.keylock"
    filled_outbox(tmp_path, src)
    assert secret_service.stored_value() and not (tmp_path / "outbox.key").exists()


def test_processes_starting_together_agree_on_one_key(tmp_path, secret_service):
    """The kiosk UI and kiosk-sync start at the same time on an empty keyring: one key, not two.
    Four processes race on 12 fresh keyring items, meeting at a file barrier before each."""
    n_procs, rounds = 4, 12
    script = textwrap.dedent(f"""
        import faulthandler, hashlib, os, sys, time
        from kiosk.outbox_key import KeyringKeySource
        faulthandler.dump_traceback_later(90, exit=True)  # stuck: every thread's stack to stderr, then exit
        me, gate = sys.argv[1], {str(tmp_path)!r}
        for r in range({rounds}):
            open(os.path.join(gate, f"ready-{{r}}-{{me}}"), "w").close()
            while sum(1 for f in os.listdir(gate) if f.startswith(f"ready-{{r}}-")) < {n_procs}:
                if os.path.exists(os.path.join(gate, "failed")):
                    sys.exit(3)  # a peer failed: do not wait for it at the barrier forever
                time.sleep(0.005)
            src = KeyringKeySource({SERVICE!r} + f"-{{r}}", {USER!r}, lock_file=os.path.join(gate, "keylock"),
                                   timeout_s=60)  # a loaded CI machine is slow, not broken
            try:
                key = src.load(create=True)
            except BaseException:
                open(os.path.join(gate, "failed"), "w").close()
                raise
            print(r, hashlib.sha256(key).hexdigest(), flush=True)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[2]) for i in range(n_procs)]
    results = []
    for p in procs:
        try:
            results.append(p.communicate(timeout=180))
        except subprocess.TimeoutExpired:
            p.kill()
            results.append(p.communicate())
    outputs = [out for out, _ in results]
    if any(p.returncode != 0 for p in procs):
        pytest.fail("\n".join(f"process {i} exit {p.returncode}:\n{err[-3000:]}" for i, (p, (_, err))
                               in enumerate(zip(procs, results))) + "\n" + secret_service.daemon_report(),
                    pytrace=False)
    seen: dict[str, set[str]] = {}
    for out in outputs:
        for line in out.splitlines():
            r, digest = line.split()
            seen.setdefault(r, set()).add(digest)
    assert len(seen) == rounds
    import hashlib
    for r, digests in seen.items():
        stored = secret_service.secret_tool("lookup", "service", f"{SERVICE}-{r}", "username", USER).stdout
        assert digests == {hashlib.sha256(base64.b64decode(stored)).hexdigest()}, f"round {r}: {len(digests)} keys"


# --- never a silent new key -----------------------------------------------------------------
def test_locked_keyring_with_queued_dossiers_stops_with_a_typed_error(tmp_path, secret_service):
    path, uid = filled_outbox(tmp_path, source(tmp_path))
    stored = secret_service.stored_value()
    secret_service.lock()
    with pytest.raises(OutboxKeyError) as exc:
        Outbox(path, source(tmp_path))
    assert "locked" in str(exc.value) and SERVICE in str(exc.value)
    assert "kho khóa" in exc.value.message_vi and "không xóa dữ liệu" in exc.value.message_vi
    # after a technician unlocks it (daemon restarted with the password) the same key is there
    secret_service.stop_keyring()
    secret_service.start_keyring()
    assert secret_service.stored_value() == stored
    with Outbox(path, source(tmp_path)) as box:
        assert box.get(uid).dossier is not None


def test_keyring_started_locked_is_an_error_and_shows_no_prompt(tmp_path, secret_service):
    """gnome-keyring-daemon started without the password (what a boot without the unlock step gives)."""
    filled_outbox(tmp_path, source(tmp_path))
    secret_service.stop_keyring()
    secret_service.start_keyring(unlock=False)
    # watch the bus for any unlock request: on a kiosk nobody could answer the password prompt
    monitor = subprocess.Popen(["dbus-monitor", "--session", "type='method_call',member='Unlock'"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=secret_service.env)
    try:
        watchdog = threading.Timer(15, monitor.terminate)  # a broken monitor must not hang the suite
        watchdog.start()
        assert "NameAcquired" in monitor.stdout.readline()  # the monitor is attached
        with pytest.raises(OutboxKeyError, match="locked"):
            source(tmp_path).load(create=True)
        with pytest.raises(OutboxKeyError, match="locked"):
            Outbox(tmp_path / "outbox.sqlite3", source(tmp_path))
        # a marker call the monitor must see, so "no Unlock seen" is not just "nothing seen yet"
        subprocess.run(["dbus-send", "--session", "--type=method_call", "--dest=org.freedesktop.secrets", "/",
                        "org.example.Marker.Unlock"],
                       env=secret_service.env, capture_output=True, timeout=10)
        seen = []
        for line in monitor.stdout:
            seen.append(line)
            if "org.example.Marker" in line:
                break
    finally:
        watchdog.cancel()
        monitor.terminate()
        monitor.wait(5)
        monitor.stdout.close()
    assert any("org.example.Marker" in line for line in seen), "the bus monitor saw nothing"
    assert not [line for line in seen if "org.freedesktop.Secret.Service" in line], "the kiosk asked to unlock"


def test_key_missing_from_the_keyring_is_an_error_and_none_is_created(tmp_path, secret_service):
    path, _ = filled_outbox(tmp_path, source(tmp_path))
    old = secret_service.stored_value()
    assert secret_service.secret_tool("clear", "service", SERVICE, "username", USER).returncode == 0
    with pytest.raises(OutboxKeyError) as exc:
        Outbox(path, source(tmp_path))
    assert "no outbox key stored" in str(exc.value) and "Thiếu khóa" in exc.value.message_vi
    assert secret_service.stored_value() == ""  # nothing invented
    # restoring the backed-up value (as a technician would with secret-tool) brings everything back
    restored = secret_service.secret_tool("store", "--label=outbox key", "service", SERVICE, "username", USER,
                                          "application", "Python keyring library", input=old)
    assert restored.returncode == 0
    with Outbox(path, source(tmp_path)) as box:
        assert box.status()["pending"] == 1


def test_unreachable_keyring_is_an_error_with_no_fallback_to_the_file(tmp_path, secret_service, monkeypatch):
    path, _ = filled_outbox(tmp_path, source(tmp_path))
    secret_service.stop_keyring()  # the bus answers, the Secret Service is gone
    with pytest.raises(OutboxKeyError, match="unreachable|failed"):
        Outbox(path, source(tmp_path))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")  # no session bus at all
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "empty-runtime"))
    with pytest.raises(OutboxKeyError):
        Outbox(path, source(tmp_path))
    assert not list(tmp_path.glob("*.key"))


def test_unreachable_keyring_on_an_empty_outbox_is_an_error_too(tmp_path, secret_service):
    """Nothing queued yet, but a key that cannot be stored must not be replaced by a file one."""
    secret_service.stop_keyring()
    with pytest.raises(OutboxKeyError):
        Outbox(tmp_path / "outbox.sqlite3", source(tmp_path))
    assert not list(tmp_path.glob("*.key"))


def test_a_frozen_keyring_daemon_times_out_instead_of_hanging(tmp_path, secret_service):
    path, _ = filled_outbox(tmp_path, source(tmp_path))
    os.kill(secret_service.keyring.pid, signal.SIGSTOP)
    try:
        with pytest.raises(OutboxKeyError, match="did not answer within 1 s"):
            Outbox(path, source(tmp_path, timeout_s=1.0))
    finally:
        os.kill(secret_service.keyring.pid, signal.SIGCONT)


def test_a_read_that_times_out_is_asked_again(tmp_path, secret_service, caplog):
    """The daemon is frozen past the first attempt's timeout and resumed well before the second's."""
    path, uid = filled_outbox(tmp_path, source(tmp_path))
    os.kill(secret_service.keyring.pid, signal.SIGSTOP)
    resume = threading.Timer(4.5, os.kill, (secret_service.keyring.pid, signal.SIGCONT))
    resume.start()
    try:
        with Outbox(path, source(tmp_path, timeout_s=3.0)) as box:
            assert box.get(uid).dossier is not None
    finally:
        resume.cancel()
        os.kill(secret_service.keyring.pid, signal.SIGCONT)
    assert "KeyringTimeout, asking again" in caplog.text


def test_a_malformed_key_in_the_keyring_is_an_error(tmp_path, secret_service):
    secret_service.secret_tool("store", "--label=x", "service", SERVICE, "username", USER, input="not a key")
    with pytest.raises(OutboxKeyError, match="not a 32-byte AES key"):
        source(tmp_path).load(create=True)
    assert secret_service.stored_value() == "not a key"


# --- switching source is explicit -----------------------------------------------------------
def test_switching_from_file_to_keyring_does_not_create_a_second_key(tmp_path, secret_service):
    path, uid = filled_outbox(tmp_path, FileKeySource(tmp_path / "outbox.key"))
    with pytest.raises(OutboxKeyError, match="no outbox key stored"):
        Outbox(path, source(tmp_path))
    assert secret_service.stored_value() == ""
    # the supported way: put the same key into the keyring, then switch
    secret_service.secret_tool("store", "--label=outbox key", "service", SERVICE, "username", USER,
                               input=(tmp_path / "outbox.key").read_text())  # the documented command: the file as is
    with Outbox(path, source(tmp_path)) as box:
        assert box.get(uid).dossier is not None


def test_switching_from_keyring_to_file_does_not_create_a_key_file(tmp_path, secret_service):
    path, _ = filled_outbox(tmp_path, source(tmp_path))
    with pytest.raises(OutboxKeyError, match="outbox.key is missing"):
        Outbox(path, FileKeySource(tmp_path / "outbox.key"))
    assert not (tmp_path / "outbox.key").exists()


# --- the key never leaks --------------------------------------------------------------------
def _write_config(tmp_path) -> Path:
    var = tmp_path / "var"
    conf = tmp_path / "kiosk.toml"
    conf.write_text(textwrap.dedent(f"""
        [paths]
        data_dir = "{var}"
        [logging]
        file = "{var}/log/kiosk.log"
        [outbox]
        path = "{tmp_path}/outbox.sqlite3"
        key_file = "{tmp_path}/outbox.key"
        key_source = "keyring"
        keyring_service = "{SERVICE}"
        keyring_user = "{USER}"
        [flows]
        bundle_dir = "{var}/flows"
        [devices.printer]
        out_dir = "{var}/printer"
        spool_dir = "{var}/printer/spool"
    """), encoding="utf-8")
    return conf


def test_key_is_not_in_logs_diag_output_or_the_support_bundle(tmp_path, secret_service, caplog, capsys):
    from kiosk.tools.cli import main
    from kiosk.config import load_config

    caplog.set_level(logging.DEBUG)
    conf = _write_config(tmp_path)
    cfg = load_config(conf)
    with Outbox.from_config(cfg) as box:
        box.enqueue(dossier())
    key_b64 = secret_service.stored_value()
    key = base64.b64decode(key_b64)
    forms = [key_b64, key.hex(), key_b64[:16]]

    assert main(["--config", str(conf), "diag", "outbox", "--json"]) == 0
    diag = capsys.readouterr().out
    facts = json.loads(diag)["checks"][0]["facts"]
    assert facts["key_source"] == "keyring" and facts["key_reachable"] and facts["key_present"]
    assert SERVICE in facts["key_location"]
    bundle = tmp_path / "support.zip"
    assert main(["--config", str(conf), "diag", "bundle", "--out", str(bundle), "--no-journal", "--timeout", "20"]) in (0, 1, 2)
    capsys.readouterr()
    with zipfile.ZipFile(bundle) as zf:
        blobs = [zf.read(n) for n in zf.namelist()]
    assert blobs
    for blob in blobs:
        assert key not in blob
        text = blob.decode("utf-8", "replace")
        assert not any(f in text for f in forms)
    logged = caplog.text + diag
    assert not any(f in logged for f in forms)


def test_diag_outbox_fails_clearly_when_the_keyring_is_locked(tmp_path, secret_service, capsys):
    from kiosk.tools.cli import main

    conf = _write_config(tmp_path)
    from kiosk.config import load_config
    with Outbox.from_config(load_config(conf)) as box:
        box.enqueue(dossier())
    secret_service.lock()
    rc = main(["--config", str(conf), "diag", "outbox", "--json"])
    check = json.loads(capsys.readouterr().out)["checks"][0]
    assert rc != 0 and check["state"] == "failed"
    assert check["facts"]["key_source"] == "keyring" and check["facts"]["key_reachable"] is False
    assert "locked" in check["detail"] and "key_source" in check["action"]
    secret_service.stop_keyring()  # unlock it again: the key was not touched
    secret_service.start_keyring()
    assert len(base64.b64decode(secret_service.stored_value())) == 32


def test_kiosk_sync_and_outbox_status_report_a_locked_keyring_without_a_traceback(tmp_path, secret_service, capsys):
    from kiosk.tools.cli import main
    from kiosk.config import load_config

    conf = _write_config(tmp_path)
    with Outbox.from_config(load_config(conf)) as box:
        box.enqueue(dossier())
    secret_service.lock()
    assert main(["--config", str(conf), "sync"]) == 1
    err = capsys.readouterr().err
    assert "kiosk sync:" in err and "locked" in err and "kho khóa" in err and "Traceback" not in err
    assert main(["--config", str(conf), "outbox", "status"]) == 1
    err = capsys.readouterr().err
    assert "locked" in err and "Traceback" not in err


def test_the_bus_is_found_in_the_runtime_dir_without_the_environment_variable(tmp_path, secret_service, monkeypatch):
    """A system unit running as the kiosk user has XDG_RUNTIME_DIR (or /run/user/<uid>) but no
    DBUS_SESSION_BUS_ADDRESS: the key is still found on the user's bus there."""
    path, uid = filled_outbox(tmp_path, source(tmp_path))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    with Outbox(path, source(tmp_path)) as box:
        assert box.get(uid).dossier is not None
