"""Who confirmed the citizen's identity at the kiosk (issue 21, Deliver 4): a one-time code.

When a face check fails three times, or the citizen would rather not use the camera, the kiosk asks
a member of staff to confirm that the person is the person on the card. A PIN shared by every
officer and technician of the centre cannot say *who* did; the dossier must. So the officer who
acknowledges the help call ("Tôi đến ngay" on the console, or the staff API/CLI) receives a 6-digit
code, shown once; at the kiosk, after looking at the citizen and the card, the officer types it; the
kiosk sends it to ``POST /api/v1/help-calls/{uuid}/confirm`` and records the account that received
it (``face.confirmed_by``). Only the code's SHA-256 (salted with the call's uuid) is stored.

The code works for the kiosk whose call it is, once, within :data:`CODE_TTL_S`; five wrong codes
burn it (a new one from the console: "Mã mới"). Every code issued and every confirmation goes to
the console's audit log. The kiosk's staff PIN stays as the way through when central cannot be
reached (recorded as such: docs/face.md).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from central.db import audit_log, help_calls, write_tx
from central.service import HELP_CALL_UUID_RX, CentralError, KioskIdentity, _no_help_call, storable_text
from common import clock

log = logging.getLogger(__name__)

CODE_TTL_S = 15 * 60
MAX_FAILURES = 5
CODE_RX = re.compile(r"[0-9]{6}")
MAX_ACCOUNT_CHARS = 100


def _digest(uid: str, code: str) -> str:
    return hashlib.sha256(f"{uid}:{code}".encode("ascii")).hexdigest()


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _conflict(code: str, vi: str, en: str, **extra) -> CentralError:
    return CentralError(status=409, code=code, vi=vi, en=en, **extra)


def _locked() -> CentralError:
    return _conflict("code_locked", "Nhập sai quá nhiều lần. Xin cán bộ lấy mã mới trên máy tính (nút “Mã mới”).",
                     "too many wrong codes: the officer takes a new one on the console (“New code”)")


def _audit(conn, action: str, row, account: str, detail: str = "") -> None:
    conn.execute(insert(audit_log).values(at=_iso(clock.now()), commune_code=(row["commune_code"] or "")[:5],
                                          username=account[:64], action=action, target=row["uuid"],
                                          detail=f"kiosk {row['kiosk_id']}" + (f"; {detail}" if detail else ""),
                                          address=""))


def issue_code(engine, uid: str, account: str) -> dict:
    """A new code for an acknowledged call, for ``account`` (the console user name, or what the
    staff API was told); any earlier code of the call stops working. ``{"code", "expires_at"}``."""
    account = storable_text(account, field="account", max_length=MAX_ACCOUNT_CHARS).strip()
    if not account:
        raise CentralError(status=422, code="invalid_request", vi="Cần tên tài khoản của cán bộ.",
                           en="account: who receives the code", fields=["account"])
    if not HELP_CALL_UUID_RX.fullmatch(uid or ""):
        raise _no_help_call()
    now = clock.now()
    code = f"{secrets.randbelow(10 ** 6):06d}"
    expires = _iso(now + timedelta(seconds=CODE_TTL_S))
    with write_tx(engine) as conn:
        row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid).with_for_update()).mappings().first()
        if row is None:
            raise _no_help_call()
        if row["state"] != "acknowledged":
            raise _conflict("not_acknowledged", "Cần bấm “Tôi đến ngay” trước khi lấy mã xác nhận.",
                            "acknowledge the call before taking a confirmation code")
        conn.execute(update(help_calls).where(help_calls.c.id == row["id"])
                     .values(confirm_code_sha256=_digest(uid, code), confirm_expires_at=expires, confirm_failures=0,
                             confirm_account=account))
        _audit(conn, "help_call_code", row, account)
    return {"code": code, "expires_at": expires}


def confirm(engine, kiosk: KioskIdentity, uid: str, code) -> dict:
    """The kiosk sends the code the officer typed. Right: ``{"result": "confirmed", "confirmed_by",
    "confirmed_at"}`` and the code is spent. Wrong: 400 ``wrong_code`` with ``tries_left``; the
    fifth wrong one burns the code (409 ``code_locked``). No code, an expired or spent one: 409.
    Another kiosk's call: 404, as an unknown one."""
    if not isinstance(code, str) or not CODE_RX.fullmatch(code):
        raise CentralError(status=422, code="invalid_request", vi="Mã xác nhận gồm 6 chữ số.",
                           en="code: the 6 digits the officer was given", fields=["code"])
    if not HELP_CALL_UUID_RX.fullmatch(uid or ""):
        raise _no_help_call()
    now = clock.now()
    with write_tx(engine) as conn:
        row = conn.execute(select(help_calls).where(help_calls.c.uuid == uid).with_for_update()).mappings().first()
        if row is None or row["kiosk_id"] != kiosk.kiosk_id:
            raise _no_help_call()
        if not row["confirm_code_sha256"]:
            if row["confirmed_at"]:
                raise _conflict("code_used", "Mã này đã được dùng. Xin cán bộ lấy mã mới trên máy tính.",
                                "this code was used already; the officer takes a new one on the console")
            raise _conflict("no_code", "Cán bộ chưa có mã xác nhận cho yêu cầu này. Xin cán bộ bấm “Tôi đến ngay” trên máy tính.",
                            "no confirmation code for this call yet: the officer acknowledges it on the console")
        if (row["confirm_failures"] or 0) >= MAX_FAILURES:
            raise _locked()
        if datetime.fromisoformat(row["confirm_expires_at"]) < now:
            raise _conflict("code_expired", "Mã đã hết hạn. Xin cán bộ lấy mã mới trên máy tính (nút “Mã mới”).",
                            "the code has expired: the officer takes a new one on the console (“New code”)")
        # a wrong code is counted (committed) before it is refused: the refusal is raised after the
        # transaction, which raising inside would roll back
        left = None
        if not hmac.compare_digest(row["confirm_code_sha256"], _digest(uid, code)):
            failures = (row["confirm_failures"] or 0) + 1
            conn.execute(update(help_calls).where(help_calls.c.id == row["id"]).values(confirm_failures=failures))
            left = MAX_FAILURES - failures
            if left <= 0:
                _audit(conn, "help_call_code_locked", row, row["confirm_account"] or "")
        else:
            at = _iso(now)
            conn.execute(update(help_calls).where(help_calls.c.id == row["id"])
                         .values(confirm_code_sha256=None, confirmed_at=at, confirmed_by=row["confirm_account"]))
            _audit(conn, "identity_confirmed", row, row["confirm_account"] or "")
    if left is not None:
        log.info("help call %s: wrong confirmation code (%d left)", uid[:8], max(left, 0))
        if left <= 0:
            raise _locked()
        raise CentralError(status=400, code="wrong_code", vi=f"Mã chưa đúng. Còn {left} lần thử.",
                           en=f"wrong code; {left} tries left", tries_left=left)
    log.info("help call %s: identity confirmed by staff", uid[:8])
    return {"result": "confirmed", "uuid": uid, "confirmed_by": row["confirm_account"], "confirmed_at": at}
