"""Payments over HTTP (issue 22): the bank gateway's notifications, and a kiosk's question "has
the fee of this dossier been paid?". The rules are ``central.payments``.

Order of work for a notification: the two headers' form (401), the body, bounded and checked
against a strict model (422), then the gateway secret (503 ``payments_off`` without one), the
timestamp window and the HMAC signature (401), then the rules. Every answer to a well-formed,
signed notification is 200 with its ``result`` (the gateway retries anything else), except a
dossier code central does not know (404).
"""
from __future__ import annotations

from typing import Literal

from fastapi import Depends, FastAPI, Header, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from central import limits
from central.app import CODE_PATH, KIOSK, PaymentState, _json_body, _validated, refusals
from central.payments import (
    DOSSIER_CODE_RX,
    MAX_AMOUNT,
    PAID_AT_RX,
    TIMESTAMP_WINDOW_S,
    TRANSACTION_ID_RX,
    Payments,
    check_headers,
    verify,
)
from central.service import KioskIdentity


class Notification(BaseModel):
    """One incoming transfer, as the bank gateway reports it. Strict, and nothing else: the payer's
    name and account never reach central."""

    model_config = ConfigDict(extra="forbid", strict=True)
    transaction_id: str = Field(pattern=TRANSACTION_ID_RX, description="the gateway's id of the transfer (a retry keeps it)")
    dossier_code: str = Field(pattern=DOSSIER_CODE_RX, description="the payment reference: the VietQR code's bill number")
    amount: int = Field(ge=1, le=MAX_AMOUNT, description="whole đồng received")
    paid_at: str = Field(pattern=PAID_AT_RX, description="when the bank booked it (ISO 8601 with offset)")


class NotificationAnswer(BaseModel):
    result: Literal["paid", "flagged", "already", "already_paid"] = Field(
        description="`paid`; `flagged` (amount differs from the fee); `already`: this transaction_id was "
                    "received before, nothing changed; `already_paid`: another transfer for a dossier paid "
                    "before, recorded for an officer to refund")
    dossier_code: str
    payment: PaymentState


class PaymentAnswer(BaseModel):
    result: Literal["ok"]
    payment: PaymentState


_HEADER_DOC = {
    "X-Timestamp": f"unix seconds when the gateway signed; more than {TIMESTAMP_WINDOW_S} s from the server's clock is refused",
    "X-Signature": "hex HMAC-SHA256 under the gateway secret of "
                   "`amount=<a>&dossier_code=<c>&paid_at=<p>&timestamp=<t>&transaction_id=<id>`",
}


def register(app: FastAPI, central, deps) -> None:
    pay = Payments(central)

    @app.post("/api/v1/payments/notify", tags=["payments"], response_model=NotificationAnswer,
              responses=refusals(401, 404, 413, 422, 503,
                                 s401="`bad_signature`: X-Timestamp or X-Signature missing, malformed, outside the "
                                      "time window or not matching",
                                 s404="no dossier with this code",
                                 s503="`payments_off`: no gateway secret is configured"),
              openapi_extra=_json_body(Notification))
    async def notify(request: Request,
                     x_timestamp: str | None = Header(default=None, description=_HEADER_DOC["X-Timestamp"]),
                     x_signature: str | None = Header(default=None, description=_HEADER_DOC["X-Signature"])):
        """Bank gateway: a transfer arrived for a dossier. Signed (HMAC-SHA256, timestamp), and
        idempotent on `transaction_id`: a replay answers `already` and changes nothing."""
        check_headers(x_timestamp, x_signature)
        note = _validated(Notification, await limits.read_json(request))
        body = note.model_dump()
        verify(central.payment_secret, body, x_timestamp, x_signature)
        return await run_in_threadpool(pay.notify, body)

    @app.get("/api/v1/dossiers/{code}/payment", tags=["payments"], response_model=PaymentAnswer,
             responses=refusals(*KIOSK, 404, s404="no dossier with this code filed by this kiosk"))
    def payment(code: str = CODE_PATH, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: the fee payment of a dossier it filed (the pay screen asks every few seconds)."""
        return pay.for_kiosk(kiosk, code)

