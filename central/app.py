"""HTTP layer of the central system (FastAPI). Rules live in ``central.service``.

Kiosks authenticate with HTTP Basic (kiosk id + per-kiosk secret); staff/admin calls with a bearer
token (``[central].admin_token``). Every refusal is JSON with ``result``, ``error``, ``message_vi``
and ``message_en`` (FastAPI's own errors included); request bodies are never echoed back, because
dossiers carry personal data.

Order of work for every request (issue 17): the body's declared size against the endpoint's
limit (``central.limits.BodyLimits``), then the credentials from the headers (and, under mutual
TLS, the client certificate), then the body, read under the limit and parsed with bounded depth.
No endpoint declares a body parameter: FastAPI would read and parse such a body before the
authentication dependency runs.
"""
from __future__ import annotations

import hmac
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, Path as PathParam, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from central import help_confirm, limits
from central.auth import certificate_names, certificate_names_kiosk, parse_basic, parse_bearer
from central.service import (
    MAX_NOTE_CHARS,
    Central,
    CentralError,
    KioskIdentity,
    hash_mismatch,
)
from flows import dossier as dossier_schema

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
API_VERSION = "1.7.0"


# --- documented shapes (the dossier itself is validated in central.service) ----------------------
class HandlingUnit(BaseModel):
    province_code: str
    commune_code: str
    name: str


class Refusal(BaseModel):
    result: str = Field(description="rejected | unauthorized | missing_attachments | rate_limited")
    error: str
    message_vi: str
    message_en: str
    missing: list[str] | None = None
    fields: list[str] | None = None
    limit: int | None = Field(default=None, description="413: this endpoint's body limit in bytes")
    retry_after: int | None = Field(default=None, description="429: seconds to wait (as the Retry-After header)")


class SubmitAnswer(BaseModel):
    result: Literal["created", "already"]
    dossier_code: str = Field(description="<province 2d>.<commune 5d>-<YYMMDD>-<seq 4d+>")
    lookup_secret: str
    handling_unit: HandlingUnit
    appointment_date: str | None
    received_at: str


class AttachmentAnswer(BaseModel):
    result: Literal["stored", "already"]
    sha256: str


class StatusEvent(BaseModel):
    status: str
    at: str
    note: str


class PaymentState(BaseModel):
    """A dossier's fee payment (issue 22; central.payments)."""
    state: Literal["unpaid", "paid", "flagged"] = Field(
        description="`flagged`: the amount paid differs from the amount due; an officer looks at it")
    amount_due: int = Field(description="the dossier's fee, whole đồng (0: none)")
    amount_paid: int | None
    paid_at: str | None
    method: Literal["transfer", "counter"] | None = Field(
        default=None, description="how a paid or flagged fee came: a bank transfer, or paid at the counter (API 1.6)")
    amount_told_at_counter: bool = Field(
        default=False, description="the amount is not payable by transfer (set by the province, or not confirmed "
                                   "yet: `amount_due` 0); the officer at the counter tells it (API 1.6)")


class StatusAnswer(BaseModel):
    result: Literal["ok"]
    dossier_code: str
    status: Literal["received", "processing", "needs_papers", "ready", "returned", "done"] = Field(
        description="`done` is the word of API 1.0–1.2 for `ready`, kept in dossiers set before")
    provisional_code: str | None = Field(default=None, description="the TAM-… code of the provisional receipt, if any")
    procedure_code: str
    handling_unit: HandlingUnit
    received_at: str
    appointment_date: str | None
    updated_at: str
    history: list[StatusEvent]
    payment: PaymentState | None = Field(default=None, description="the fee payment (API 1.4)")


class StatusChange(BaseModel):
    status: Literal["processing", "needs_papers", "ready", "returned", "done"] = Field(
        description="`done`: the older word for `ready` (still accepted from processing)")
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class StatusChangeAnswer(BaseModel):
    result: Literal["accepted"]
    dossier_code: str
    status: str
    at: str


class FlowEntry(BaseModel):
    id: str | None
    version: int | str | None
    sha256: str | None


