"""The console's routes under /console/ (``register`` is listed in ``central.app.FEATURES``).

Rules every route keeps:
- a page needs a session (``auth.current_user``); statistics pages a supervisor (``auth.supervisor``);
- an officer sees only their centre: a dossier, an attachment, a help call or a counter of another
  centre is 404, exactly like one that does not exist;
- every POST passes the same-origin and CSRF checks before anything changes, and answers with a
  redirect (so a reload never sends it twice);
- every refusal is a page (4xx) in Vietnamese and English, never a JSON body and never a 500; the
  app's JSON handlers keep answering every path outside /console/.
"""
from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from central import codes, help_confirm, limits
from central.console import auth
from central.console.accounts import Accounts, LoginRefused, User
from central.console.pages import HEADERS, STATIC, STATUS_LABELS, render
from central.db import dossiers, help_calls, status_events
from central.service import MAX_NOTE_CHARS, CentralError, storable_text
from common import clock

PREFIX = "/console"
PAGE_SIZE = 25
SHA256_RX = re.compile(r"[0-9a-f]{64}")
COUNTER_RX = re.compile(r"[A-Za-z0-9_-]{1,16}")
UUID_RX = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SLUG_RX = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Attachments are shown in the browser only as these types; anything else is offered as a download
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf"}
APPLICANT_FIELDS = (
    ("full_name", "Họ và tên", "Full name"),
    ("id_number", "Số định danh cá nhân", "Personal ID number"),
    ("date_of_birth", "Ngày sinh", "Date of birth"),
    ("sex", "Giới tính", "Sex"),
    ("residence", "Nơi cư trú", "Residence"),
    ("phone", "Số điện thoại", "Phone"),
)
STATIC_FILES = {"console.css": "text/css", "reload.js": "text/javascript"}
SOURCES = {"chip": "Đọc từ thẻ căn cước gắn chip", "qr": "Quét mã QR trên thẻ", "typed": "Người dân tự nhập",
           "vneid": "Ứng dụng VNeID"}


def _queue(central):
    """The centre's queue (central/queue.py), or None while that module is absent."""
    try:
        from central.queue import Queue  # noqa: PLC0415
    except ImportError:
        return None
    return Queue(central)


def _ratings(central):
    try:
        from central.ratings import Ratings  # noqa: PLC0415
    except ImportError:
        return None
    return Ratings(central)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        raise auth.ConsoleError(400, "Số trang không hợp lệ.", "Bad page number.") from None


def _dossier_row(central, user: User, code: str):
    """The dossier if it is routed to the user's centre; otherwise (another centre's, unknown,
    malformed code) 404, one answer for all."""
    if not codes.DOSSIER_CODE_RX.fullmatch(code):
        raise auth.not_found()
    with central.engine.connect() as conn:
        row = conn.execute(select(dossiers).where(dossiers.c.dossier_code == code,
                                                  dossiers.c.commune_code == user.centre)).mappings().first()
    if row is None:
        raise auth.not_found()
    return row


