"""The province admins' draft editor, four-eyes signing and staged rollout pages (issue 20).

    POST /console/procedures/{flow_id}/draft      start a draft (field ``from_bundle``: a revert)
    GET  /console/procedures/drafts/{id}          the draft: structured fields, YAML, problems, diff
    POST /console/procedures/drafts/{id}/fields   save the structured fields into the YAML
    POST /console/procedures/drafts/{id}/yaml     save the YAML (and the reason)
    POST /console/procedures/drafts/{id}/submit   the author signs with their token's PIN
    POST /console/procedures/drafts/{id}/approve  a second admin signs: the bundle goes to the pilots
    POST /console/procedures/drafts/{id}/withdraw
    POST /console/procedures/promote              a pilot bundle goes to every kiosk
    POST /console/procedures/pilots               a kiosk joins or leaves the pilot group

The work is in central/drafts.py; this module reads forms, checks who may do what, writes the
audit log and shows pages. A PIN goes from the form to the token and nowhere else.
"""
from __future__ import annotations

import re

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import delete, insert, select
from starlette.concurrency import run_in_threadpool

from central import drafts as core
from central.console import auth, fleet
from central.console.accounts import User
from central.console.pages import HEADERS, render
from central.db import kiosks, pilot_kiosks, write_tx
from central.service import BUNDLE_ID_RX, CentralError
from common import clock

PREFIX = "/console/procedures"
DRAFT_ID_RX = re.compile(r"[0-9]{1,9}")
MAX_PIN = 64
EDIT_FIELDS = 400   # the structured form of the longest flow: a few fields per step and paper


def _error(exc: CentralError) -> auth.ConsoleError:
    status = exc.status if 400 <= exc.status < 500 else 409
    return auth.ConsoleError(status, exc.message_vi, exc.message_en)


def _pin(form: dict) -> str:
    pin = form.get("pin", "")
    if not pin or len(pin) > MAX_PIN:
        raise auth.ConsoleError(400, "Cần nhập mã PIN của thẻ khóa để ký.", "The token PIN is needed to sign.")
    return pin


def pilot_ids(central, province: str) -> set[str]:
    with central.engine.connect() as conn:
        return {r[0] for r in conn.execute(select(pilot_kiosks.c.kiosk_id).where(pilot_kiosks.c.province_code == province))}


