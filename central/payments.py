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
  never charged twice without somebody seeing it. A dossier paid at the counter counts as paid.

What a dossier owes by transfer is ``common.money.payable_amount`` of the fee in its body, the
kiosk's own rule: a fee whose amount the flow's note stands for (set by the province) or that is
marked ``unconfirmed`` owes 0 by transfer (``amount_told_at_counter``), so any transfer for it is
flagged for an officer.

The officers (central/console/payments.py) write through the same rows:

- ``record_counter``: the citizen paid at the counter (amount, the counter's receipt number): the
  dossier is ``paid`` with ``method`` counter. No second payment reference is made; a bank
  transfer that comes later is ``already_paid`` and listed for a refund, as a second transfer is.
- ``resolve``: a flagged payment or an extra transfer was dealt with (a note is required): a
  flagged one is accepted as the fee (``paid``) or refunded (``unpaid`` again); extra transfers
  are marked resolved (``payment_notifications.outcome`` ``resolved``).

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
from central.service import CLOCK_SKEW_ALLOWED, MAX_NOTE_CHARS, CentralError, KioskIdentity, storable_text
from common import clock
from common.payment_signature import sign_notification
from common.money import group_thousands, payable_amount, told_at_counter
from common.vietqr import MAX_AMOUNT_DIGITS

log = logging.getLogger(__name__)

STATES = ("unpaid", "paid", "flagged")
METHODS = ("transfer", "counter")
RESOLUTIONS = ("accept", "refund")  # of a flagged payment; extra transfers are just "resolved"
MAX_RECEIPT_CHARS = 40  # the counter's receipt (biên lai) number, as printed on it
RECEIPT_RX = re.compile(r"[0-9A-Za-zÀ-ỹ][0-9A-Za-zÀ-ỹ ./_-]{0,39}")
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
def _fee(body_text: str | None) -> dict | None:
    try:
        fee = json.loads(body_text or "{}").get("fee")
    except (ValueError, AttributeError):
        return None
    return fee if isinstance(fee, dict) else None


def amount_due(body_text: str | None) -> int:
    """What a dossier owes by transfer (whole đồng): ``common.money.payable_amount`` of the fee
    in its body, the kiosk's rule. A body without a usable amount, a fee set by the province (its
    note stands for the amount) or an unconfirmed one owes 0, so that any transfer for it is
    flagged for an officer rather than taken as the fee."""
    amount = payable_amount(_fee(body_text))
    return amount if amount <= MAX_AMOUNT else 0


def _public(row: Any, due: int, at_counter: bool = False) -> dict:
    """The payment as the kiosk and the citizen's lookup see it. ``method``: how a paid (or
    flagged) payment came, transfer | counter; ``amount_told_at_counter``: the amount is not known
    here (set by the province, or unconfirmed): the officer at the counter tells it."""
    if row is None or row["state"] == "unpaid":
        return {"state": "unpaid", "amount_due": row["amount_due"] if row is not None else due, "amount_paid": None,
                "paid_at": None, "method": None, "amount_told_at_counter": at_counter}
    return {"state": row["state"], "amount_due": row["amount_due"], "amount_paid": row["amount_paid"], "paid_at": row["paid_at"],
            "method": row.get("method") or "transfer", "amount_told_at_counter": at_counter}


def payment_of(conn, dossier_code: str, body_text: str | None) -> dict:
    """The payment object of one dossier inside an open connection (``Central.status`` adds it
    to the citizen's lookup): unpaid with the dossier's fee until a notification came."""
    row = conn.execute(select(payments).where(payments.c.dossier_code == dossier_code)).mappings().first()
    return _public(dict(row) if row is not None else None, amount_due(body_text), told_at_counter(_fee(body_text)))


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
        result, payment = _retrying(lambda: self._apply(code, txid, amount, paid_at, now))
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
            outcome, row = _take(conn, code, dossier[0], amount=amount, paid_at=paid_at, at=at, method="transfer", txid=txid)
            result = "already_paid" if outcome == "extra" else outcome  # a second transfer: kept for an officer to refund
            conn.execute(insert(payment_notifications).values(transaction_id=txid, dossier_code=code, amount=amount,
                                                              paid_at=paid_at, received_at=at, outcome=outcome))
            return result, _public(row, row["amount_due"], told_at_counter(_fee(dossier[0])))

    # --- the officers (central/console/payments.py) -------------------------------------------
    def record_counter(self, code: str, amount: int, receipt: str, *, by: str) -> dict:
        """The citizen paid ``amount`` đồng at the counter, receipt (biên lai) number ``receipt``:
        the dossier is paid (``method`` counter, at this time). Refused (409) when it is paid or
        flagged already: a flagged payment is resolved first."""
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
            raise CentralError(status=422, code="invalid_request", vi="Số tiền phải là số đồng, lớn hơn 0.",
                               en=f"amount: whole đồng, 1 to {MAX_AMOUNT}", fields=["amount"])
        if not isinstance(receipt, str) or not RECEIPT_RX.fullmatch(receipt):
            raise CentralError(status=422, code="invalid_request",
                               vi=f"Số biên lai: chữ, số và các dấu . / - _, tối đa {MAX_RECEIPT_CHARS} ký tự.",
                               en=f"receipt: letters, digits and . / - _, at most {MAX_RECEIPT_CHARS} characters",
                               fields=["receipt"])
        storable_text(by, field="by", max_length=64)

        def write() -> dict:
            now = clock.now()
            at = now.isoformat(timespec="seconds")
            with write_tx(self.engine) as conn:
                dossier = conn.execute(select(dossiers.c.body).where(dossiers.c.dossier_code == code)).first()
                if dossier is None:
                    raise _not_found()
                outcome, row = _take(conn, code, dossier[0], amount=amount, paid_at=at, at=at, method="counter",
                                     receipt=receipt, by=by)
                if outcome == "extra":
                    raise CentralError(status=409, code="already_paid", vi=_ALREADY_VI.get(row["state"], _ALREADY_VI["paid"]),
                                       en="this dossier's fee is paid or flagged already")
                return _public(row, row["amount_due"], told_at_counter(_fee(dossier[0])))

        payment = _retrying(write)
        log.info("dossier %s: fee paid at the counter, recorded by %s", code, by)
        return payment

    def resolve(self, code: str, outcome: str, note: str, *, by: str) -> dict:
        """An officer dealt with a flagged payment and/or extra transfers (``note``: what was done,
        required). A flagged payment: ``outcome`` accept (the amount paid counts as the fee: paid)
        or refund (the money went back: unpaid again). Extra transfers are marked resolved.
        Nothing to resolve is 409. Answers ``{"payment", "flagged", "extras"}`` (what was resolved)."""
        if not isinstance(note, str) or not note.strip():
            raise CentralError(status=422, code="invalid_request", vi="Cần ghi rõ đã xử lý thế nào (hoàn tiền, chấp nhận số tiền, …).",
                               en="note: say what was done (refunded, accepted the amount, …)", fields=["note"])
        storable_text(note, field="note", max_length=MAX_NOTE_CHARS)
        storable_text(by, field="by", max_length=64)
        with write_tx(self.engine) as conn:
            dossier = conn.execute(select(dossiers.c.body).where(dossiers.c.dossier_code == code)).first()
            if dossier is None:
                raise _not_found()
            row = conn.execute(select(payments).where(payments.c.dossier_code == code).with_for_update()).mappings().first()
            extras = conn.execute(select(payment_notifications.c.transaction_id)
                                  .where(payment_notifications.c.dossier_code == code,
                                         payment_notifications.c.outcome == "extra")).scalars().all()
            flagged = row is not None and row["state"] == "flagged"
            if not flagged and not extras:
                raise CentralError(status=409, code="nothing_to_resolve", vi="Không có khoản thanh toán nào cần xử lý.",
                                   en="no flagged payment and no extra transfer to resolve")
            change = {"resolved_at": clock.now().isoformat(timespec="seconds"), "resolved_by": by, "resolution": note.strip()}
            if flagged:
                if outcome not in RESOLUTIONS:
                    raise CentralError(status=422, code="invalid_request",
                                       vi="Cần chọn: chấp nhận số tiền đã nộp, hoặc đã hoàn tiền.",
                                       en="outcome: accept or refund", fields=["outcome"])
                if outcome == "accept":
                    change.update(state="paid", flag_reason=None)
                else:  # the money went back: the dossier is unpaid again (pay at the counter, or transfer anew)
                    conn.execute(update(payment_notifications)
                                 .where(payment_notifications.c.transaction_id == row["transaction_id"])
                                 .values(outcome="refunded"))
                    change.update(state="unpaid", amount_paid=None, paid_at=None, transaction_id=None, notified_at=None,
                                  method=None, flag_reason=None)
            if extras:
                conn.execute(update(payment_notifications).where(payment_notifications.c.dossier_code == code,
                                                                 payment_notifications.c.outcome == "extra")
                             .values(outcome="resolved"))
            conn.execute(update(payments).where(payments.c.dossier_code == code).values(**change))
            payment = payment_of(conn, code, dossier[0])
        log.info("dossier %s: payment resolved by %s (%s, %d extra)", code, by, outcome if flagged else "extras", len(extras))
        return {"payment": payment, "flagged": outcome if flagged else None, "extras": len(extras)}

    def for_kiosk(self, kiosk: KioskIdentity, code: str) -> dict:
        """The payment of a dossier this kiosk filed; any other dossier is 404 like an unknown one."""
        with self.engine.connect() as conn:
            dossier = conn.execute(select(dossiers.c.kiosk_id, dossiers.c.body).where(dossiers.c.dossier_code == code)).first()
            if dossier is None or dossier[0] != kiosk.kiosk_id:
                raise _not_found()
            return {"result": "ok", "payment": payment_of(conn, code, dossier[1])}

    def for_officer(self, code: str, body_text: str | None) -> dict:
        """What the console shows: the payment, why it needs an officer (``checks``, Vietnamese
        sentences), the extra transfers received after it was paid, how it was paid at the counter
        and the last resolution; ``can_record`` / ``can_resolve``: which of the officers' forms apply."""
        with self.engine.connect() as conn:
            row = conn.execute(select(payments).where(payments.c.dossier_code == code)).mappings().first()
            row = dict(row) if row is not None else None
            extras = conn.execute(select(payment_notifications).where(payment_notifications.c.dossier_code == code,
                                                                      payment_notifications.c.outcome == "extra")
                                  .order_by(payment_notifications.c.received_at)).mappings().all()
        fee = _fee(body_text)
        out = _public(row, amount_due(body_text), told_at_counter(fee))
        out["transaction_id"] = row["transaction_id"] if row is not None and out["state"] != "unpaid" else None
        checks = []
        if out["state"] == "flagged":
            if out["amount_due"]:
                checks.append(f"số tiền đã nộp {_dong(out['amount_paid'])} khác số phải nộp {_dong(out['amount_due'])}")
            else:
                checks.append(f"đã chuyển khoản {_dong(out['amount_paid'])} cho hồ sơ có lệ phí nộp tại quầy: "
                              "cần xác nhận số tiền hoặc hoàn lại")
        for e in extras:
            checks.append(f"nhận thêm {_dong(e['amount'])} (giao dịch {e['transaction_id']}) sau khi hồ sơ đã nộp tiền: "
                          "cần hoàn lại cho người dân")
        out["checks"] = checks
        out["can_record"] = out["state"] == "unpaid"
        out["can_resolve"] = bool(checks)
        out["counter_receipt"] = row.get("counter_receipt") if row is not None and out["method"] == "counter" else None
        out["recorded_by"] = row.get("recorded_by") if out["counter_receipt"] else None
        out["resolution"] = ({k: row.get(k) for k in ("resolved_at", "resolved_by", "resolution")}
                             if row is not None and row.get("resolved_at") else None)
        if out["state"] == "paid" and out["method"] == "counter":
            out["summary_vi"] = (f"Đã thu tại quầy {_dong(out['amount_paid'])} lúc {_when(out['paid_at'])}, "
                                 f"biên lai số {out['counter_receipt']}")
        elif out["state"] == "paid":
            out["summary_vi"] = f"Đã thanh toán {_dong(out['amount_paid'])} lúc {_when(out['paid_at'])}"
        elif out["state"] == "flagged":
            out["summary_vi"] = f"Cần kiểm tra: đã nộp {_dong(out['amount_paid'])} lúc {_when(out['paid_at'])}"
        elif out["amount_told_at_counter"]:
            out["summary_vi"] = "Chưa thanh toán (số tiền do cán bộ báo tại quầy)"
        else:
            out["summary_vi"] = "Chưa thanh toán" + ("" if out["amount_due"] else " (hồ sơ không có lệ phí)")
        return out


_ALREADY_VI = {"paid": "Hồ sơ đã được thanh toán, không ghi nhận thêm.",
               "flagged": "Khoản chuyển khoản của hồ sơ đang cần kiểm tra: xin bấm “Đã xử lý” trước."}


def _take(conn, code: str, body_text: str | None, *, amount: int, paid_at: str, at: str, method: str,
          txid: str | None = None, receipt: str | None = None, by: str | None = None) -> tuple[str, dict]:
    """The one write of a payment, for a bank transfer and a counter payment alike, inside the
    caller's write transaction: the dossier's one payments row (made at its first payment, locked
    FOR UPDATE so that two payments through two instances are taken in turn) becomes paid, or
    flagged (a transfer of another amount than is due); ``("extra", row)`` and no change when the
    dossier is paid or flagged already."""
    row = conn.execute(select(payments).where(payments.c.dossier_code == code).with_for_update()).mappings().first()
    if row is None:
        row = {"dossier_code": code, "amount_due": amount_due(body_text), "amount_paid": None, "state": "unpaid",
               "paid_at": None, "transaction_id": None, "notified_at": None, "flag_reason": None}
        conn.execute(insert(payments).values(**row))
    row = dict(row)
    if row["state"] != "unpaid":
        return "extra", row
    outcome = "paid" if method == "counter" or amount == row["amount_due"] else "flagged"
    change = {"state": outcome, "amount_paid": amount, "paid_at": paid_at, "transaction_id": txid, "notified_at": at,
              "flag_reason": None if outcome == "paid" else "amount_differs", "method": method,
              "counter_receipt": receipt, "recorded_by": by}
    conn.execute(update(payments).where(payments.c.dossier_code == code).values(**change))
    return outcome, {**row, **change}


def _retrying(write):
    """``write()`` once more when another instance committed the same first row meanwhile (a retry
    of the same transaction, or another payment for the same dossier): now its rows are there."""
    for attempt in (1, 2):
        try:
            return write()
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _when(at: Any) -> str:
    """"2026-12-04T09:12:31+07:00" → "09:12 04/12/2026" (Vietnam time)."""
    try:
        return datetime.fromisoformat(str(at)).astimezone(clock.VN_TZ).strftime("%H:%M %d/%m/%Y")
    except (ValueError, OverflowError):
        return str(at or "")


def _dong(amount: Any) -> str:
    """4000 → "4.000 đ" (the console's way of writing an amount)."""
    return f"{group_thousands(amount) or amount} đ"
