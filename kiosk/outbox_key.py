"""Where the outbox's AES-GCM key comes from: a 0600 file, the system keyring, or a systemd
credential sealed to the machine.

``[outbox].key_source`` picks one source and only that one: a keyring that does not answer never
falls back to the file (or the other way round), because a second key would make the dossiers
already queued unreadable. For the same reason a source only *creates* the key when the caller
says the outbox holds no ciphertext yet (``load(create=True)``); otherwise a missing key is an
:class:`OutboxKeyError` that tells the technician to restore it.

The keyring source is the Secret Service (gnome-keyring-daemon on the user's D-Bus session bus)
through secretstorage, on one D-Bus connection per process (see :class:`_SecretService`), with
the ``keyring`` library's item attributes. It never asks to unlock: on a kiosk nobody could answer a
password dialog (or a citizen would see it), so a locked keyring is an error for a technician,
and every call has a timeout so a hung daemon cannot freeze the kiosk's start.

The credential source (``key_source = "credential"``, what scripts/install-kiosk.sh sets up) keeps
the key encrypted with ``systemd-creds`` under the machine's TPM2 and/or its host key
(/var/lib/systemd/credential.secret), so the file on disk opens nothing on another machine; the
units hand the decrypted key to the kiosk with ``LoadCredentialEncrypted=`` (see
:class:`CredentialKeySource`). The file source stays for development and the demo.

No source ever logs, prints or returns the key except through :meth:`KeySource.load`.

``python -m kiosk.outbox_key seal --config /etc/kiosk/kiosk.toml`` (root) seals the key: a new one,
or the one in ``[outbox] key_file`` (migration); see :func:`provision_sealed_key`.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.files import fsync_dir
from kiosk.outbox_errors import OutboxKeyError

log = logging.getLogger(__name__)

KEY_BYTES = 32
SOURCES = ("file", "keyring", "credential")
DEFAULT_KEYRING_SERVICE = "kiosk-outbox"
DEFAULT_KEYRING_USER = "outbox-key"

_VI_BROKEN = "Khóa mã hóa của máy bị hỏng; vui lòng báo cán bộ kỹ thuật."
_VI_MISSING = "Thiếu khóa mã hóa của hộp hồ sơ chờ gửi; vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu."
_VI_KEYRING_DOWN = ("Không lấy được khóa mã hóa từ kho khóa của hệ thống (chưa mở khóa hoặc không phản hồi); "
                    "vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu.")


@dataclass
class KeyStatus:
    """What a source can say about its key without handing it out (for diagnostics)."""

    source: str            # "file" | "keyring" | "credential"
    where: str             # the file's path, "service/user in the Secret Service keyring", or the sealed credential
    reachable: bool        # the store answered (file readable / keyring unlocked and answering)
    present: bool          # a key is stored there
    valid: bool            # it is a 32-byte key
    error: str = ""        # English reason when not reachable or not valid

    def facts(self) -> dict[str, Any]:
        out = {"key_source": self.source, "key_location": self.where, "key_reachable": self.reachable,
               "key_present": self.present, "key_valid": self.valid}
        if self.error:
            out["key_error"] = self.error
        return out


class KeySource(Protocol):
    kind: str

    def describe(self) -> str:
        """Where the key lives, for messages (never the key)."""

    def load(self, *, create: bool) -> bytes:
        """The 32-byte key. Created and stored when absent only if ``create``; else OutboxKeyError."""

    def probe(self) -> KeyStatus:
        """Is the key reachable and present? Never creates, never returns the key."""


def parse_key(raw: bytes, where: str) -> bytes:
    """32 raw bytes or their base64 text → the key; anything else is OutboxKeyError."""
    if len(raw) == KEY_BYTES:
        return raw
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != KEY_BYTES:
        raise OutboxKeyError(detail=f"{where}: not a 32-byte AES key (base64)", vi=_VI_BROKEN)
    return key


# --- file --------------------------------------------------------------------------------------
def load_or_create_key(key_file: str | os.PathLike) -> bytes:
    """32-byte AES key from ``key_file`` (base64 text or raw bytes); created 0600 when missing."""
    path = Path(key_file)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_or_create_key(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(key) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(path.parent)
        return key
    if path.stat().st_mode & 0o077:
        log.warning("outbox key file was readable by others; permissions reset to 0600")
        os.chmod(path, 0o600)
    return parse_key(raw, str(path))


class FileKeySource:
    """The key as base64 text in a 0600 file (the default)."""

    kind = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def describe(self) -> str:
        return f"key file {self.path}"

    def load(self, *, create: bool) -> bytes:
        if not create and not self.path.exists():
            raise OutboxKeyError(
                detail=f"{self.path} is missing but the outbox holds encrypted dossiers: restore the key file "
                "(do not delete anything)", vi=_VI_MISSING)
        try:
            return load_or_create_key(self.path)
        except OSError as exc:  # e.g. the folder is not writable by the kiosk user
            raise OutboxKeyError(detail=f"{self.path}: cannot read or create the key file: {exc.strerror}", vi=_VI_BROKEN) from None

    def probe(self) -> KeyStatus:
        where = str(self.path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return KeyStatus(self.kind, where, True, False, False)
        except OSError as exc:
            return KeyStatus(self.kind, where, False, self.path.exists(), False, f"cannot read: {exc.strerror}")
        try:
            parse_key(raw, where)
        except OutboxKeyError as exc:
            return KeyStatus(self.kind, where, True, True, False, exc.detail or str(exc))
        return KeyStatus(self.kind, where, True, True, True)


# --- system keyring (Secret Service) -----------------------------------------------------------
class KeyringLocked(Exception):
    pass


class _SecretService:
    """The Secret Service through secretstorage, on ONE D-Bus connection per process.

    The ``keyring`` library's backend opens and closes a connection for every call. gnome-keyring
    (42 here, up to 50 upstream) aborts when clients connect, read and disconnect while others
    do the same ("gkd_secret_service_get_pkcs11_session: assertion 'client' failed"); the tests
    here hit it. A restarted daemon comes back locked, so the next kiosk start would fail. One
    long-lived connection (and one Secret Service session on it) per process keeps that churn
    to process starts and exits. Items use the ``keyring`` library's attributes (service,
    username, application), so ``keyring get`` and ``secret-tool lookup`` see the same item.
    """

    _lock = threading.Lock()
    _conn: Any = None
    _session: Any = None
    _address: str | None = None

    @classmethod
    def _collection(cls):
        import secretstorage

        address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if cls._conn is None or cls._address != address:
            cls.drop()
            cls._conn, cls._address = secretstorage.dbus_init(), address
        # the default alias only: secretstorage.get_default_collection() would create a
        # collection when there is none, which asks for a password through a prompt
        collection = secretstorage.Collection(cls._conn, session=cls._session)
        if collection.is_locked():
            raise KeyringLocked("the default keyring collection is locked")
        return collection

    @classmethod
    def _keep_session(cls, collection) -> None:
        if collection.session is not None:  # opened by the first secret read or write
            cls._session = collection.session

    @classmethod
    def get(cls, service: str, user: str) -> str | None:
        collection = cls._collection()
        for item in collection.search_items({"service": service, "username": user}):
            if item.is_locked():  # never Unlock(): nobody could answer the prompt
                raise KeyringLocked("the keyring item is locked")
            item.session = cls._session
            secret = item.get_secret().decode("utf-8")
            cls._session = item.session
            return secret
        return None

    @classmethod
    def set(cls, service: str, user: str, secret: str) -> None:
        collection = cls._collection()
        collection.create_item(f"Password for '{user}' on '{service}'",
                               {"service": service, "username": user, "application": "Python keyring library"},
                               secret.encode("utf-8"), replace=True)
        cls._keep_session(collection)

    @classmethod
    def drop(cls) -> None:
        """Forget the connection (after an error or a timeout: its state is unknown)."""
        conn, cls._conn, cls._session, cls._address = cls._conn, None, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already broken; a new one is made next time
                pass


class KeyringTimeout(Exception):
    pass


def session_bus_address() -> str | None:
    """``DBUS_SESSION_BUS_ADDRESS``, else the user's bus socket ``$XDG_RUNTIME_DIR/bus`` (or
    ``/run/user/<uid>/bus``) where systemd's user manager puts it, as sd-bus and GDBus look for it:
    a system unit running as the kiosk user then needs no extra environment."""
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return os.environ["DBUS_SESSION_BUS_ADDRESS"]
    sock = Path(os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}") / "bus"
    return f"unix:path={sock}" if sock.is_socket() else None


def _with_timeout(fn: Callable[[], Any], timeout_s: float) -> Any:
    """Run ``fn`` in a daemon thread: a D-Bus call to a hung daemon blocks with no timeout of its own."""
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="outbox-keyring", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise KeyringTimeout(f"the keyring did not answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class KeyringKeySource:
    """The key as base64 text in the system keyring: the Secret Service item with attributes
    ``service=<service>`` and ``username=<user>`` (what ``keyring get`` and ``secret-tool`` use).

    ``lock_file``: a file next to the outbox that serialises key creation between processes (the
    kiosk UI and kiosk-sync start together; without it both could store a key and one would be lost).
    """

    kind = "keyring"

    def __init__(self, service: str = DEFAULT_KEYRING_SERVICE, user: str = DEFAULT_KEYRING_USER, *,
                 timeout_s: float = 10.0, lock_file: str | os.PathLike | None = None):
        if not service or not user:
            raise OutboxKeyError(detail="the keyring service and user names must not be empty", vi=_VI_BROKEN)
        self.service = service
        self.user = user
        self.timeout_s = timeout_s
        self.lock_file = Path(lock_file) if lock_file else None
        self._thread_lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.service}/{self.user} in the Secret Service keyring"

    # every failure of the store becomes OutboxKeyError naming the store, never a traceback
    def _call(self, op: str, fn: Callable[[], Any], *, retries: int = 0) -> Any:
        address = session_bus_address()
        if address and not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = address  # jeepney reads only the variable
        try:
            for attempt in range(retries + 1):
                try:
                    with _SecretService._lock:  # one connection: one call at a time per process
                        try:
                            return _with_timeout(fn, self.timeout_s)
                        except BaseException:
                            _SecretService.drop()
                            raise
                except KeyringLocked:
                    raise  # asking again will not unlock it
                except Exception as exc:
                    if attempt == retries:
                        raise
                    # gnome-keyring busy with several clients at once was seen to answer
                    # "no such object" for the default collection; a read is idempotent, so a
                    # fresh connection a moment later is safe
                    log.warning("outbox keyring: %s, asking again", type(exc).__name__)
                    time.sleep(0.2)
        except KeyringLocked:
            reason = "the keyring is locked (unlock it at boot; the kiosk never shows an unlock prompt)"
        except KeyringTimeout as exc:
            reason = str(exc)
        except Exception as exc:  # secretstorage / jeepney / socket errors have no common base
            reason = f"the keyring is unreachable or failed ({type(exc).__name__}: {exc})"
        raise OutboxKeyError(detail=f"{self.describe()}: cannot {op} the outbox key: {reason}. "
                             "Check the session bus (DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus) and that "
                             "gnome-keyring-daemon runs unlocked "
                             "(docs/central.md, 'The outbox key'); do not delete anything.", vi=_VI_KEYRING_DOWN)

    def _get(self) -> str | None:
        return self._call("read", lambda: _SecretService.get(self.service, self.user), retries=2)

    @contextmanager
    def _creating(self):
        with self._thread_lock:
            if self.lock_file is None:
                yield
                return
            self.lock_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def load(self, *, create: bool) -> bytes:
        value = self._get()
        if value is None:
            if not create:
                raise OutboxKeyError(
                    detail=f"{self.describe()}: no outbox key stored, but the outbox holds encrypted dossiers: "
                    "restore the key into the keyring (do not delete anything, do not switch key_source)",
                    vi=_VI_MISSING)
            with self._creating():
                value = self._get()  # another process may have stored it while we waited
                if value is None:
                    fresh = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
                    try:
                        self._call("store", lambda: _SecretService.set(self.service, self.user, fresh))
                    except OutboxKeyError:
                        # never store twice: the first store may have landed and been read by
                        # another process already; whatever the keyring holds now is the key
                        if self._get() is None:
                            raise
                    value = self._get()
                    if value is None:
                        raise OutboxKeyError(detail=f"{self.describe()}: the key just stored cannot be read back",
                                             vi=_VI_KEYRING_DOWN)
                    log.info("outbox key created in the system keyring (%s)", self.describe())
        return parse_key(value.encode(), self.describe())

    def probe(self) -> KeyStatus:
        where = self.describe()
        try:
            value = self._get()
        except OutboxKeyError as exc:
            return KeyStatus(self.kind, where, False, False, False, exc.detail or str(exc))
        if value is None:
            return KeyStatus(self.kind, where, True, False, False)
        try:
            parse_key(value.encode(), where)
        except OutboxKeyError as exc:
            return KeyStatus(self.kind, where, True, True, False, exc.detail or str(exc))
        return KeyStatus(self.kind, where, True, True, True)


# --- a systemd credential sealed to this machine -----------------------------------------------
CREDENTIAL_NAME = "outbox-key"
SEALED_FILE = "/etc/credstore.encrypted/kiosk-outbox-key"
#: what the units' ``SetCredential=outbox-key:…`` fallback puts in the credential while no sealed
#: file exists (so a kiosk still on the file source starts): read as "no credential"
CREDENTIAL_UNSET = b"not-provisioned"
#: the units that load the credential; ``/run/credentials/<unit>/`` is readable by user kiosk while
#: the unit runs, which is how the technician's ``sudo -u kiosk kiosk …`` finds the key
CREDENTIAL_UNITS = ("kiosk-sync.service", "kiosk.service")
RUN_CREDENTIALS = "/run/credentials"
#: ``auto``: TPM2 and the host key where the kiosk has a TPM (and libtss2), the host key
#: (/var/lib/systemd/credential.secret) otherwise
DEFAULT_WITH_KEY = "auto"
#: No PCR binding by default. PCR 7 (systemd-creds' default) changes with Secure Boot database
#: updates from the firmware vendor; an unattended kiosk would then lose its key and the dossiers
#: waiting in the outbox. The TPM alone already keeps a disk taken out of the kiosk from opening them.
DEFAULT_TPM2_PCRS = ""

_VI_CRED_FOREIGN = ("Không giải mã được khóa của hộp hồ sơ chờ gửi trên máy này (khóa của máy hoặc chip TPM đã thay "
                    "đổi?); vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu.")
_VI_CRED_ACCESS = ("Khóa của hộp hồ sơ chờ gửi đã được niêm phong cho máy này; chỉ dịch vụ ki-ốt hoặc quản trị "
                   "(root) đọc được. Vui lòng chạy lệnh bằng sudo hoặc khi kiosk-sync đang chạy.")
_VI_CRED_MISSING = ("Chưa có khóa mã hóa được niêm phong cho hộp hồ sơ chờ gửi; vui lòng chạy lại "
                    "scripts/install-kiosk.sh, không xóa dữ liệu.")


def _systemd_creds(*args: str, data: bytes | None = None, timeout_s: float = 30.0) -> subprocess.CompletedProcess:
    exe = shutil.which("systemd-creds") or "/usr/bin/systemd-creds"
    try:
        return subprocess.run([exe, *args], input=data, capture_output=True, timeout=timeout_s, check=False)
    except FileNotFoundError:
        raise OutboxKeyError(detail="systemd-creds is not installed (it comes with systemd 250 or later)",
                             vi=_VI_BROKEN) from None
    except subprocess.TimeoutExpired:
        raise OutboxKeyError(detail=f"systemd-creds did not answer within {timeout_s:g} s (a TPM that hangs?)",
                             vi=_VI_BROKEN) from None


def _first_error_line(stderr: bytes) -> str:
    # systemd-creds warns before it fails ("… is not located on encrypted media, using anyway"):
    # the last line is the reason
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no reason given"


def _decrypt_raw(sealed_file: str | os.PathLike, name: str, timeout_s: float) -> bytes:
    out = _systemd_creds("decrypt", f"--name={name}", str(sealed_file), "-", timeout_s=timeout_s)
    if out.returncode != 0:
        reason = _first_error_line(out.stderr)
        raise OutboxKeyError(
            detail=f"sealed outbox key {sealed_file}: systemd-creds cannot decrypt it here: {reason}. It was sealed on "
            "another machine, or this machine's host key (/var/lib/systemd/credential.secret) or TPM changed: "
            "restore the key from its backup (docs/technician-guide.md, 'The outbox key'); do not delete anything",
            vi=_VI_CRED_FOREIGN)
    return out.stdout


def decrypt_sealed(sealed_file: str | os.PathLike, name: str = CREDENTIAL_NAME, *, timeout_s: float = 30.0) -> bytes:
    """The key sealed in ``sealed_file`` (``systemd-creds decrypt``: root, or whoever may read the host key)."""
    return parse_key(_decrypt_raw(sealed_file, name, timeout_s), f"sealed outbox key {sealed_file}")


def seal_key(key: bytes, sealed_file: str | os.PathLike, name: str = CREDENTIAL_NAME, *,
             with_key: str = DEFAULT_WITH_KEY, tpm2_pcrs: str = DEFAULT_TPM2_PCRS, timeout_s: float = 30.0) -> None:
    """Seal ``key`` to this machine into ``sealed_file`` (0600, folder 0700), then read it back.

    The key goes to systemd-creds on stdin, never on a command line; the file appears complete or
    not at all (written beside, checked by decrypting it, then renamed over).
    """
    path = Path(sealed_file)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    args = ["encrypt", f"--name={name}", f"--with-key={with_key}"]
    if with_key != "host":
        args.append(f"--tpm2-pcrs={tpm2_pcrs}")
    old_umask = os.umask(0o077)
    try:
        out = _systemd_creds(*args, "-", str(tmp), data=base64.b64encode(key) + b"\n", timeout_s=timeout_s)
    finally:
        os.umask(old_umask)
    try:
        if out.returncode != 0:
            raise OutboxKeyError(detail=f"{path}: systemd-creds cannot seal the outbox key: {_first_error_line(out.stderr)}",
                                 vi=_VI_BROKEN)
        os.chmod(tmp, 0o600)
        if decrypt_sealed(tmp, name, timeout_s=timeout_s) != key:
            raise OutboxKeyError(detail=f"{path}: the sealed key does not read back the same", vi=_VI_BROKEN)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_plain_key(path: Path) -> None:
    """Overwrite, then delete. On an SSD the old blocks may survive (it remaps writes): the sealed
    key protects what comes next; rotating the key on an empty outbox also protects what was."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    fsync_dir(path.parent)


