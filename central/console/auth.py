"""Who is asking, and may they: the session cookie, the ``current_user`` dependency, form parsing
with its limits, and the CSRF and same-origin checks every POST passes.

The cookie is ``HttpOnly; SameSite=Strict; Path=/console`` and ``Secure`` whenever the request
came over TLS (uvicorn sets the scheme from the TLS socket, or from a trusted proxy's
X-Forwarded-Proto); ``CENTRAL_CONSOLE_SECURE_COOKIE=1`` makes it Secure always (a TLS proxy that
does not say so). Over plain http://127.0.0.1 (tests, a demo on one machine) it cannot be Secure:
the browser would never send it back.
"""
from __future__ import annotations

import os
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from central import limits
from central.console.accounts import Accounts, User, same_secret

COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # the login form's own CSRF token (no session exists yet)
COOKIE_PATH = "/console"
# A console form is a status, a note of at most 2,000 characters, ids: the limit central.limits
# gives every small request (16 KiB) holds a 2,000-character Vietnamese note percent-encoded
MAX_FORM_BYTES = limits.body_limit("POST", "/console/login")
MAX_FORM_FIELDS = 20
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class ConsoleError(Exception):
    """A refusal shown as a page (status, Vietnamese and English text)."""

    def __init__(self, status: int, vi: str, en: str):
        super().__init__(en)
        self.status, self.vi, self.en = status, vi, en


class LoginNeeded(Exception):
    """No valid session: the browser is sent to the login page."""


def not_found() -> ConsoleError:
    # also for what exists in another centre: a 404 does not confirm it exists
    return ConsoleError(404, "Không tìm thấy trang hoặc hồ sơ này.", "Not found.")


def accounts_of(request: Request) -> Accounts:
    return request.app.state.console_accounts


def address(request: Request) -> str:
    return request.client.host if request.client else ""


# A province admin (central/console/fleet.py) sees figures, not a centre's work: any other page is
# refused, and a dossier is "not found", as for anyone outside its commune
ADMIN_PATHS = ("/console/", "/console/fleet", "/console/intake", "/console/logout", "/console/procedures")
ADMIN_PREFIXES = ("/console/procedures/",)  # one procedure's page, the rollback form (central/console/procedures.py)


async def current_user(request: Request) -> User:
    """FastAPI dependency: the logged-in user, or the login page."""
    token = request.cookies.get(COOKIE)
    user = await run_in_threadpool(accounts_of(request).session, token) if token else None
    if user is None:
        raise LoginNeeded()
    if user.is_admin and request.url.path not in ADMIN_PATHS and not request.url.path.startswith(ADMIN_PREFIXES):
        if request.url.path.startswith("/console/dossiers/"):
            raise not_found()
        raise ConsoleError(403, "Trang này dành cho cán bộ của trung tâm. Quản trị tỉnh xem trang Tình trạng ki-ốt và "
                                "Số liệu tiếp nhận.", "Officers' page: a province admin has the fleet and intake pages.")
    return user


async def supervisor(request: Request) -> User:
    user = await current_user(request)
    if not user.is_supervisor:
        raise ConsoleError(403, "Trang này chỉ dành cho lãnh đạo trung tâm.", "Supervisors only.")
    return user


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https" or os.environ.get("CENTRAL_CONSOLE_SECURE_COOKIE") == "1"


def set_cookie(response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=cookie_secure(request))


def clear_cookie(response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict", secure=cookie_secure(request))


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


async def read_form(request: Request, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """An urlencoded form, read under its route's limit (``central.limits.body_limit``: 16 KiB but
    for the draft editor): one value per field, UTF-8, no NUL."""
    limit = limits.body_limit("POST", request.url.path)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise ConsoleError(415, "Biểu mẫu gửi lên không đúng định dạng.", "Expected an application/x-www-form-urlencoded form.")
    try:
        declared = int(request.headers.get("content-length", "0") or 0)
    except ValueError:
        declared = limit + 1
    if declared > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    try:
        text = bytes(body).decode("utf-8")
        if _BAD_ESCAPE.search(text):  # parse_qs would keep "%ZZ" as it is: a form no browser sends
            raise ValueError("bad percent escape")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict",
                          max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise ConsoleError(400, "Biểu mẫu gửi lên bị hỏng.", "Malformed form.") from None
    form: dict[str, str] = {}
    for key, values in fields.items():
        if len(values) != 1 or "\x00" in key or "\x00" in values[0]:
            raise ConsoleError(400, "Biểu mẫu gửi lên bị hỏng.", "Malformed form (repeated field or NUL).")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in values[0]):
            raise ConsoleError(400, "Biểu mẫu gửi lên bị hỏng.", "Malformed form.")
        form[key] = values[0]
    return form


def too_large(limit: int = MAX_FORM_BYTES) -> ConsoleError:
    return ConsoleError(413, "Biểu mẫu gửi lên quá lớn.", f"Form larger than {limit} bytes.")


def check_origin(request: Request) -> None:
    """The POST comes from a page of this server: Origin (or, without it, Referer) names this origin."""
    own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
    if not origin or origin.lower() != own:
        raise forbidden()


def check_csrf(request: Request, form: dict[str, str], expected: str) -> None:
    check_origin(request)
    if not expected or not same_secret(form.get("csrf", ""), expected):
        raise forbidden()


def forbidden() -> ConsoleError:
    return ConsoleError(403, "Yêu cầu bị từ chối vì không đến từ trang của hệ thống (hoặc trang đã quá cũ). "
                             "Vui lòng tải lại trang rồi thử lại.",
                        "Refused: the form did not come from this console, or the page is stale. Reload and try again.")


async def post_form(request: Request, user: User, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """The form of a logged-in user's POST, after the origin and CSRF checks."""
    check_origin(request)  # before reading a body from elsewhere
    form = await read_form(request, max_fields)
    check_csrf(request, form, user.csrf)
    return form
