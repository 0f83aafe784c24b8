"""Where the outbox's AES-GCM key comes from: a 0600 file or the system keyring.

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

Neither source ever logs, prints or returns the key except through :meth:`KeySource.load`.
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.outbox_errors import OutboxKeyError

log = logging.getLogger(__name__)

KEY_BYTES = 32
SOURCES = ("file", "keyring")
DEFAULT_KEYRING_SERVICE = "kiosk-outbox"
DEFAULT_KEYRING_USER = "outbox-key"

_VI_BROKEN = "Khóa mã hóa của máy bị hỏng; vui lòng báo cán bộ kỹ thuật."
_VI_MISSING = "Thiếu khóa mã hóa của hộp hồ sơ chờ gửi; vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu."
_VI_KEYRING_DOWN = ("Không lấy được khóa mã hóa từ kho khóa của hệ thống (chưa mở khóa hoặc không phản hồi); "
                    "vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu.")


@dataclass
class KeyStatus:
    """What a source can say about its key without handing it out (for diagnostics)."""

    source: str            # "file" | "keyring"
    where: str             # the file's path, or "service/user in the Secret Service keyring"
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
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        _fsync_dir(path.parent)
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


def key_source_from_config(section: dict) -> FileKeySource | KeyringKeySource:
    """The source ``[outbox]`` names (``key_source``; ``file`` when the key is absent, as before)."""
    kind = section.get("key_source") or "file"
    if kind == "file":
        return FileKeySource(section["key_file"])
    if kind == "keyring":
        lock = Path(section["path"]).with_name(Path(section["path"]).name + ".keylock") if section.get("path") else None
        return KeyringKeySource(section.get("keyring_service") or DEFAULT_KEYRING_SERVICE,
                                section.get("keyring_user") or DEFAULT_KEYRING_USER,
                                timeout_s=float(section.get("keyring_timeout_s") or 10.0), lock_file=lock)
    raise OutboxKeyError(detail=f"outbox.key_source = {kind!r}: expected one of 'file', 'keyring'", vi=_VI_BROKEN)