def _body(row) -> dict:
    try:
        body = json.loads(row["body"])
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def register(app: FastAPI, central, _deps) -> None:
    accounts = Accounts(central)
    app.state.console_accounts = accounts
    _install_error_pages(app)
    app.add_middleware(_FormSizeLimit)
    from central.console import fleet  # noqa: PLC0415  (province admins' fleet and intake pages, issue 20)
    fleet.register(app, central)
    from central.console import preview  # noqa: PLC0415  (the kiosk-faithful preview: a worker process, never Kivy here)
    preview.register(app, central)
    from central.console import procedures  # noqa: PLC0415  (published procedures, bundle history, rollback)
    procedures.register(app, central)
    from central.console import drafts  # noqa: PLC0415  (drafts, four-eyes signing from the browser, staged rollout)
    drafts.register(app, central)
    from central.console import clips; clips.register(app, central)  # noqa: E702,PLC0415  (help clips of a draft's changed steps)
    from central.console import payments as fees; fees.register(app, central)  # noqa: E702,PLC0415  (fee paid at the counter, flagged payments)

    def ctx(user: User | None, **more) -> dict:
        return {"user": user, "labels": STATUS_LABELS, **more}

    # --- static -------------------------------------------------------------------------------
    @app.get(PREFIX + "/static/{name}", include_in_schema=False)
    def static(name: str):
        if name not in STATIC_FILES:
            raise auth.not_found()
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name],
                            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    # --- login / logout -----------------------------------------------------------------------
    @app.get(PREFIX + "/login", include_in_schema=False)
    async def login_page(request: Request):
        token = auth.new_login_token()
        resp = render(request, "login.html", **ctx(None, csrf=token, message=None))
        auth.set_cookie(resp, request, auth.LOGIN_COOKIE, token, max_age=3600)
        return resp

    @app.post(PREFIX + "/login", include_in_schema=False)
    async def login(request: Request):
        auth.check_origin(request)
        form = await auth.read_form(request)
        auth.check_csrf(request, form, request.cookies.get(auth.LOGIN_COOKIE, ""))
        username, password = form.get("username", "").strip().lower(), form.get("password", "")
        try:
            token, _user = await run_in_threadpool(accounts.login, username, password, auth.address(request))
        except LoginRefused as refused:
            if refused.reason == "locked":
                until = refused.until.strftime("%H:%M") if refused.until else ""
                message = (f"Tài khoản này đang tạm khóa đến {until} vì nhập sai mật khẩu 5 lần liên tiếp. "
                           "Hãy chờ đến giờ đó, hoặc nhờ lãnh đạo trung tâm mở khóa.",
                           f"This account is locked until {until} after 5 wrong passwords in a row. Wait, or ask "
                           "your supervisor to unlock it.")
                status = 429
            else:
                message = ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")
                status = 401
            new = auth.new_login_token()
            resp = render(request, "login.html", http_status=status, **ctx(None, csrf=new, message=message, username=username))
            auth.set_cookie(resp, request, auth.LOGIN_COOKIE, new, max_age=3600)
            return resp
        resp = _back(PREFIX + "/")
        auth.set_cookie(resp, request, auth.COOKIE, token)
        auth.clear_cookie(resp, request, auth.LOGIN_COOKIE)
        return resp

    @app.post(PREFIX + "/logout", include_in_schema=False)
    async def logout(request: Request, user: User = Depends(auth.current_user)):
        await auth.post_form(request, user)
        await run_in_threadpool(accounts.logout, user, auth.address(request))
        resp = _back(PREFIX + "/login")
        auth.clear_cookie(resp, request, auth.COOKIE)
        return resp

    # --- home ---------------------------------------------------------------------------------
    @app.get(PREFIX, include_in_schema=False)
    def home_no_slash():
        return _back(PREFIX + "/")

    @app.get(PREFIX + "/", include_in_schema=False)
    def home(request: Request, user: User = Depends(auth.current_user)):
        if user.is_admin:  # a province admin has no counters: their page is the fleet (central/console/fleet.py)
            return _back(PREFIX + "/fleet")
        queue = _queue(central)
        counters = queue.counters(user.centre) if queue else []
        waiting = queue.waiting(user.centre) if queue else []
        calls = central.list_help_calls(commune_code=user.centre, state="open", limit=50)
        with central.engine.connect() as conn:
            new = conn.execute(select(func.count()).select_from(dossiers).where(
                dossiers.c.commune_code == user.centre, dossiers.c.status == "received")).scalar_one()
        return render(request, "home.html", **ctx(user, counters=counters, waiting=len(waiting), calls=calls,
                                                  new_dossiers=new, queue_ready=queue is not None))

    # --- counters -----------------------------------------------------------------------------
    def _counter(queue, user: User, counter: str) -> dict:
        if queue is None or not COUNTER_RX.fullmatch(counter):
            raise auth.not_found()
        for c in queue.counters(user.centre):
            if str(c["counter"]) == counter:
                return c
        raise auth.not_found()

    @app.get(PREFIX + "/counter/{counter}", include_in_schema=False)
    def counter_page(request: Request, counter: str, user: User = Depends(auth.current_user)):
        queue = _queue(central)
        info = _counter(queue, user, counter)
        if user.counter != counter:
            accounts.set_counter(user, counter)
        waiting = queue.waiting(user.centre)
        current = _current_ticket(queue, user.centre, counter)
        by_service: dict[str, list[dict]] = {}
        for t in waiting:
            by_service.setdefault(t.get("service_name") or t.get("service_id", ""), []).append(t)
        services = sorted({(t.get("service_id", ""), t.get("service_name", "")) for t in waiting}
                          | {(s, s) for s in info.get("services", []) if isinstance(s, str)})
        return render(request, "counter.html", **ctx(user, counter=info, current=current, by_service=by_service,
                                                     services=_service_choices(queue, user.centre, services),
                                                     csrf=user.csrf, note=request.query_params.get("note", "")))

    @app.post(PREFIX + "/counter/{counter}", include_in_schema=False)
    async def counter_action(request: Request, counter: str, user: User = Depends(auth.current_user)):
        form = await auth.post_form(request, user)
        queue = _queue(central)
        _counter(queue, user, counter)
        action = form.get("action", "")
        by = user.username
        where = f"{PREFIX}/counter/{counter}"
        addr = auth.address(request)
        if action == "call_next":
            ticket = await _queue_call(queue.call_next, user.centre, counter, by)
            if not ticket:
                return _back(where + "?note=empty")
            await run_in_threadpool(accounts.audit, "ticket_call", username=by, centre=user.centre,
                                    target=ticket["number"], detail=f"counter {counter}", address=addr)
            return _back(where)
        ticket_id = _ticket_id(form)
        if action == "recall":
            ticket = await _queue_call(queue.recall, user.centre, ticket_id, by)
            detail = f"counter {counter}, call {ticket.get('calls')}"
            verb = "ticket_recall"
        elif action in ("served", "no_show"):
            ticket = await _queue_call(queue.finish, user.centre, ticket_id, action, by)
            detail, verb = f"counter {counter}, {action}", "ticket_finish"
        elif action == "transfer":
            to = form.get("to_service", "")
            if not SLUG_RX.fullmatch(to):
                raise auth.ConsoleError(400, "Hãy chọn dịch vụ để chuyển sang.", "Choose the service to transfer to.")
            ticket = await _queue_call(queue.transfer, user.centre, ticket_id, to, by)
            detail, verb = f"counter {counter}, to {to}", "ticket_transfer"
        else:
            raise auth.ConsoleError(400, "Thao tác không hợp lệ.", "Unknown action.")
        await run_in_threadpool(accounts.audit, verb, username=by, centre=user.centre, target=ticket.get("number", ""),
                                detail=detail, address=addr)
        return _back(where)

    # --- dossiers -----------------------------------------------------------------------------
    @app.get(PREFIX + "/inbox", include_in_schema=False)
    def inbox(request: Request, user: User = Depends(auth.current_user)):
        q = request.query_params
        procedure, status, search = q.get("procedure", ""), q.get("status", ""), q.get("code", "").strip()
        page = _page_number(q.get("page"))
        if status and status not in STATUS_LABELS:
            raise auth.ConsoleError(400, "Trạng thái không hợp lệ.", "Unknown status.")
        if len(procedure) > 40 or len(search) > 60:
            raise auth.ConsoleError(400, "Bộ lọc không hợp lệ.", "Bad filter.")
        where = [dossiers.c.commune_code == user.centre]
        if procedure:
            where.append(dossiers.c.procedure_code == procedure)
        if status:
            where.append(dossiers.c.status == status)
        if search:
            # the official code, or the provisional TAM-… code a citizen brings on an offline slip
            where.append(or_(dossiers.c.dossier_code.startswith(search.upper(), autoescape=True),
                             dossiers.c.provisional_code == search.upper()))
        with central.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(dossiers).where(*where)).scalar_one()
            rows = conn.execute(select(dossiers.c.dossier_code, dossiers.c.procedure_code, dossiers.c.status,
                                       dossiers.c.received_at, dossiers.c.appointment_date, dossiers.c.body)
                                .where(*where).order_by(dossiers.c.id.desc())
                                .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).mappings().all()
            procedures = conn.execute(select(dossiers.c.procedure_code).where(dossiers.c.commune_code == user.centre)
                                      .distinct().order_by(dossiers.c.procedure_code)).scalars().all()
        items = []
        for r in rows:
            proc = _body(r).get("procedure") or {}
            items.append({**{k: r[k] for k in ("dossier_code", "procedure_code", "status", "received_at", "appointment_date")},
                          "procedure_name": proc.get("name_vi", "") if isinstance(proc, dict) else ""})
        pages = max(1, math.ceil(total / PAGE_SIZE))
        return render(request, "inbox.html", **ctx(user, items=items, total=total, page=page, pages=pages,
                                                   procedures=procedures, procedure=procedure, status=status, code=search))

    @app.get(PREFIX + "/dossiers/{code}", include_in_schema=False)
    def dossier_page(request: Request, code: str, user: User = Depends(auth.current_user)):
        row = _dossier_row(central, user, code)
        body = _body(row)
        history = _history(central, row["id"])
        applicant = body.get("applicant") if isinstance(body.get("applicant"), dict) else {}
        fields = [(vi, en, _shown(applicant.get(key))) for key, vi, en in APPLICANT_FIELDS if applicant.get(key) not in (None, "")]
        from central.console.identity import identity_rows  # noqa: PLC0415
        fields += identity_rows(applicant)
        answers = body.get("answers") if isinstance(body.get("answers"), dict) else {}
        attachments = [a for a in body.get("attachments") or [] if isinstance(a, dict) and SHA256_RX.fullmatch(str(a.get("sha256", "")))]
        from central.service import TRANSITIONS  # noqa: PLC0415  (read now: the statuses may grow)
        nexts = [s for s in STATUS_LABELS if s in TRANSITIONS.get(row["status"], set()) and s != "done"]
        from central.payments import Payments  # noqa: PLC0415  (the fee payment, issue 22)
        payment = Payments(central).for_officer(row["dossier_code"], row["body"])
        return render(request, "dossier.html", **ctx(
            user, row=row, body=body, procedure=body.get("procedure") or {}, fields=fields,
            source=SOURCES.get(str(applicant.get("source", "")), str(applicant.get("source", ""))),
            answers=[(k, _shown(v)) for k, v in answers.items()], attachments=attachments, history=history,
            nexts=nexts, csrf=user.csrf, max_note=MAX_NOTE_CHARS, payment=payment))

    @app.post(PREFIX + "/dossiers/{code}/status", include_in_schema=False)
    async def dossier_status(request: Request, code: str, user: User = Depends(auth.current_user)):
        form = await auth.post_form(request, user)
        await run_in_threadpool(_dossier_row, central, user, code)   # the officer's commune's, else 404
        status, note = form.get("status", ""), form.get("note", "").strip()
        try:
            storable_text(note, field="note", max_length=MAX_NOTE_CHARS)
            # central.set_status writes the audit entry (every way of changing a status does)
            await run_in_threadpool(lambda: central.set_status(code, status, note, by=user.username,
                                                               address=auth.address(request)))
        except CentralError as exc:
            raise auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en) from None
        return _back(f"{PREFIX}/dossiers/{code}")

    @app.get(PREFIX + "/dossiers/{code}/attachments/{sha256}", include_in_schema=False)
    def attachment(request: Request, code: str, sha256: str, user: User = Depends(auth.current_user)):
        row = _dossier_row(central, user, code)
        listed = next((a for a in _body(row).get("attachments") or []
                       if isinstance(a, dict) and a.get("sha256") == sha256), None)
        if listed is None or not SHA256_RX.fullmatch(sha256):
            raise auth.not_found()
        data = central.attachment(sha256)
        if data is None:
            raise auth.ConsoleError(404, "Tệp đính kèm chưa được gửi đến trung tâm.", "The attachment has not arrived.")
        media = str(listed.get("media_type", ""))
        inline = media in INLINE_TYPES
        filename = re.sub(r"[^A-Za-z0-9._-]", "_", str(listed.get("document_id") or "tep"))[:60] or "tep"
        headers = {**HEADERS, "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{filename}"',
                   # a PDF viewer or an image needs no script of its own
                   "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                                              "object-src 'self'; plugin-types application/pdf; frame-ancestors 'self'",
                   "X-Frame-Options": "SAMEORIGIN"}
        return Response(data, media_type=media if inline else "application/octet-stream", headers=headers)

    # --- help calls ---------------------------------------------------------------------------
    @app.get(PREFIX + "/help-calls", include_in_schema=False)
    def help_calls_page(request: Request, user: User = Depends(auth.current_user)):
        open_calls = central.list_help_calls(commune_code=user.centre, state="open", limit=100)
        done = central.list_help_calls(commune_code=user.centre, state="acknowledged", limit=10)
        return render(request, "help_calls.html", **ctx(user, calls=open_calls, done=done, csrf=user.csrf))

    def own_call(uid: str, user: User) -> None:
        """A call of the officer's centre, else 404 (as an unknown one)."""
        if not UUID_RX.fullmatch(uid):
            raise auth.not_found()
        with central.engine.connect() as conn:
            centre = conn.execute(select(help_calls.c.commune_code).where(help_calls.c.uuid == uid)).scalar()
        if centre != user.centre:
            raise auth.not_found()

    @app.post(PREFIX + "/help-calls/{uid}/ack", include_in_schema=False)
    async def help_call_ack(request: Request, uid: str, user: User = Depends(auth.current_user)):
        await auth.post_form(request, user)
        own_call(uid, user)
        by = user.shown_name + (f", quầy {user.counter}" if user.counter else "")
        try:
            await run_in_threadpool(central.acknowledge_help_call, uid, by[:100])
            code = await run_in_threadpool(help_confirm.issue_code, central.engine, uid, user.username)
        except CentralError as exc:
            raise auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en) from None
        await run_in_threadpool(accounts.audit, "help_call_ack", username=user.username, centre=user.centre, target=uid,
                                address=auth.address(request))
        # the code is shown this once (only its hash is kept): the officer takes it to the kiosk
        return render(request, "help_call_code.html", **ctx(user, uid=uid, code=code, csrf=user.csrf))

    @app.post(PREFIX + "/help-calls/{uid}/code", include_in_schema=False)
    async def help_call_new_code(request: Request, uid: str, user: User = Depends(auth.current_user)):
        """"Mã mới": a fresh code for a call already acknowledged (the old one expired, was lost or burnt)."""
        await auth.post_form(request, user)
        own_call(uid, user)
        try:
            code = await run_in_threadpool(help_confirm.issue_code, central.engine, uid, user.username)
        except CentralError as exc:
            raise auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en) from None
        return render(request, "help_call_code.html", **ctx(user, uid=uid, code=code, csrf=user.csrf))

    # --- supervisors --------------------------------------------------------------------------
    @app.get(PREFIX + "/ratings", include_in_schema=False)
    def ratings_page(request: Request, user: User = Depends(auth.supervisor)):
        q = request.query_params
        today = clock.today()
        day_to = _day(q.get("to"), today)
        day_from = _day(q.get("from"), today - timedelta(days=6))
        if day_from > day_to or (day_to - day_from).days > 366:
            raise auth.ConsoleError(400, "Khoảng ngày không hợp lệ (tối đa 1 năm).", "Bad date range (a year at most).")
        ratings = _ratings(central)
        summary = ratings.summary(user.centre, day_from.isoformat(), day_to.isoformat()) if ratings else None
        queue = _queue(central)
        day_stats = queue.day_stats(user.centre, day_to.isoformat()) if queue else None
        return render(request, "ratings.html", **ctx(user, summary=summary, day_stats=day_stats,
                                                     day_from=day_from.isoformat(), day_to=day_to.isoformat()))

    @app.get(PREFIX + "/audit", include_in_schema=False)
    def audit_page(request: Request, user: User = Depends(auth.supervisor)):
        page = _page_number(request.query_params.get("page"))
        entries, total = accounts.audit_entries(user.centre, limit=50, offset=(page - 1) * 50)
        return render(request, "audit.html", **ctx(user, entries=entries, page=page, pages=max(1, math.ceil(total / 50))))


