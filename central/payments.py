"""Fee payments (issue 22): what the bank gateway tells the central system, and what the kiosk,
the citizen's status lookup and the officers' console read back.

One payment reference per dossier: its dossier code (the VietQR code's bill number, made by
``common.vietqr.build_payload`` at the kiosk). The gateway notifies each incoming transfer once
or more (gateways retry); the rules, in one write transaction per notification:

- a ``transaction_id`` seen before is acknowledged (``already``) and changes nothing (replay);
- the first transfer for a dossier marks it ``paid`` when its amount is the fee the dossier
  carries (``fee.amount`` of the dossier body), ``flagged`` for an officer otherwise;
- any later, different transfer for a dossier that was paid (or flagged) is acknowledged
  (``already_paid``) and recorded as an extra payment for an officer to refund: a citizen is
  never charged twice without somebody seeing it.

Authentication is the gateways' usual one: ``X-Timestamp`` (unix seconds, at most 300 s from our
clock) and ``X-Signature``, the hex HMAC-SHA256 under the shared gateway secret of the canonical
string ``amount=…&dossier_code=…&paid_at=…&timestamp=…&transaction_id=…`` (keys sorted). The
secret is ``Central.payment_secret``; without one the endpoint answers 503 ``payments_off``.

Logs name the dossier code, the transaction id and the outcome; never the secret, a signature or
anything of the citizen.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from central.db import dossiers, payment_notifications, payments, write_tx
from central.service import CLOCK_SKEW_ALLOWED, CentralError, KioskIdentity
from common import clock
from common.payment_signature import sign_notification
from common.money import group_thousands
from common.vietqr import MAX_AMOUNT_DIGITS

log = logging.getLogger(__name__)

STATES = ("unpaid", "paid", "flagged")
TIMESTAMP_WINDOW_S = 300
MAX_AMOUNT = 10 ** MAX_AMOUNT_DIGITS - 1
TRANSACTION_ID_RX = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
DOSSIER_CODE_RX = r"^[0-9]{2}\.[0-9]{5}-[0-9]{6}-[0-9]{4,}$"  # central.codes.DOSSIER_CODE_RX: real codes only
PAID_AT_RX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)$"
_TIMESTAMP_HEADER_RX = re.compile(r"[0-9]{1,12}")
_SIGNATURE_HEADER_RX = re.compile(r"[0-9a-fA-F]{64}")


# --- the signature ------------------------------------------------------------------------------
def _unauthorized(en: str) -> CentralError:
    return CentralError(status=401, code="bad_signature", vi="Thông báo thanh toán không được xác thực.", en=en)


def check_headers(timestamp: str | None, signature: str | None) -> None:
    """The two headers are there and well formed (before the body is read)."""
    if timestamp is None or not _TIMESTAMP_HEADER_RX.fullmatch(timestamp):
        raise _unauthorized("X-Timestamp: unix seconds")
    if signature is None or not _SIGNATURE_HEADER_RX.fullmatch(signature):
        raise _unauthorized("X-Signature: hex HMAC-SHA256 (64 characters)")


def verify(secret: str, body: dict, timestamp: str, signature: str) -> None:
    """A notification signed with ``secret`` within the time window, or a 401 / 503 refusal."""
    if not secret:
        raise CentralError(status=503, code="payments_off", vi="Hệ thống chưa nhận thanh toán trực tuyến.",
                           en="payment notifications are off: no gateway secret is configured")
    if abs(int(clock.now().timestamp()) - int(timestamp)) > TIMESTAMP_WINDOW_S:
        raise _unauthorized(f"X-Timestamp more than {TIMESTAMP_WINDOW_S} s from the server's clock")
    expected = sign_notification(secret, body, int(timestamp))["X-Signature"]
    if not hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("ascii")):
        raise _unauthorized("X-Signature does not match")


# --- the rules ----------------------------------------------------------------------------------
def amount_due(body_text: str | None) -> int:
    """The fee a dossier carries (``fee.amount``, whole đồng). A body without a usable amount owes
    0, so that any transfer for it is flagged for an officer rather than taken as the fee."""
    try:
        amount = json.loads(body_text or "{}").get("fee", {}).get("amount")
    except (ValueError, AttributeError):
        return 0
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT:
        return 0
    return amount


def _public(row: Any, due: int) -> dict:
    """The payment as the kiosk and the citizen's lookup see it."""
    if row is None:
        return {"state": "unpaid", "amount_due": due, "amount_paid": None, "paid_at": None}
    return {"state": row["state"], "amount_due": row["amount_due"], "amount_paid": row["amount_paid"], "paid_at": row["paid_at"]}


def payment_of(conn, dossier_code: str, body_text: str | None) -> dict:
    """The payment object of one dossier inside an open connection (``Central.status`` adds it
    to the citizen's lookup): unpaid with the dossier's fee until a notification came."""
    row = conn.execute(select(payments).where(payments.c.dossier_code == dossier_code)).mappings().first()
    return _public(row, amount_due(body_text))