def provision_sealed_key(sealed_file: str | os.PathLike = SEALED_FILE, name: str = CREDENTIAL_NAME, *,
                         key_file: str | os.PathLike | None = None, outbox: str | os.PathLike | None = None,
                         remove_key_file: bool = False, with_key: str = DEFAULT_WITH_KEY,
                         tpm2_pcrs: str = DEFAULT_TPM2_PCRS) -> str:
    """Make sure the outbox key is sealed to this machine; what the installer runs (as root).

    - A sealed file is there: kept. A plain ``key_file`` next to it must hold the same key (else
      nothing is touched: two keys is for a person to sort out).
    - Else a plain ``key_file`` is there: its key is sealed (migration: the waiting dossiers stay readable).
    - Else a new key is sealed, unless the ``outbox`` holds ciphertext (its key is lost, not replaced).

    ``remove_key_file``: once the same key is sealed, the plain file is overwritten and deleted
    (only when the kiosk reads the credential, else it would lose its key). Returns "kept",
    "migrated" or "created", plus ", plain key file removed" when it was.
    """
    from kiosk.outbox import holds_ciphertext  # kiosk.outbox imports this module

    sealed = Path(sealed_file)
    plain = Path(key_file) if key_file else None
    plain_key = parse_key(plain.read_bytes(), str(plain)) if plain is not None and plain.exists() else None
    if sealed.exists():
        key, what = decrypt_sealed(sealed, name), "kept"
        if plain_key is not None and plain_key != key:
            raise OutboxKeyError(
                detail=f"{plain} and the sealed key {sealed} are two different keys: nothing changed. Find out which "
                "one the outbox was encrypted with (kiosk diag outbox with each), keep that one, move the other "
                "away (do not delete anything)", vi=_VI_BROKEN)
    elif plain_key is not None:
        seal_key(plain_key, sealed, name, with_key=with_key, tpm2_pcrs=tpm2_pcrs)
        what = "migrated"
    else:
        if outbox is not None and Path(outbox).exists() and holds_ciphertext(Path(outbox)):
            raise OutboxKeyError(
                detail=f"{outbox} holds encrypted dossiers but neither {sealed} nor a plain key file is there: no new "
                "key made. Restore the key (docs/technician-guide.md, 'The outbox key'); do not delete anything",
                vi=_VI_MISSING)
        seal_key(AESGCM.generate_key(bit_length=256), sealed, name, with_key=with_key, tpm2_pcrs=tpm2_pcrs)
        what = "created"
    if remove_key_file and plain_key is not None:
        _remove_plain_key(plain)
        what += ", plain key file removed"
    return what