# --- helpers of the routes ---------------------------------------------------------------------
def _day(raw: str | None, default):
    from datetime import date  # noqa: PLC0415

    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise auth.ConsoleError(400, "Ngày không hợp lệ (YYYY-MM-DD).", "Bad date (YYYY-MM-DD).") from None


def _ticket_id(form: dict[str, str]) -> int:
    raw = form.get("ticket_id", "")
    if not raw.isdigit() or len(raw) > 12:
        raise auth.ConsoleError(400, "Chưa có số nào đang được phục vụ ở quầy này.", "No ticket given.")
    return int(raw)


async def _queue_call(fn, *args):
    try:
        answer = await run_in_threadpool(fn, *args)
    except CentralError as exc:
        raise auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en) from None
    return answer or {}


def _current_ticket(queue, centre: str, counter: str) -> dict | None:
    """The ticket this counter called and has not finished."""
    return queue.serving(centre, counter)


def _service_choices(queue, centre: str, seen: set | list) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for s in queue.services(centre):
        out[s["service_id"]] = s.get("service_name") or s["service_id"]
    for sid, name in seen:
        if sid:
            out.setdefault(sid, name or sid)
    return sorted(out.items(), key=lambda kv: kv[1])


def _history(central, dossier_id: int) -> list[dict]:
    cols = [status_events.c.status, status_events.c.at, status_events.c.note]
    if "actor" in status_events.c:
        cols.append(status_events.c.actor)
    with central.engine.connect() as conn:
        rows = conn.execute(select(*cols).where(status_events.c.dossier_id == dossier_id)
                            .order_by(status_events.c.id)).mappings().all()
    return [{"actor": "", **dict(r)} for r in rows]