class FlowsIndex(BaseModel):
    result: Literal["ok"]
    bundle_id: str | None
    sha256: str | None
    flows: list[FlowEntry]


class BundleAnswer(BaseModel):
    result: Literal["created", "already"]
    bundle_id: str
    sha256: str


class Rollback(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="why (kept in the audit trail)")


class RollbackAnswer(BaseModel):
    result: Literal["accepted", "already"]
    bundle_id: str
    sha256: str
    previous_bundle_id: str | None
    at: str


class BundleSigner(BaseModel):
    key_id: str
    name: str
    role: str


class BundleEvent(BaseModel):
    at: str
    action: Literal["publish", "rollback"]
    bundle_id: str
    previous_bundle_id: str | None
    reason: str
    actor: str
    signers: list[BundleSigner] = Field(default_factory=list,
                                        description="who signed a published bundle (the signatures that counted)")


class BundleHistory(BaseModel):
    result: Literal["ok"]
    events: list[BundleEvent]


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="allow")
    devices: dict[str, dict[str, Any]] = {}
    outbox: dict[str, Any] = {}
    versions: dict[str, Any] = {}


class HeartbeatAnswer(BaseModel):
    result: Literal["accepted"]
    received_at: str


class KioskInfo(BaseModel):
    kiosk_id: str
    province_code: str
    commune_code: str
    registered_at: str
    last_heartbeat_at: str | None
    last_heartbeat: dict[str, Any] | None


class KioskList(BaseModel):
    result: Literal["ok"]
    kiosks: list[KioskInfo]


# --- help calls (issue 18): a citizen asks for a staff member; nothing personal ----------------------
_UUID_RX = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_SLUG_OR_EMPTY = r"^([a-z0-9][a-z0-9_-]{0,62})?$"  # flow and step ids (flows/schema), empty off a procedure
_ISO_TIME_OR_EMPTY = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z))?$"


class HelpCallRequest(BaseModel):
    """A citizen touched "Gọi cán bộ hỗ trợ". Strict, and no other field is accepted: a call must
    never carry a name, an ID number or an answer."""

    model_config = ConfigDict(extra="forbid", strict=True)
    uuid: str = Field(pattern=_UUID_RX, description="chosen by the kiosk (lowercase); the same call sent again keeps it")
    flow_id: str = Field(default="", pattern=_SLUG_OR_EMPTY, description="the procedure the citizen is in (empty: none yet)")
    step_id: str = Field(default="", pattern=_SLUG_OR_EMPTY, description="the step of that procedure (empty: none)")
    step_title: str = Field(default="", max_length=200, description="the step's title as the screen shows it")
    screen: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="the kiosk screen (home, picker, step-form…)")
    language: Literal["vi", "en"] = Field(description="the screen's language: which language to greet the citizen in")
    waiting_s: int = Field(ge=0, le=86400, description="seconds since the visit began, when the citizen asked")
    called_at: str = Field(default="", pattern=_ISO_TIME_OR_EMPTY,
                           description="when the citizen asked, by the kiosk's clock (a call its outbox kept while "
                                       "offline); empty: now. A time more than 10 minutes ahead of central's is not believed")


class HelpCallAnswer(BaseModel):
    result: Literal["created", "already", "ok", "accepted"]
    uuid: str
    state: Literal["open", "acknowledged", "cancelled"]
    called_at: str
    received_at: str
    acknowledged_at: str | None
    cancelled_at: str | None


class StaffHelpCall(BaseModel):
    uuid: str
    kiosk_id: str
    province_code: str
    commune_code: str
    flow_id: str
    step_id: str
    step_title: str
    screen: str
    language: str
    called_at: str
    received_at: str
    state: Literal["open", "acknowledged", "cancelled"]
    since_call_s: int = Field(description="seconds since the citizen asked (until acknowledged or cancelled)")
    waiting_s: int = Field(description="seconds the citizen has been at the kiosk: the visit's length when they asked "
                                       "plus since_call_s")
    acknowledged_at: str | None
    acknowledged_by: str | None
    cancelled_at: str | None
    confirmed_at: str | None = Field(default=None, description="when an officer's code confirmed the citizen's identity")
    confirmed_by: str | None = Field(default=None, description="the account the confirming code was issued to")


