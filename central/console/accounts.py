"""People of the centre: accounts, sessions and the audit log (tables in central/db.py, "people").

Rules kept here, so the CLI and the web pages follow the same ones:
- passwords are ``common.secret_hash`` PBKDF2 hashes; a login of an unknown name is verified
  against a dummy hash, so it costs what a wrong password costs;
- 5 failed logins of one name lock it for 15 minutes. Names that do not exist are counted the same
  way (in memory), so "locked" never tells whether a name exists;
- a session is a random token in a cookie; only its sha256 is stored. It ends after 30 minutes
  without a request or 10 hours after login, at logout, or when its account is disabled;
- the audit log records who did what, when and from which address, never a citizen's data;
- a province admin (role ``admin``) has a province code and no commune: they see the figures of every
  commune of their province (central/console/fleet.py), and no dossier's contents (an officer page
  filters on the commune, and theirs is empty).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from central.db import accounts, audit_log, sessions, write_tx
from central.service import CentralError, storable_text
from common import clock
from common.secret_hash import hash_secret, verify_secret
from flows import units

ROLES = ("officer", "supervisor", "admin")
# People choose passwords with less entropy than the kiosks' random secrets: a higher cost
PASSWORD_ITERATIONS = 200_000
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_FOR = timedelta(minutes=30)
SESSION_AT_MOST = timedelta(hours=10)
# last_seen_at is written at most this often (one write per page view would serialise SQLite)
TOUCH_EVERY = timedelta(seconds=30)
USERNAME_RX = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
COMMUNE_RX = re.compile(r"[0-9]{5}")
PROVINCE_RX = re.compile(r"[0-9]{2}")
MAX_DISPLAY_NAME = 200
_UNKNOWN_NAMES_KEPT = 10_000


@dataclass(frozen=True)
class User:
    """The person behind a request. ``centre`` is their commune code: the only dossiers, help calls
    and counters they see (empty for a province admin: none). ``province``: a province admin's
    province, whose kiosks and intake figures they see."""
    username: str
    display_name: str
    role: str
    centre: str
    csrf: str = ""
    counter: str = ""
    session_id: int = 0
    province: str = ""

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class LoginRefused(Exception):
    """``reason``: "wrong" (unknown name or wrong password: one answer for both), "locked" (with
    ``until``), "disabled" is answered as "wrong" (a disabled account is not confirmed either)."""

    def __init__(self, reason: str, until: datetime | None = None):
        super().__init__(reason)
        self.reason, self.until = reason, until


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_username(username: Any) -> str:
    if not isinstance(username, str) or not USERNAME_RX.fullmatch(username):
        raise CentralError(status=422, code="invalid_username", vi="Tên đăng nhập chỉ gồm chữ thường không dấu, số, '.', '_', '-' (2–64 ký tự).",
                           en="username: 2-64 of a-z 0-9 . _ - (starting with a letter or digit)")
    return username


def check_password(password: Any) -> str:
    if not isinstance(password, str) or not (MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS):
        raise CentralError(status=422, code="weak_password", vi=f"Mật khẩu cần từ {MIN_PASSWORD_CHARS} đến {MAX_PASSWORD_CHARS} ký tự.",
                           en=f"the password must have {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters")
    storable_text(password, field="password", max_length=MAX_PASSWORD_CHARS)
    return password


_DUMMY_HASH: str | None = None


class Accounts:
    def __init__(self, central):
        self.central = central
        self.engine = central.engine
        # failures of names that have no account: the same lock-out, so it tells nothing
        self._unknown: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def _dummy(self) -> str:
        """What a name without an account is checked against, so that it costs what a wrong password
        costs. One per process, made on the first such check (not at every start of the app)."""
        global _DUMMY_HASH
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_secret(secrets.token_urlsafe(18), iterations=PASSWORD_ITERATIONS)
        return _DUMMY_HASH

    # --- accounts ------------------------------------------------------------------------------
    def add(self, username: str, password: str, role: str, commune_code: str, display_name: str = "",
            province_code: str = "") -> dict:
        """An officer or supervisor belongs to a commune (``commune_code``; their province follows from
        it); a province admin to a province (``province_code``) and no commune."""
        check_username(username)
        check_password(password)
        if role not in ROLES:
            raise CentralError(status=422, code="invalid_role",
                               vi="Vai trò phải là officer (cán bộ), supervisor (lãnh đạo) hoặc admin (quản trị tỉnh).",
                               en="role: officer, supervisor or admin")
        if role == "admin":
            if commune_code:
                raise CentralError(status=422, code="invalid_commune", vi="Quản trị của tỉnh: để trống mã xã, phường.",
                                   en="a province admin has a province, not a commune")
            if not isinstance(province_code, str) or not PROVINCE_RX.fullmatch(province_code) or units.province(province_code) is None:
                raise CentralError(status=422, code="invalid_province", vi="Mã tỉnh không đúng: cần 2 chữ số, ví dụ 01.",
                                   en="province: 2 digits of a known province, e.g. 01")
            commune_code = ""
        else:
            if not isinstance(commune_code, str) or not COMMUNE_RX.fullmatch(commune_code):
                raise CentralError(status=422, code="invalid_commune", vi="Mã xã, phường gồm 5 chữ số.", en="commune: 5 digits")
            commune = units.commune(commune_code)
            province_code = commune.province_code if commune is not None else ""
        display_name = storable_text(display_name or "", field="display_name", max_length=MAX_DISPLAY_NAME).strip()
        now = _iso(clock.now())
        row = {"username": username, "display_name": display_name, "role": role, "commune_code": commune_code,
               "province_code": province_code,
               "password_hash": hash_secret(password, iterations=PASSWORD_ITERATIONS), "failed_count": 0,
               "locked_until": None, "disabled": 0, "created_at": now, "password_changed_at": now}
        try:
            with write_tx(self.engine) as conn:
                conn.execute(insert(accounts).values(**row))
        except IntegrityError:
            raise CentralError(status=409, code="account_exists", vi="Tên đăng nhập này đã có.", en="this username exists") from None
        self.audit("account_added", username=username, centre=commune_code, target=username,
                   detail=f"{role} {province_code}" if role == "admin" else role)
        return self.get(username)

    def get(self, username: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == username)).mappings().first()
        return _public(row) if row else None

    def list(self, commune_code: str | None = None) -> list[dict]:
        q = select(accounts).order_by(accounts.c.commune_code, accounts.c.username)
        if commune_code:
            q = q.where(accounts.c.commune_code == commune_code)
        with self.engine.connect() as conn:
            return [_public(r) for r in conn.execute(q).mappings()]

    def _change(self, username: str, action: str, **values) -> dict:
        with write_tx(self.engine) as conn:
            row = conn.execute(select(accounts.c.commune_code).where(accounts.c.username == username)).first()
            if row is None:
                raise CentralError(status=404, code="not_found", vi="Không có tài khoản này.", en="no such account")
            conn.execute(update(accounts).where(accounts.c.username == username).values(**values))
            if values.get("disabled"):
                conn.execute(delete(sessions).where(sessions.c.username == username))
        with self._lock:
            self._unknown.pop(username, None)
        self.audit(action, username=username, centre=row[0], target=username)
        return self.get(username)

    def unlock(self, username: str) -> dict:
        return self._change(username, "account_unlocked", failed_count=0, locked_until=None)

    def disable(self, username: str) -> dict:
        return self._change(username, "account_disabled", disabled=1)

    def enable(self, username: str) -> dict:
        return self._change(username, "account_enabled", disabled=0, failed_count=0, locked_until=None)

    def set_password(self, username: str, password: str) -> dict:
        check_password(password)
        answer = self._change(username, "password_changed", password_hash=hash_secret(password, iterations=PASSWORD_ITERATIONS),
                              password_changed_at=_iso(clock.now()), failed_count=0, locked_until=None)
        with write_tx(self.engine) as conn:  # a new password ends the sessions opened with the old one
            conn.execute(delete(sessions).where(sessions.c.username == username))
        return answer

    # --- login ---------------------------------------------------------------------------------
    def login(self, username: str, password: str, address: str = "") -> tuple[str, User]:
        """A new session (its cookie token and the user) or ``LoginRefused``. Every attempt is audited."""
        now = clock.now()
        name = username if isinstance(username, str) and USERNAME_RX.fullmatch(username) else ""
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == name)).mappings().first() if name else None
        if row is None:
            self._unknown_failure(username if isinstance(username, str) else "", password, now, address)
        until = _when(row["locked_until"])
        if until and until > now:
            verify_secret(password if isinstance(password, str) else "", self._dummy)  # costs what any other answer costs
            self.audit("login_locked", username=name, centre=row["commune_code"], address=address)
            raise LoginRefused("locked", until)
        ok = verify_secret(password, row["password_hash"]) if isinstance(password, str) else False
        if not ok or row["disabled"]:
            failures = (row["failed_count"] if not (until and until <= now) else 0) + (0 if ok else 1)
            locked = _iso(now + LOCK_FOR) if failures >= MAX_FAILURES else None
            with write_tx(self.engine) as conn:
                conn.execute(update(accounts).where(accounts.c.username == name)
                             .values(failed_count=failures, locked_until=locked))
            self.audit("login_failed", username=name, centre=row["commune_code"], address=address,
                       detail="disabled" if row["disabled"] else f"failures={failures}")
            if locked:
                raise LoginRefused("locked", now + LOCK_FOR)
            raise LoginRefused("wrong")
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with write_tx(self.engine) as conn:
            conn.execute(update(accounts).where(accounts.c.username == name).values(failed_count=0, locked_until=None))
            sid = conn.execute(insert(sessions).values(
                token_sha256=token_hash(token), username=name, csrf_token=csrf, created_at=_iso(now),
                last_seen_at=_iso(now), address=address[:64], counter="").returning(sessions.c.id)).scalar_one()
        self.audit("login", username=name, centre=row["commune_code"], address=address)
        return token, User(name, row["display_name"], row["role"], row["commune_code"], csrf, "", sid, row["province_code"])

    def _unknown_failure(self, username: str, password: Any, now: datetime, address: str) -> None:
        verify_secret(password if isinstance(password, str) else "", self._dummy)  # the same cost as a real check
        key = username[:64]
        with self._lock:
            count, until = self._unknown.pop(key, (0, None))
            if until and until > now:
                self._unknown[key] = (count, until)
                locked = until
            else:
                count = (0 if until else count) + 1
                locked = now + LOCK_FOR if count >= MAX_FAILURES else None
                self._unknown[key] = (count, locked)
            while len(self._unknown) > _UNKNOWN_NAMES_KEPT:
                self._unknown.popitem(last=False)
        # the name typed is kept (it may be a mistyped real one); never the password
        self.audit("login_failed", username=key if USERNAME_RX.fullmatch(key) else "?", address=address, detail="unknown")
        raise LoginRefused("locked", locked) if locked else LoginRefused("wrong")

    # --- sessions ------------------------------------------------------------------------------
    def session(self, token: str | None) -> User | None:
        """The user of a session cookie, or None (unknown, expired, account disabled)."""
        if not token or len(token) > 200:
            return None
        now = clock.now()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(sessions, accounts.c.display_name, accounts.c.role, accounts.c.commune_code, accounts.c.disabled,
                       accounts.c.province_code)
                .join(accounts, accounts.c.username == sessions.c.username)
                .where(sessions.c.token_sha256 == token_hash(token))).mappings().first()
        if row is None:
            return None
        seen, created = _when(row["last_seen_at"]), _when(row["created_at"])
        if row["disabled"] or seen is None or created is None or now - seen > IDLE_FOR or now - created > SESSION_AT_MOST:
            with write_tx(self.engine) as conn:
                conn.execute(delete(sessions).where(sessions.c.id == row["id"]))
            return None
        if now - seen > TOUCH_EVERY:
            with write_tx(self.engine) as conn:
                conn.execute(update(sessions).where(sessions.c.id == row["id"]).values(last_seen_at=_iso(now)))
        return User(row["username"], row["display_name"], row["role"], row["commune_code"], row["csrf_token"],
                    row["counter"], row["id"], row["province_code"])

    def logout(self, user: User, address: str = "") -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(sessions).where(sessions.c.id == user.session_id))
        self.audit("logout", username=user.username, centre=user.centre, address=address)

    def set_counter(self, user: User, counter: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(sessions).where(sessions.c.id == user.session_id).values(counter=counter[:16]))

    # --- audit ---------------------------------------------------------------------------------
    def audit(self, action: str, *, username: str = "", centre: str = "", target: str = "", detail: str = "",
              address: str = "") -> None:
        with write_tx(self.engine) as conn:
            conn.execute(insert(audit_log).values(at=_iso(clock.now()), commune_code=centre[:5], username=username[:64],
                                                  action=action[:40], target=str(target)[:100], detail=str(detail)[:2000],
                                                  address=address[:64]))

    def audit_entries(self, centre: str, *, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
        where = audit_log.c.commune_code == centre
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(audit_log).where(where)).scalar_one()
            rows = conn.execute(select(audit_log).where(where).order_by(audit_log.c.id.desc())
                                .limit(limit).offset(offset)).mappings().all()
        return [dict(r) for r in rows], total


def same_secret(a: str, b: str) -> bool:
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def _public(row) -> dict:
    """An account without its password hash."""
    return {k: row[k] for k in ("username", "display_name", "role", "commune_code", "province_code", "failed_count",
                                "locked_until", "disabled", "created_at", "password_changed_at")}