class CredentialKeySource:
    """The key sealed to this machine as a systemd credential (``systemd-creds encrypt``).

    Where the key is read, in this order:

    1. ``$CREDENTIALS_DIRECTORY/<name>``: inside kiosk.service and kiosk-sync.service, which load
       it with ``LoadCredentialEncrypted=`` (systemd decrypts it with the TPM or the host key);
    2. ``/run/credentials/<unit>/<name>`` of a running kiosk unit, which user kiosk may read
       (a technician's ``sudo -u kiosk kiosk diag`` while kiosk-sync runs);
    3. the sealed file itself, through ``systemd-creds decrypt``, when this process may read it
       (root: ``sudo kiosk …``; /etc/credstore.encrypted is root's).

    All three are the same key. A missing key is never replaced by a new one unless ``create``
    and this process may seal one (root, an outbox without ciphertext).
    """

    kind = "credential"

    def __init__(self, sealed_file: str | os.PathLike = SEALED_FILE, name: str = CREDENTIAL_NAME, *,
                 run_dir: str | os.PathLike = RUN_CREDENTIALS, units: tuple[str, ...] = CREDENTIAL_UNITS,
                 with_key: str = DEFAULT_WITH_KEY, tpm2_pcrs: str = DEFAULT_TPM2_PCRS, timeout_s: float = 30.0):
        self.sealed_file = Path(sealed_file)
        self.name = name
        self.run_dir = Path(run_dir)
        self.units = units
        self.with_key = with_key
        self.tpm2_pcrs = tpm2_pcrs
        self.timeout_s = timeout_s

    def describe(self) -> str:
        return f"credential {self.name} sealed in {self.sealed_file}"

    def _raw(self) -> tuple[bytes | None, str]:
        """(the credential's bytes, where from); (None, …) when nothing is sealed; OutboxKeyError
        when it is sealed but cannot be read or decrypted here."""
        own = os.environ.get("CREDENTIALS_DIRECTORY")
        if own:
            try:
                raw = (Path(own) / self.name).read_bytes()
            except OSError:
                pass  # a unit without LoadCredentialEncrypted=: look further
            else:
                if raw.strip() == CREDENTIAL_UNSET:  # systemd found no sealed file when the unit started
                    return None, str(self.sealed_file)
                return raw, f"credential {Path(own) / self.name}"
        for unit in self.units:
            place = self.run_dir / unit / self.name
            try:
                raw = place.read_bytes()
            except OSError:  # not running, or not this user's to read
                continue
            if raw.strip() != CREDENTIAL_UNSET:
                return raw, f"credential {place}"
        try:
            with open(self.sealed_file, "rb"):
                pass
        except FileNotFoundError:
            return None, str(self.sealed_file)
        except OSError:
            raise OutboxKeyError(
                detail=f"{self.describe()}: this user may not read it and no kiosk unit is running to hand it over. "
                "Run the command as root (sudo KIOSK_CONFIG=/etc/kiosk/kiosk.toml /opt/kiosk/venv/bin/kiosk …), or "
                "while kiosk-sync runs; do not delete anything", vi=_VI_CRED_ACCESS) from None
        return _decrypt_raw(self.sealed_file, self.name, self.timeout_s), f"sealed outbox key {self.sealed_file}"

    def load(self, *, create: bool) -> bytes:
        raw, where = self._raw()
        if raw is not None:
            return parse_key(raw, where)
        if not create:
            raise OutboxKeyError(
                detail=f"{self.describe()}: no sealed key, but the outbox holds encrypted dossiers: restore the key "
                "(docs/technician-guide.md, 'The outbox key'); do not delete anything, do not switch key_source",
                vi=_VI_MISSING)
        try:
            provision_sealed_key(self.sealed_file, self.name, with_key=self.with_key, tpm2_pcrs=self.tpm2_pcrs)
        except OSError as exc:  # user kiosk cannot write /etc/credstore.encrypted
            raise OutboxKeyError(
                detail=f"{self.describe()}: no sealed key yet and this user cannot seal one ({exc.strerror}): run "
                "`sudo scripts/install-kiosk.sh --no-apt`, which does", vi=_VI_CRED_MISSING) from None
        log.info("outbox key created and sealed to this machine (%s)", self.describe())
        return decrypt_sealed(self.sealed_file, self.name, timeout_s=self.timeout_s)

    def probe(self) -> KeyStatus:
        where = self.describe()
        try:
            raw, place = self._raw()
        except OutboxKeyError as exc:  # sealed, but not readable or not decryptable here
            return KeyStatus(self.kind, where, False, True, False, exc.detail or str(exc))
        if raw is None:
            return KeyStatus(self.kind, where, True, False, False)
        try:
            parse_key(raw, place)
        except OutboxKeyError as exc:
            return KeyStatus(self.kind, where, True, True, False, exc.detail or str(exc))
        return KeyStatus(self.kind, where, True, True, True)