def register(app: FastAPI, central) -> None:
    accounts = app.state.console_accounts
    store = core.Drafts(central)

    def draft_or_404(raw: str, user: User) -> dict:
        if not DRAFT_ID_RX.fullmatch(raw):
            raise auth.not_found()
        d = store.get(int(raw), user.province)
        if d is None:
            raise auth.not_found()
        return d

    def audit(request: Request, user: User, action: str, target: str, detail: str = "") -> None:
        accounts.audit(action, username=user.username, centre=user.centre, target=target, detail=detail,
                       address=auth.address(request))

    def back(draft_id: int) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/drafts/{draft_id}", status_code=303, headers=HEADERS)

    @app.post(PREFIX + "/{flow_id}/draft", include_in_schema=False)
    async def start(request: Request, flow_id: str, user: User = Depends(fleet.admin)):
        if not core.FLOW_ID_RX.fullmatch(flow_id):
            raise auth.not_found()
        form = await auth.post_form(request, user)
        source = form.get("from_bundle") or None
        if source is not None and not BUNDLE_ID_RX.fullmatch(source):
            raise auth.not_found()
        try:
            draft_id = await run_in_threadpool(store.start, flow_id, user.province, user.username, from_bundle=source)
        except CentralError as exc:
            raise _error(exc) from None
        await run_in_threadpool(audit, request, user, "draft_started", flow_id, f"draft {draft_id}" + (f" from {source}" if source else ""))
        return back(draft_id)

    @app.get(PREFIX + "/drafts/{draft_id}", include_in_schema=False)
    def draft_page(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        if request.query_params:
            raise auth.ConsoleError(400, "Trang này không nhận tham số.", "This page takes no query parameters.")
        d = draft_or_404(draft_id, user)
        published = store.published_yaml(d)
        signer = core.signer_of(central, user.username)
        problems = core.check(d["yaml"], d["flow_id"], d["base_version"])
        resp = render(request, "draft.html", user=user, draft=d, fields=core.fields_of(d["yaml"]), problems=problems,
                      diff=core.diff(published, d["yaml"]), levels=core.LEVELS, has_key=bool(signer.public_key),
                      key_id=_key_id(signer.public_key), mine=d["author"] == user.username,
                      max_reason=core.MAX_REASON)
        from central.console.clips import draft_clips  # noqa: PLC0415

        if d["state"] == "draft" and (draft_clips(central, d) or {}).get("state") == "running":
            resp.headers["Refresh"] = "5"   # the help clips are being made: the page follows them (no script: CSP)
        return resp

    async def _edit(request: Request, draft_id: str, user: User, structured: bool):
        d = draft_or_404(draft_id, user)
        form = await auth.post_form(request, user, max_fields=EDIT_FIELDS)
        try:
            text = core.apply_fields(d["yaml"], form) if structured else form.get("yaml", "")
            problems = await run_in_threadpool(store.save, d, text, user.username, form.get("reason"))
        except CentralError as exc:
            raise _error(exc) from None
        await run_in_threadpool(audit, request, user, "draft_saved", d["flow_id"],
                                f"draft {d['id']}: {'fields' if structured else 'yaml'}, {len(problems)} problems")
        return back(d["id"])

    @app.post(PREFIX + "/drafts/{draft_id}/fields", include_in_schema=False)
    async def save_fields(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        return await _edit(request, draft_id, user, True)

    @app.post(PREFIX + "/drafts/{draft_id}/yaml", include_in_schema=False)
    async def save_yaml(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        return await _edit(request, draft_id, user, False)

    async def _sign(request: Request, draft_id: str, user: User, approving: bool):
        """Submit (the author's signature) or approve (a second admin's): the PIN from the form goes
        to the signer's token and nowhere else; a refusal is audited without it."""
        d = draft_or_404(draft_id, user)
        form = await auth.post_form(request, user)
        pin = _pin(form)
        try:
            signer = core.signer_of(central, user.username)
            answer = await run_in_threadpool(store.approve if approving else store.submit, d, signer, pin)
        except CentralError as exc:
            await run_in_threadpool(audit, request, user, "draft_sign_refused", d["flow_id"], f"draft {d['id']}: {exc.code}")
            raise _error(exc) from None
        key = _key_id(signer.public_key)
        if approving:
            detail = f"draft {d['id']} by {d['author']}, bundle {answer.get('bundle_id')} to the pilot kiosks, signed by key {key}"
        else:
            detail = f"draft {d['id']} bundle {answer} signed by key {key}"
        await run_in_threadpool(audit, request, user, "draft_approved" if approving else "draft_submitted", d["flow_id"], detail)
        return back(d["id"])

    @app.post(PREFIX + "/drafts/{draft_id}/submit", include_in_schema=False)
    async def submit(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        return await _sign(request, draft_id, user, approving=False)

    @app.post(PREFIX + "/drafts/{draft_id}/approve", include_in_schema=False)
    async def approve(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        return await _sign(request, draft_id, user, approving=True)

    @app.post(PREFIX + "/drafts/{draft_id}/withdraw", include_in_schema=False)
    async def withdraw(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        d = draft_or_404(draft_id, user)
        await auth.post_form(request, user)
        try:
            await run_in_threadpool(store.withdraw, d, user.username)
        except CentralError as exc:
            raise _error(exc) from None
        await run_in_threadpool(audit, request, user, "draft_withdrawn", d["flow_id"], f"draft {d['id']} ({d['state']})")
        return back(d["id"])

    @app.post(PREFIX + "/drafts/{draft_id}/preview", include_in_schema=False)
    async def preview(request: Request, draft_id: str, user: User = Depends(fleet.admin)):
        """The draft on the kiosk's own screens (central/console/preview.py: a worker process)."""
        from central.console.preview import PREFIX as PREVIEWS, start_preview  # noqa: PLC0415

        d = draft_or_404(draft_id, user)
        await auth.post_form(request, user)
        sha = await run_in_threadpool(start_preview, central, d["yaml"].encode("utf-8"))
        return RedirectResponse(f"{PREVIEWS}/{sha}", status_code=303, headers=HEADERS)

    @app.post(PREFIX + "/promote", include_in_schema=False)
    async def promote(request: Request, user: User = Depends(fleet.admin)):
        form = await auth.post_form(request, user)
        bundle_id = form.get("bundle_id", "")
        if not BUNDLE_ID_RX.fullmatch(bundle_id):
            raise auth.not_found()
        try:
            answer = await run_in_threadpool(central.promote_bundle, bundle_id, user.province, actor=user.username)
        except CentralError as exc:
            raise _error(exc) from None
        await run_in_threadpool(audit, request, user, "bundle_promoted", bundle_id, f"{answer['previous_bundle_id']} -> {bundle_id}")
        return RedirectResponse(PREFIX, status_code=303, headers=HEADERS)

    @app.post(PREFIX + "/pilots", include_in_schema=False)
    async def pilots(request: Request, user: User = Depends(fleet.admin)):
        form = await auth.post_form(request, user)
        kiosk_id, action = form.get("kiosk_id", ""), form.get("action", "")
        if action not in ("add", "remove"):
            raise auth.ConsoleError(400, "Thao tác không đúng.", "action: add or remove")

        def change() -> bool:
            with write_tx(central.engine) as conn:
                province = conn.execute(select(kiosks.c.province_code).where(kiosks.c.kiosk_id == kiosk_id)).scalar()
                if province != user.province:   # another province's kiosk or none: not found either way
                    return False
                conn.execute(delete(pilot_kiosks).where(pilot_kiosks.c.kiosk_id == kiosk_id))
                if action == "add":
                    conn.execute(insert(pilot_kiosks).values(kiosk_id=kiosk_id, province_code=province, added_by=user.username,
                                                             added_at=clock.now().isoformat(timespec="seconds")))
                return True

        if not await run_in_threadpool(change):
            raise auth.not_found()
        await run_in_threadpool(audit, request, user, "pilot_" + action, kiosk_id)
        return RedirectResponse(PREFIX, status_code=303, headers=HEADERS)


def _key_id(public_key: str) -> str:
    if not public_key:
        return ""
    from flows.bundles import key_id  # noqa: PLC0415

    return key_id(public_key)