# --- refusals as pages -------------------------------------------------------------------------
def _is_console(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def _error_page(request: Request, status: int, vi: str, en: str, headers: dict | None = None):
    return render(request, "error.html", http_status=status, headers=headers, user=None, status_code=status, vi=vi, en=en)


def _install_error_pages(app: FastAPI) -> None:
    """Console paths get pages; every other path keeps the app's JSON refusal (the handler it had)."""
    json_handlers = {exc: app.exception_handlers.get(exc) for exc in (CentralError, StarletteHTTPException, RequestValidationError)}

    async def console_error(request: Request, exc: auth.ConsoleError):
        return _error_page(request, exc.status, exc.vi, exc.en)

    async def login_needed(request: Request, _exc: auth.LoginNeeded):
        resp = _back(PREFIX + "/login")
        auth.clear_cookie(resp, request, auth.COOKIE)
        return resp

    def either(exc_type):
        async def handler(request: Request, exc):
            if not _is_console(request):
                return await json_handlers[exc_type](request, exc)
            if isinstance(exc, CentralError):
                return _error_page(request, exc.status, exc.message_vi, exc.message_en,
                                   headers={"Connection": "close"} if exc.status == 413 else None)
            if isinstance(exc, StarletteHTTPException):
                if exc.status_code == 404:
                    err = auth.not_found()
                    return _error_page(request, 404, err.vi, err.en)
                return _error_page(request, exc.status_code, "Yêu cầu không hợp lệ.", str(exc.detail)[:200], headers=exc.headers)
            return _error_page(request, 400, "Yêu cầu không hợp lệ.", "Bad request.")
        return handler

    app.add_exception_handler(auth.ConsoleError, console_error)
    app.add_exception_handler(auth.LoginNeeded, login_needed)
    for exc_type, handler in json_handlers.items():
        if handler is not None:
            app.add_exception_handler(exc_type, either(exc_type))


class _FormSizeLimit:
    """A console POST whose declared size is over the form limit is refused with a page before
    ``central.limits.BodyLimits`` (which answers JSON) sees it; added after it, so it runs first."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PREFIX + "/"):
            for name, value in scope["headers"]:
                if name == b"content-length" and (not value.isdigit() or int(value) > limits.body_limit("POST", scope["path"])):
                    request = Request(scope, receive)
                    err = auth.too_large()
                    resp = _error_page(request, 413, err.vi, err.en, headers={"Connection": "close"})
                    await resp(scope, receive, send)
                    return
        await self.app(scope, receive, send)
