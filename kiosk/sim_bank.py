"""A simulated bank gateway (issue 22): it tells the central system that a transfer for a dossier
arrived, signed the way a real gateway signs (``common.payment_signature``: HMAC-SHA256 of the
canonical parameters with a timestamp). The simulated demo's pay screen pays with it
(``KioskServices.sim_pay``), and the tests.

Nothing here is a real payment: it is what the centre's bank would send once the citizen's bank
app had paid the VietQR code shown on the kiosk.
"""
from __future__ import annotations

import secrets
from typing import Any

import requests

from common import clock
from common.errors import BilingualError
from common.payment_signature import sign_notification


class BankRefused(BilingualError):
    """The central system refused the notification (``status``, ``code`` from its refusal)."""

    message_vi = "Hệ thống trung tâm từ chối thông báo thanh toán."
    message_en = "The central system refused the payment notification."

    def __init__(self, *, status: int, en: str | None = None, vi: str | None = None, code: str = "", detail: str = ""):
        super().__init__(en=en, vi=vi, code=code, detail=detail)
        self.status = status


def new_transaction_id() -> str:
    """What a bank's transfer id looks like: letters and digits, unique."""
    return "SIM" + clock.now().strftime("%y%m%d") + secrets.token_hex(6).upper()


def pay(central_url: str, secret: str, dossier_code: str, amount: int, *, transaction_id: str | None = None,
        paid_at: str | None = None, timeout: float = 10.0, verify: Any = True) -> dict:
    """Notify ``central_url`` that ``amount`` đồng arrived for ``dossier_code``; returns central's
    answer (``result``: paid | flagged | already | already_paid, ``payment``). ``transaction_id``
    again is a gateway's retry. Raises ``BankRefused`` for a refusal (401, 404, 422, 503 …)."""
    body = {"transaction_id": transaction_id or new_transaction_id(), "dossier_code": dossier_code, "amount": int(amount),
            "paid_at": paid_at or clock.now().isoformat(timespec="seconds")}
    headers = sign_notification(secret, body)
    with requests.Session() as http:
        http.trust_env = False  # the central system of a demo or a test is local: no proxy from the environment
        r = http.post(f"{central_url.rstrip('/')}/api/v1/payments/notify", json=body, headers=headers, timeout=timeout,
                      verify=verify)
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    if r.status_code != 200 or not isinstance(answer, dict) or "result" not in answer:
        raise BankRefused(status=r.status_code, code=str(answer.get("error") or "refused") if isinstance(answer, dict) else "refused",
                          en=f"central refused the payment notification: HTTP {r.status_code}",
                          vi=(answer.get("message_vi") if isinstance(answer, dict) else None)
                          or "Hệ thống trung tâm từ chối thông báo thanh toán.")
    return answer