def _paid_at(text: str, now: datetime) -> str:
    """The bank's time of the transfer in Vietnam time; a time ahead of ours is not believed."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(clock.VN_TZ)
    return (now if at > now + CLOCK_SKEW_ALLOWED else at).isoformat(timespec="seconds")


def _not_found() -> CentralError:
    return CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ.", en="no dossier with this code")


class Payments:
    def __init__(self, central):
        self.central = central
        self.engine = central.engine

    def notify(self, note: dict) -> dict:
        """Apply one verified notification (``note``: a validated ``Notification``); the answer's
        ``result`` is paid | flagged | already | already_paid (see the module docstring)."""
        code, txid, amount = note["dossier_code"], note["transaction_id"], int(note["amount"])
        now = clock.now()
        try:
            paid_at = _paid_at(note["paid_at"], now)
        except (ValueError, OverflowError):
            raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                               en="paid_at: an ISO 8601 time with its offset", fields=["paid_at"]) from None
        for attempt in (1, 2):
            try:
                result, payment = self._apply(code, txid, amount, paid_at, now)
                break
            except IntegrityError:
                # a retry of the same transaction, or another transfer for the same dossier, committed
                # first (another instance): once more, now that its rows are there
                if attempt == 2:
                    raise
        log.info("payment notification %s for dossier %s: %s", txid, code, result)
        return {"result": result, "dossier_code": code, "payment": payment}

    def _apply(self, code: str, txid: str, amount: int, paid_at: str, now: datetime) -> tuple[str, dict]:
        at = now.isoformat(timespec="seconds")
        with write_tx(self.engine) as conn:
            seen = conn.execute(select(payment_notifications.c.dossier_code)
                                .where(payment_notifications.c.transaction_id == txid)).first()
            if seen is not None:  # a replay: acknowledged, nothing changes
                body = conn.execute(select(dossiers.c.body).where(dossiers.c.dossier_code == seen[0])).scalar()
                return "already", payment_of(conn, seen[0], body)
            dossier = conn.execute(select(dossiers.c.body).where(dossiers.c.dossier_code == code)).first()
            if dossier is None:
                raise _not_found()
            # FOR UPDATE: two transfers for one dossier through two instances are taken in turn
            row = conn.execute(select(payments).where(payments.c.dossier_code == code).with_for_update()).mappings().first()
            if row is None:
                row = {"dossier_code": code, "amount_due": amount_due(dossier[0]), "amount_paid": None, "state": "unpaid",
                       "paid_at": None, "transaction_id": None, "notified_at": None, "flag_reason": None}
                conn.execute(insert(payments).values(**row))
            if row["transaction_id"] is not None:
                outcome, result = "extra", "already_paid"  # a second transfer: kept for an officer to refund
            else:
                result = outcome = "paid" if amount == row["amount_due"] else "flagged"
                change = {"state": outcome, "amount_paid": amount, "paid_at": paid_at, "transaction_id": txid,
                          "notified_at": at, "flag_reason": None if outcome == "paid" else "amount_differs"}
                conn.execute(update(payments).where(payments.c.dossier_code == code).values(**change))
                row = {**row, **change}
            conn.execute(insert(payment_notifications).values(transaction_id=txid, dossier_code=code, amount=amount,
                                                              paid_at=paid_at, received_at=at, outcome=outcome))
            return result, _public(row, row["amount_due"])

    def for_kiosk(self, kiosk: KioskIdentity, code: str) -> dict:
        """The payment of a dossier this kiosk filed; any other dossier is 404 like an unknown one."""
        with self.engine.connect() as conn:
            dossier = conn.execute(select(dossiers.c.kiosk_id, dossiers.c.body).where(dossiers.c.dossier_code == code)).first()
            if dossier is None or dossier[0] != kiosk.kiosk_id:
                raise _not_found()
            return {"result": "ok", "payment": payment_of(conn, code, dossier[1])}

    def for_officer(self, code: str, body_text: str | None) -> dict:
        """What the console shows: the payment, why it needs an officer (``checks``, Vietnamese
        sentences), and the extra transfers received after it was paid."""
        with self.engine.connect() as conn:
            row = conn.execute(select(payments).where(payments.c.dossier_code == code)).mappings().first()
            extras = conn.execute(select(payment_notifications).where(payment_notifications.c.dossier_code == code,
                                                                      payment_notifications.c.outcome == "extra")
                                  .order_by(payment_notifications.c.received_at)).mappings().all()
        out = _public(row, amount_due(body_text))
        out["transaction_id"] = row["transaction_id"] if row is not None else None
        checks = []
        if out["state"] == "flagged":
            checks.append(f"số tiền đã nộp {_dong(out['amount_paid'])} khác số phải nộp {_dong(out['amount_due'])}")
        for e in extras:
            checks.append(f"nhận thêm {_dong(e['amount'])} (giao dịch {e['transaction_id']}) sau khi hồ sơ đã nộp tiền: "
                          "cần hoàn lại cho người dân")
        out["checks"] = checks
        if out["state"] == "paid":
            out["summary_vi"] = f"Đã thanh toán {_dong(out['amount_paid'])} lúc {_when(out['paid_at'])}"
        elif out["state"] == "flagged":
            out["summary_vi"] = f"Cần kiểm tra: đã nộp {_dong(out['amount_paid'])} lúc {_when(out['paid_at'])}"
        else:
            out["summary_vi"] = "Chưa thanh toán" + ("" if out["amount_due"] else " (hồ sơ không có lệ phí)")
        return out


def _when(at: Any) -> str:
    """"2026-12-04T09:12:31+07:00" → "09:12 04/12/2026" (Vietnam time)."""
    try:
        return datetime.fromisoformat(str(at)).astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y")
    except (ValueError, OverflowError):
        return str(at or "")


def _dong(amount: Any) -> str:
    """4000 → "4.000 đ" (the console's way of writing an amount)."""
    return f"{group_thousands(amount) or amount} đ"
