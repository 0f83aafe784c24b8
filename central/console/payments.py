"""The officers' side of a dossier's fee payment (issue 22), on the dossier page:

    POST /console/dossiers/{code}/payment/counter   "Ghi nhận đã thu tại quầy": amount, receipt
    POST /console/dossiers/{code}/payment/resolve   "Đã xử lý": outcome (of a flagged payment), note

The rules and the storage are central/payments.py (one path with the bank's notifications). The
same rights as the status change: a logged-in officer of the dossier's commune (another commune's
dossier is 404, as an unknown one); the same-origin and CSRF checks before anything changes; every
action in the audit log (the amount, the receipt number, the outcome; never the note, which stays
with the payment); every refusal a page in Vietnamese and English, never a 500.
"""
from __future__ import annotations

import re

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from central.console import auth
from central.console.accounts import User
from central.console.pages import HEADERS
from central.payments import MAX_AMOUNT, Payments
from central.service import CentralError

PREFIX = "/console/dossiers"
# "100000", "100.000", "100,000", "100 000": the officer types the amount as written on the receipt
AMOUNT_RX = re.compile(r"[0-9]{1,3}(?:[., ][0-9]{3})+|[0-9]{1,13}")


def _error(exc: CentralError) -> auth.ConsoleError:
    return auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en)


def parse_amount(raw: str) -> int:
    """Whole đồng from the form, or a 400 page."""
    text = (raw or "").strip()
    if len(text) > 20 or not AMOUNT_RX.fullmatch(text) or not 1 <= int(re.sub(r"[., ]", "", text)) <= MAX_AMOUNT:
        raise auth.ConsoleError(400, "Số tiền phải là số đồng lớn hơn 0, ví dụ 100000 hoặc 100.000.",
                                "The amount must be whole đồng above 0, e.g. 100000 or 100.000.")
    return int(re.sub(r"[., ]", "", text))


def register(app: FastAPI, central) -> None:
    from central.console.routes import _dossier_row  # noqa: PLC0415  (routes mounts this module from its register)

    accounts = app.state.console_accounts
    pay = Payments(central)

    def back(code: str) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/{code}#payment-actions", status_code=303, headers=HEADERS)

    def audit(request: Request, user: User, action: str, code: str, detail: str) -> None:
        accounts.audit(action, username=user.username, centre=user.centre, target=code, detail=detail,
                       address=auth.address(request))

    @app.post(PREFIX + "/{code}/payment/counter", include_in_schema=False)
    async def counter(request: Request, code: str, user: User = Depends(auth.current_user)):
        form = await auth.post_form(request, user)
        await run_in_threadpool(_dossier_row, central, user, code)
        amount = parse_amount(form.get("amount", ""))
        receipt = form.get("receipt", "").strip()
        try:
            await run_in_threadpool(pay.record_counter, code, amount, receipt, by=user.username)
        except CentralError as exc:
            raise _error(exc) from None
        await run_in_threadpool(audit, request, user, "payment_counter", code, f"{amount} đ, biên lai {receipt}")
        return back(code)

    @app.post(PREFIX + "/{code}/payment/resolve", include_in_schema=False)
    async def resolve(request: Request, code: str, user: User = Depends(auth.current_user)):
        form = await auth.post_form(request, user)
        await run_in_threadpool(_dossier_row, central, user, code)
        try:
            done = await run_in_threadpool(pay.resolve, code, form.get("outcome", ""), form.get("note", ""), by=user.username)
        except CentralError as exc:
            raise _error(exc) from None
        detail = ", ".join(([f"flagged: {done['flagged']}"] if done["flagged"] else [])
                           + ([f"extra transfers: {done['extras']}"] if done["extras"] else []))
        await run_in_threadpool(audit, request, user, "payment_resolved", code, detail)
        return back(code)