class HelpCallList(BaseModel):
    result: Literal["ok"]
    calls: list[StaffHelpCall]


class HelpCallAck(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    by: str = Field(min_length=1, max_length=100, description="who goes to the citizen: a name or a desk (\"Quầy 2\")")


class HelpCallAckAnswer(StaffHelpCall):
    result: Literal["accepted"]
    confirm_code: str = Field(description="6 digits, shown to the staff member only: typed at the kiosk, it confirms "
                                          "the citizen's identity in `by`'s name (POST /api/v1/help-calls/{uuid}/confirm)")
    confirm_expires_at: str


class HelpCallConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    code: str = Field(pattern=r"^[0-9]{6}$", description="the 6 digits the officer typed at the kiosk")


class HelpCallConfirmAnswer(BaseModel):
    result: Literal["confirmed"]
    uuid: str
    confirmed_by: str = Field(description="the account (or, through the staff API, the `by`) the code was issued to")
    confirmed_at: str


_REFUSAL_TEXT = {
    400: "the request is well formed but its value is wrong (a confirmation code that does not match)",
    401: "credentials missing, malformed or wrong (kiosk HTTP Basic, admin bearer token)",
    403: "authenticated, but not for this: a heartbeat for another kiosk, or (mutual TLS) a client certificate "
         "that does not name the kiosk id",
    404: "no such dossier (code and secret), bundle or help call",
    409: "the request conflicts with what is stored",
    413: "the body is larger than this endpoint's limit (`limit` in the body): attachments "
         f"{limits.MAX_ATTACHMENT_BYTES} bytes, dossiers {limits.MAX_DOSSIER_BYTES}, heartbeats "
         f"{limits.MAX_HEARTBEAT_BYTES}, bundles {limits.MAX_BUNDLE_BYTES}, anything else {limits.MAX_SMALL_BYTES}; "
         "refused before the body is read when Content-Length says so (the connection is then closed)",
    422: "invalid request (no values echoed): `invalid_json` for a body that is not UTF-8 JSON, nested more than "
         f"{limits.MAX_JSON_DEPTH} levels or holding a lone surrogate or NUL; `invalid_request` with `fields` otherwise",
    429: "too many failed authentications from this address or for this kiosk id: wait `Retry-After` seconds",
    503: "the bundle verifier (flows.bundles) is not installed: nothing unverified is stored",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds until the next try may succeed", "schema": {"type": "integer"}}}


def refusals(*statuses: int, **overrides: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the refusals an endpoint can give (all one shape)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": Refusal, "description": overrides.get(f"s{status}", _REFUSAL_TEXT[status])}
        if status == 429:
            entry["headers"] = _RETRY_AFTER
        out[status] = entry
    return out


KIOSK = (401, 403, 413, 422, 429)  # what any kiosk-authenticated call may answer
ADMIN = (401, 413, 422, 429)


# Path parameters as the server checks them, so the document is no looser than the server
SHA256_PATH = PathParam(pattern=r"^[0-9a-f]{64}$", description="lowercase hex sha256 of the bytes")
CODE_PATH = PathParam(pattern=r"^[0-9]{2}\.[0-9]{5}-[0-9]{6}-[0-9]{4,}$", description="dossier code, e.g. 01.00004-261123-0007")
LOOKUP_CODE_PATH = PathParam(pattern=r"^([0-9]{2}\.[0-9]{5}-[0-9]{6}-[0-9]{4,}|TAM-[A-Z0-9]{1,10}-[0-9]{4,})$",
                             description="dossier code, e.g. 01.00004-261123-0007, or the provisional receipt's TAM-BADINH01-0007")
BUNDLE_PATH = PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
KIOSK_PATH = PathParam(pattern=r"^[A-Za-z0-9._-]{3,64}$")
CALL_PATH = PathParam(pattern=_UUID_RX, description="the help call's uuid")


def dossier_request_schema() -> dict:
    """The dossier schema (flows.dossier) as the OpenAPI request body: the same schema the server
    and the kiosk check, so the document is no looser than the server."""
    return dossier_schema.openapi_schema()


def _json_body(model: type[BaseModel]) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _validated(model: type[BaseModel], doc: Any):
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        fields = [".".join(str(p) for p in e.get("loc", ())) or "body" for e in exc.errors()]
        raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                           en="the request does not match the API", fields=fields[:50]) from None


class _Basic(HTTPBasic):
    """HTTP Basic as the OpenAPI document names it; parsing is ``central.auth.parse_basic``'s, so a
    malformed header gets the documented refusal (FastAPI's own class answers "Not authenticated")."""

    async def __call__(self, request: Request) -> tuple[str, str] | None:  # type: ignore[override]
        return parse_basic(request.headers.get("authorization"))


class _Bearer(HTTPBearer):
    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return parse_bearer(request.headers.get("authorization"))


def _unauthorized(en: str, vi: str = "Máy kiosk chưa được cấp quyền gửi hồ sơ.") -> CentralError:
    return CentralError(status=401, code="unauthorized", vi=vi, en=en)


def _rate_limited(seconds: int) -> CentralError:
    return CentralError(status=429, code="rate_limited", result="rate_limited", retry_after=seconds,
                        vi=f"Xác thực sai quá nhiều lần; vui lòng thử lại sau {seconds} giây.",
                        en=f"too many failed authentications; try again in {seconds} s")


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _certificate_names(request: Request) -> set[str] | None:
    """Names of the TLS client certificate (``central.server.PeerCertProtocol`` puts it in the
    scope), or None when the server did not report one."""
    tls = (request.scope.get("extensions") or {}).get("tls")
    if not tls or "peercert" not in tls:
        return None
    return certificate_names(tls["peercert"])


def create_app(central: Central) -> FastAPI:
    app = FastAPI(
        title="Kiosk central system",
        version=API_VERSION,
        description="Reference central system for the commune public service centre kiosks (issue 8). "
        "Success is an explicit `result` in a JSON body, never a bare 200. Every refusal has the `Refusal` shape.",
        # The interactive pages load their scripts from a CDN: never served. The JSON document only
        # when configured (Central.public_openapi); central/openapi.json is the same document.
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json" if central.public_openapi else None,
    )
    app.add_middleware(limits.BodyLimits)
    basic = _Basic(auto_error=False, scheme_name="HTTPBasic")
    bearer = _Bearer(auto_error=False, scheme_name="HTTPBearer")

    @app.exception_handler(CentralError)
    async def _central_error(_request, exc: CentralError):
        headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else None
        if exc.status == 429:
            headers = {"Retry-After": str(exc.extra.get("retry_after", 1))}
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        # FastAPI's and Starlette's own refusals (unknown path, wrong method…) in the documented shape
        status = exc.status_code
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(status, "rejected")
        body = CentralError(status=status, code=code, vi="Yêu cầu không hợp lệ.", en=str(exc.detail)[:200]).body()
        headers = exc.headers
        if status == 405:
            # Starlette's Allow names the methods of the first route on the path only; a path with
            # a route per method (/api/v1/help-calls: POST for kiosks, GET for staff) has more
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request, _exc):
        # the kiosk hung up mid-request (network drop, kill): nothing was stored, it will retry
        body = CentralError(status=400, code="disconnected", vi="Mất kết nối khi đang nhận dữ liệu.",
                            en="the client closed the connection before the body was complete").body()
        return JSONResponse(body, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, exc: RequestValidationError):
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse(
            {"result": "rejected", "error": "invalid_request", "message_vi": "Yêu cầu không hợp lệ.",
             "message_en": "the request does not match the API", "fields": fields[:50]},
            status_code=422,
        )

    async def kiosk_auth(request: Request, creds: tuple[str, str] | None = Depends(basic)) -> KioskIdentity:
        """Headers only: no body has been read yet, and none is for a refused request."""
        addr = _address(request)
        wait = central.addr_limiter.retry_after(addr)
        if wait:
            raise _rate_limited(wait)
        if creds is None:  # missing or malformed: costs no PBKDF2, so not counted
            raise _unauthorized("credentials missing or malformed (HTTP Basic kiosk_id:secret)")
        kiosk_id, secret = creds
        if central.bind_client_certificates:
            names = _certificate_names(request)
            if names is None or not certificate_names_kiosk(names, kiosk_id):
                raise CentralError(status=403, code="certificate_mismatch",
                                   vi="Chứng thư số của máy không khớp với mã máy kiosk.",
                                   en="the TLS client certificate does not name this kiosk id (CN or DNS subjectAltName)")
        # the cache answers on the event loop; a kiosk with its right secret is never held back
        ident = central.authenticate_cached(kiosk_id, secret)
        if ident is not None:
            return ident
        wait = central.kiosk_limiter.retry_after(kiosk_id)
        if wait:
            raise _rate_limited(wait)
        ident = await run_in_threadpool(central.authenticate, kiosk_id, secret)
        if ident is None:
            central.addr_limiter.failed(addr)
            central.kiosk_limiter.failed(kiosk_id)
            raise _unauthorized("unknown kiosk or wrong secret")
        central.kiosk_limiter.succeeded(kiosk_id)
        return ident

    async def admin_auth(request: Request, token: str | None = Depends(bearer)) -> str:
        """Returns who acted, for the audit trail ("admin API from <address>")."""
        addr = _address(request)
        wait = central.addr_limiter.retry_after(addr)
        if wait:
            raise _rate_limited(wait)
        expected = central.admin_token
        if not expected or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
            if expected and token is not None:
                central.addr_limiter.failed(addr)
            raise _unauthorized("admin token missing or wrong (or admin API disabled)", vi="Không có quyền quản trị.")
        return f"admin API from {addr}"

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict:
        return {"result": "ok"}

    @app.put("/api/v1/attachments/{sha256}", tags=["intake"], status_code=201, response_model=AttachmentAnswer,
             responses={200: {"model": AttachmentAnswer, "description": "this kiosk sent these bytes before"},
                        **refusals(*KIOSK, s422="`bad_hash` (the path is no lowercase sha256), `hash_mismatch`")},
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def put_attachment(request: Request, sha256: str = SHA256_PATH, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Store attachment bytes by their sha256: 201 stored, 200 already (when this kiosk sent them
        before). The bytes are streamed to a temporary file and hashed on the way in."""
        central.check_attachment_path(sha256)  # before reading anything
        spool, size, digest = await limits.spool_body(request)
        with spool:
            if digest != sha256:
                raise hash_mismatch()
            data = spool.read() if size <= limits.SPOOL_IN_MEMORY else await run_in_threadpool(spool.read)
        if central.pg is not None:  # PostgreSQL: one statement on the event loop (central.pg_intake)
            result = await central.put_attachment_async(sha256, data, kiosk.kiosk_id, digest=digest)
        else:
            result = await run_in_threadpool(central.put_attachment, sha256, data, kiosk.kiosk_id, digest=digest)
        return JSONResponse({"result": result, "sha256": sha256}, status_code=201 if result == "stored" else 200)

    # The intake path answers with JSONResponse directly and validates the document in
    # central.service: pydantic validation and serialisation here cost more CPU than the database
    # work. The models still document the shapes in the OpenAPI document.
    @app.post("/api/v1/dossiers", tags=["intake"], status_code=201, response_model=SubmitAnswer,
              responses={200: {"model": SubmitAnswer, "description": "replay: the same kiosk sent this uuid with the same content"},
                         **refusals(*KIOSK, 409, s409="`missing_attachments` (+ `missing`: this kiosk's own hashes still to upload); "
                                    "`uuid_conflict`: the uuid is bound to another kiosk or to other content (no code or secret)",
                                    s422="`invalid_dossier` (+ `fields`), `invalid_json`, `unknown_unit`, `wrong_province`, `kiosk_mismatch`")},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": dossier_request_schema()}}}})
    async def submit(request: Request, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Submit a dossier; idempotent on `uuid` for the kiosk that sent it (replay of the same content →
        200 `already` with the same code and secret)."""
        body = await limits.read_json(request)  # the raw document, exactly as the kiosk sent it
        if central.pg is not None:
            created, answer = await central.submit_async(kiosk, body)
        else:
            created, answer = await run_in_threadpool(central.submit, kiosk, body)
        return JSONResponse(answer, status_code=201 if created else 200)

    @app.get("/api/v1/dossiers/{code}", tags=["status"], response_model=StatusAnswer, responses=refusals(404, 422))
    def dossier_status(code: str = LOOKUP_CODE_PATH, secret: str = Query(..., description="the lookup secret printed on the receipt")):
        """Status by code + lookup secret (or the provisional receipt's TAM code + its secret: the
        answer names the real code). An unknown code and a wrong secret both answer 404."""
        answer = central.status(code, secret)
        if answer is None:
            raise CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ với mã và mã tra cứu này.",
                               en="no dossier with this code and secret")
        return answer

    @app.post("/api/v1/dossiers/{code}/status", tags=["staff"], response_model=StatusChangeAnswer,
              responses=refusals(*ADMIN, 404, 409, s409="`bad_transition`"), openapi_extra=_json_body(StatusChange))
    async def set_status(request: Request, code: str = CODE_PATH, _actor: str = Depends(admin_auth)):
        """Staff: move a dossier received → processing → needs_papers → ready → returned (see central.service.TRANSITIONS)."""
        change = _validated(StatusChange, await limits.read_json(request))
        return await run_in_threadpool(lambda: central.set_status(code, change.status, change.note, by="admin API"))

    async def optional_kiosk(request: Request, creds: tuple[str, str] | None = Depends(basic)) -> KioskIdentity | None:
        """A kiosk that sends its credentials is authenticated (wrong ones are refused as anywhere);
        a request without any is served as anonymous."""
        if request.headers.get("authorization") is None:
            return None
        return await kiosk_auth(request, creds)

    # authentication is optional here: OpenAPI's empty requirement {} says so
    @app.get("/api/v1/flows", tags=["flows"], response_model=FlowsIndex, responses=refusals(401, 429),
             openapi_extra={"security": [{}]})  # merged after the HTTPBasic requirement
    async def flows_index(kiosk: KioskIdentity | None = Depends(optional_kiosk)):
        """The flow bundle to run and its flows (id, version, sha256): the newest for every kiosk; a
        kiosk that authenticates and is in its province's pilot group gets a newer pilot bundle first
        (staged rollout, issue 20)."""
        return await run_in_threadpool(central.flows_index, kiosk)

    @app.get("/api/v1/flows/history", tags=["flows"], response_model=BundleHistory, responses=refusals(401, 429))
    def bundle_history(_actor: str = Depends(admin_auth)):
        """Admin: every publish and rollback of the current bundle, oldest first."""
        return {"result": "ok", "events": central.bundle_history()}

    @app.get("/api/v1/flows/bundles/{bundle_id}", tags=["flows"],
             responses={200: {"content": {"application/zip": {}}}, 304: {"description": "not modified"}, **refusals(404, 422)})
    def bundle(bundle_id: str = BUNDLE_PATH, if_none_match: str | None = Header(default=None)):
        """The signed bundle bytes, with a strong ETag (its sha256); If-None-Match → 304."""
        found = central.bundle(bundle_id)
        if found is None:
            raise CentralError(status=404, code="not_found", vi="Không tìm thấy gói quy trình.", en="no such bundle")
        data, sha = found
        etag = f'"{sha}"'
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(data, media_type="application/zip", headers={"ETag": etag})

    @app.post("/api/v1/flows/bundles", tags=["flows"], status_code=201, response_model=BundleAnswer,
              responses={200: {"model": BundleAnswer}, **refusals(*ADMIN, 409, 503, s422="`bad_bundle` (verification failed)",
                                                                  s409="`bundle_older`: older than the current bundle, or a flow "
                                                                  "older than a version published before (use rollback)")},
              openapi_extra={"requestBody": {"required": True, "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
    async def publish_bundle(request: Request, response: Response, actor: str = Depends(admin_auth)):
        """Admin: publish a signed bundle (verified with flows.bundles.verify_bundle against the trusted keys).
        Bundles only move forward: an older one is refused (409 `bundle_older`)."""
        spool, size, _digest = await limits.spool_body(request)
        with spool:
            data = spool.read() if size <= limits.SPOOL_IN_MEMORY else await run_in_threadpool(spool.read)
        created, answer = await run_in_threadpool(lambda: central.publish_bundle(data, actor=actor))
        response.status_code = 201 if created else 200
        return answer

    @app.post("/api/v1/flows/bundles/{bundle_id}/rollback", tags=["flows"], response_model=RollbackAnswer,
              responses=refusals(*ADMIN, 404), openapi_extra=_json_body(Rollback))
    async def rollback_bundle(request: Request, bundle_id: str = BUNDLE_PATH, actor: str = Depends(admin_auth)):
        """Admin: make a stored bundle current again, with a reason (kept with who and when in
        `/api/v1/flows/history`). `already` when it is current."""
        change = _validated(Rollback, await limits.read_json(request))
        _created, answer = await run_in_threadpool(lambda: central.rollback_bundle(bundle_id, change.reason, actor=actor))
        return answer

    @app.post("/api/v1/kiosks/{kiosk_id}/heartbeat", tags=["kiosks"], response_model=HeartbeatAnswer,
              responses=refusals(*KIOSK), openapi_extra=_json_body(Heartbeat))
    async def heartbeat(request: Request, kiosk_id: str = KIOSK_PATH, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Device health (`common.health.Health.as_dict()` per device), outbox summary, versions."""
        if kiosk.kiosk_id != kiosk_id:  # before reading the body
            raise CentralError(status=403, code="wrong_kiosk", vi="Máy kiosk không khớp.", en="a kiosk may only report for itself")
        beat = _validated(Heartbeat, await limits.read_json(request))
        return await run_in_threadpool(central.heartbeat, kiosk, beat.model_dump())

    # --- help calls: the kiosk side (its own calls only), then the staff side --------------------------
    @app.post("/api/v1/help-calls", tags=["help calls"], status_code=201, response_model=HelpCallAnswer,
              responses={200: {"model": HelpCallAnswer, "description": "replay: this kiosk sent this uuid with the same content"},
                         **refusals(*KIOSK, 409, s409="`uuid_conflict`: the uuid is bound to another call (another kiosk's, "
                                    "or other content)", s422="`invalid_request` (+ `fields`): a field out of the schema, "
                                    "or any other field (a call carries nothing personal); `invalid_json`")},
              openapi_extra=_json_body(HelpCallRequest))
    async def create_help_call(request: Request, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Kiosk: a citizen asks for a staff member. Idempotent on `uuid` for the kiosk that sent it
        (its outbox sends a call kept while offline, perhaps twice): 201 `created`, then 200 `already`."""
        call = _validated(HelpCallRequest, await limits.read_json(request))
        created, answer = await run_in_threadpool(central.create_help_call, kiosk, call.model_dump())
        return JSONResponse(answer, status_code=201 if created else 200)

    @app.get("/api/v1/help-calls/{uuid}", tags=["help calls"], response_model=HelpCallAnswer,
             responses=refusals(*KIOSK, 404, s404="no call of this kiosk with this uuid (another kiosk's call is 404 too)"))
    def help_call_state(uuid: str = CALL_PATH, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Kiosk: the state of one of its own calls: open, acknowledged (a staff member is on the way:
        `acknowledged_at`) or cancelled."""
        return central.help_call_for_kiosk(kiosk, uuid)

    @app.post("/api/v1/help-calls/{uuid}/cancel", tags=["help calls"], response_model=HelpCallAnswer,
              responses=refusals(*KIOSK, 404, s404="no call of this kiosk with this uuid"))
    def cancel_help_call(uuid: str = CALL_PATH, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Kiosk: the citizen no longer needs help (or the visit ended). `accepted`, or `already`
        when it was cancelled before. No body."""
        return central.cancel_help_call(kiosk, uuid)

    @app.post("/api/v1/help-calls/{uuid}/confirm", tags=["help calls"], response_model=HelpCallConfirmAnswer,
              responses=refusals(*KIOSK, 400, 404, 409, s400="`wrong_code` (+ `tries_left`)",
                                 s404="no call of this kiosk with this uuid",
                                 s409="`no_code` (not acknowledged with a code yet), `code_expired`, `code_used`, "
                                 "`code_locked` (5 wrong codes: the officer takes a new one)"),
              openapi_extra=_json_body(HelpCallConfirm))
    async def confirm_help_call(request: Request, uuid: str = CALL_PATH, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Kiosk: the officer who came typed their one-time code; right, the identity check of the visit
        is confirmed in that officer's name (`confirmed_by`, written into the dossier). Issue 21."""
        body = _validated(HelpCallConfirm, await limits.read_json(request))
        return await run_in_threadpool(help_confirm.confirm, central.engine, kiosk, uuid, body.code)

    @app.get("/api/v1/help-calls", tags=["help calls"], response_model=HelpCallList, responses=refusals(401, 422, 429))
    def list_help_calls(_actor: str = Depends(admin_auth),
                        commune: str | None = Query(default=None, pattern=r"^[0-9]{5}$",
                                                    description="only the kiosks of this commune (centre)"),
                        state: Literal["open", "acknowledged", "cancelled", "all"] = Query(default="open"),
                        limit: int = Query(default=200, ge=1, le=1000)):
        """Staff: help calls newest first (open ones by default), with the kiosk, the procedure step and
        how long the citizen has been waiting."""
        return {"result": "ok", "calls": central.list_help_calls(commune_code=commune, state=state, limit=limit)}

    @app.post("/api/v1/help-calls/{uuid}/ack", tags=["help calls"], response_model=HelpCallAckAnswer,
              responses=refusals(*ADMIN, 404, 409, s409="`already_acknowledged` (with who and when) or `cancelled` "
                                 "(the citizen cancelled it): only an open call can be acknowledged"),
              openapi_extra=_json_body(HelpCallAck))
    async def acknowledge_help_call(request: Request, uuid: str = CALL_PATH, _actor: str = Depends(admin_auth)):
        """Staff: "I am on my way" (the kiosk then shows "Cán bộ đang đến"). `by` says who."""
        ack = _validated(HelpCallAck, await limits.read_json(request))
        answer = await run_in_threadpool(central.acknowledge_help_call, uuid, ack.by)
        code = await run_in_threadpool(help_confirm.issue_code, central.engine, uuid, ack.by)
        return {**answer, "confirm_code": code["code"], "confirm_expires_at": code["expires_at"]}

    @app.get("/api/v1/kiosks", tags=["kiosks"], response_model=KioskList, responses=refusals(401, 429))
    def list_kiosks(_actor: str = Depends(admin_auth)):
        """Admin: every kiosk with its last heartbeat."""
        return {"result": "ok", "kiosks": central.list_kiosks()}

    deps = Deps(kiosk_auth=kiosk_auth, admin_auth=admin_auth)
    for name in FEATURES:
        importlib.import_module(name).register(app, central, deps)
    return app


@dataclass(frozen=True)
class Deps:
    """What a feature module's routes depend on: the kiosk's HTTP Basic check (returns a
    ``KioskIdentity``) and the admin token's (returns who acted)."""
    kiosk_auth: Any
    admin_auth: Any


#: the modules that add their own routes: each has ``register(app, central, deps)``; one line here
#: per feature, so that app.py stays the kiosk API's core and each feature is one place
FEATURES: tuple[str, ...] = (
    "central.queue_api",
    "central.display",
    "central.counter_rating",
    "central.console.routes",
    "central.payments_api",
)


def _allowed_methods(request: Request) -> str:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def openapi_text(app: FastAPI) -> str:
    """The OpenAPI document exactly as committed in central/openapi.json."""
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