def key_source_from_config(section: dict) -> FileKeySource | KeyringKeySource | CredentialKeySource:
    """The source ``[outbox]`` names (``key_source``; ``file`` when the key is absent, as before)."""
    kind = section.get("key_source") or "file"
    if kind == "file":
        return FileKeySource(section["key_file"])
    if kind == "keyring":
        lock = Path(section["path"]).with_name(Path(section["path"]).name + ".keylock") if section.get("path") else None
        return KeyringKeySource(section.get("keyring_service") or DEFAULT_KEYRING_SERVICE,
                                section.get("keyring_user") or DEFAULT_KEYRING_USER,
                                timeout_s=float(section.get("keyring_timeout_s") or 10.0), lock_file=lock)
    if kind == "credential":  # where it is sealed is the units' business (LoadCredentialEncrypted=), not the config's
        return CredentialKeySource()
    raise OutboxKeyError(detail=f"outbox.key_source = {kind!r}: expected one of 'file', 'keyring', 'credential'",
                         vi=_VI_BROKEN)


# --- `python -m kiosk.outbox_key seal`: the installer's step (root) ---------------------------------
def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m kiosk.outbox_key",
        description="Seal the outbox key to this machine (systemd-creds, TPM2 and/or host key): a new key, or "
                    "the one in [outbox] key_file when there is one (its dossiers stay readable). Run as root.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seal", help="make sure the outbox key is sealed (idempotent)")
    s.add_argument("--config", help="the kiosk's config; its [outbox] key_file, path and key_source are used")
    s.add_argument("--sealed-file", default=SEALED_FILE, help=f"where the sealed key lives (default {SEALED_FILE})")
    s.add_argument("--name", default=CREDENTIAL_NAME, help="the credential's name, as in LoadCredentialEncrypted=")
    s.add_argument("--key-file", help="a plain key file to migrate (default: [outbox] key_file of --config)")
    s.add_argument("--outbox", help="the outbox database (default: [outbox] path of --config)")
    s.add_argument("--with-key", default=DEFAULT_WITH_KEY, choices=("auto", "host", "tpm2", "host+tpm2"),
                   help="what to seal with (systemd-creds --with-key; default auto: TPM2 when there is one)")
    s.add_argument("--tpm2-pcrs", default=DEFAULT_TPM2_PCRS,
                   help="TPM2 PCRs to bind to, e.g. 7 (default: none; see docs/technician-guide.md)")
    s.add_argument("--remove-key-file", choices=("auto", "yes", "no"), default="auto",
                   help="delete the plain key file once sealed: auto = when --config reads the credential")
    args = p.parse_args(argv)
    key_file, outbox, source = args.key_file, args.outbox, None
    if args.config:
        from kiosk.config import load_config

        section = load_config(args.config)["outbox"]
        key_file = key_file or section["key_file"]
        outbox = outbox or section["path"]
        source = section["key_source"]
    if source == "keyring":  # its key lives in the keyring; sealing a new one would be a second key
        print("Khóa hộp hồ sơ chờ gửi nằm trong kho khóa (keyring): không niêm phong gì.\n"
              "outbox key: key_source = \"keyring\", nothing sealed (docs/central.md, 'The outbox key')")
        return 0
    remove = args.remove_key_file == "yes" or (args.remove_key_file == "auto" and source == "credential")
    try:
        what = provision_sealed_key(args.sealed_file, args.name, key_file=key_file, outbox=outbox,
                                    remove_key_file=remove, with_key=args.with_key, tpm2_pcrs=args.tpm2_pcrs)
    except OutboxKeyError as exc:
        print(f"{exc.message_vi}\n{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Không niêm phong được khóa của hộp hồ sơ chờ gửi (cần quyền root).\n"
              f"cannot seal the outbox key (run as root): {exc}", file=sys.stderr)
        return 1
    vi = {"kept": "đã có, giữ nguyên", "migrated": "đã chuyển khóa cũ sang dạng niêm phong",
          "created": "đã tạo khóa mới và niêm phong"}[what.split(",")[0]]
    print(f"Khóa hộp hồ sơ chờ gửi: {vi} ({args.sealed_file}).\noutbox key: {what} ({args.sealed_file})")
    if source and source != "credential":
        print(f"Để dùng khóa đã niêm phong: đặt [outbox] key_source = \"credential\" trong {args.config}.\n"
              f"to use it: set [outbox] key_source = \"credential\" in {args.config}, restart kiosk-sync and kiosk, "
              f"then run this again to remove the plain key file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
