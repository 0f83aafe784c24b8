"""HTTP layer of the central system (FastAPI). Rules live in ``central.service``.

Kiosks authenticate with HTTP Basic (kiosk id + per-kiosk secret); staff/admin calls with a bearer
token (``[central].admin_token``). Every refusal is JSON with ``result``, ``error``, ``message_vi``
and ``message_en``; request bodies are never echoed back, because dossiers carry personal data.
"""
from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from central.service import Central, CentralError, KioskIdentity
from flows import dossier as dossier_schema

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
API_VERSION = "1.0.0"


# --- documented shapes (the dossier itself is validated in central.service) ----------------------
class HandlingUnit(BaseModel):
    province_code: str
    commune_code: str
    name: str


class Refusal(BaseModel):
    result: str = Field(description="rejected | unauthorized | missing_attachments")
    error: str
    message_vi: str
    message_en: str
    missing: list[str] | None = None
    fields: list[str] | None = None


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


class StatusAnswer(BaseModel):
    result: Literal["ok"]
    dossier_code: str
    status: Literal["received", "processing", "done", "returned"]
    procedure_code: str
    handling_unit: HandlingUnit
    received_at: str
    appointment_date: str | None
    updated_at: str
    history: list[StatusEvent]


class StatusChange(BaseModel):
    status: Literal["processing", "done", "returned"]
    note: str = ""


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


REFUSALS = {
    401: {"model": Refusal, "description": "unknown kiosk or wrong secret / admin token"},
    422: {"model": Refusal, "description": "invalid request (no values echoed)"},
}


def create_app(central: Central) -> FastAPI:
    app = FastAPI(
        title="Kiosk central system",
        version=API_VERSION,
        description="Reference central system for the commune public service centre kiosks (issue 8). "
        "Success is an explicit `result` in a JSON body, never a bare 200.",
    )
    basic = HTTPBasic(auto_error=False)
    bearer = HTTPBearer(auto_error=False)

    @app.exception_handler(CentralError)
    async def _central_error(_request, exc: CentralError):
        headers = {"WWW-Authenticate": "Basic"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request, _exc):
        # the kiosk hung up mid-request (network drop, kill): nothing was stored, it will retry
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request, exc: RequestValidationError):
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse(
            {"result": "rejected", "error": "invalid_request", "message_vi": "Yêu cầu không hợp lệ.",
             "message_en": "the request does not match the API", "fields": fields},
            status_code=422,
        )

    async def kiosk_auth(creds: HTTPBasicCredentials | None = Depends(basic)) -> KioskIdentity:
        ident = None
        if creds:  # the cache answers on the event loop; a first sight needs the database and PBKDF2
            ident = central.authenticate_cached(creds.username, creds.password) \
                or await run_in_threadpool(central.authenticate, creds.username, creds.password)
        if ident is None:
            raise CentralError(status=401, code="unauthorized", vi="Máy kiosk chưa được cấp quyền gửi hồ sơ.",
                               en="unknown kiosk or wrong secret")
        return ident

    def admin_auth(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        token = central.admin_token
        if not token or creds is None or not hmac.compare_digest(creds.credentials.encode(), token.encode()):
            raise CentralError(status=401, code="unauthorized", vi="Không có quyền quản trị.",
                               en="admin token missing or wrong (or admin API disabled)")

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict:
        return {"result": "ok"}

    @app.put("/api/v1/attachments/{sha256}", tags=["intake"], status_code=201, responses={200: {"model": AttachmentAnswer}, 413: {"model": Refusal}, **REFUSALS},
             openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def put_attachment(sha256: str, request: Request, kiosk: KioskIdentity = Depends(kiosk_auth)) -> AttachmentAnswer:
        """Store attachment bytes by their sha256 (idempotent: 201 stored, 200 already)."""
        data = await request.body()
        if central.pg is not None:  # PostgreSQL: one statement on the event loop (central.pg_intake)
            result = await central.put_attachment_async(sha256, data)
        else:
            result = await run_in_threadpool(central.put_attachment, sha256, data)
        return JSONResponse({"result": result, "sha256": sha256}, status_code=201 if result == "stored" else 200)

    # The intake path answers with JSONResponse directly and validates the document in
    # central.service: pydantic validation and serialisation here cost more CPU than the database
    # work. The models still document the shapes in the OpenAPI document.
    @app.post("/api/v1/dossiers", tags=["intake"], status_code=201, response_model=SubmitAnswer,
              responses={200: {"model": SubmitAnswer, "description": "replay of a known uuid"}, 409: {"model": Refusal, "description": "missing_attachments"}, **REFUSALS},
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": dossier_schema.openapi_schema()}}}})
    async def submit(request: Request, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Submit a dossier; idempotent on `uuid` (replay → 200 `already` with the same code and secret)."""
        try:
            body = await request.json()  # the raw document, exactly as the kiosk sent it
        except ValueError:
            raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.", en="the body is not JSON") from None
        if central.pg is not None:
            created, answer = await central.submit_async(kiosk, body)
        else:
            created, answer = await run_in_threadpool(central.submit, kiosk, body)
        return JSONResponse(answer, status_code=201 if created else 200)

    @app.get("/api/v1/dossiers/{code}", tags=["status"], response_model=StatusAnswer, responses={404: {"model": Refusal}})
    def dossier_status(code: str, secret: str = Query(..., description="the lookup secret printed on the receipt")):
        """Status by code + lookup secret. An unknown code and a wrong secret both answer 404."""
        answer = central.status(code, secret)
        if answer is None:
            raise CentralError(status=404, code="not_found", vi="Không tìm thấy hồ sơ với mã và mã tra cứu này.",
                               en="no dossier with this code and secret")
        return answer

    @app.post("/api/v1/dossiers/{code}/status", tags=["staff"], response_model=StatusChangeAnswer,
              responses={404: {"model": Refusal}, 409: {"model": Refusal}, **REFUSALS}, dependencies=[Depends(admin_auth)])
    def set_status(code: str, change: StatusChange):
        """Staff: move a dossier received → processing → done | returned."""
        return central.set_status(code, change.status, change.note)

    @app.get("/api/v1/flows", tags=["flows"], response_model=FlowsIndex)
    def flows_index():
        """The current flow bundle and its flows (id, version, sha256)."""
        return central.flows_index()

    @app.get("/api/v1/flows/bundles/{bundle_id}", tags=["flows"], responses={200: {"content": {"application/zip": {}}}, 304: {"description": "not modified"}, 404: {"model": Refusal}})
    def bundle(bundle_id: str, if_none_match: str | None = Header(default=None)):
        """The signed bundle bytes, with a strong ETag (its sha256); If-None-Match → 304."""
        found = central.bundle(bundle_id)
        if found is None:
            raise CentralError(status=404, code="not_found", vi="Không tìm thấy gói quy trình.", en="no such bundle")
        data, sha = found
        etag = f'"{sha}"'
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(data, media_type="application/zip", headers={"ETag": etag})

    @app.post("/api/v1/flows/bundles", tags=["flows"], status_code=201, response_model=BundleAnswer, dependencies=[Depends(admin_auth)],
              responses={200: {"model": BundleAnswer}, 503: {"model": Refusal}, **REFUSALS},
              openapi_extra={"requestBody": {"required": True, "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
    async def publish_bundle(request: Request, response: Response):
        """Admin: publish a signed bundle (verified with flows.bundles.verify_bundle against the trusted keys)."""
        data = await request.body()
        created, answer = await run_in_threadpool(central.publish_bundle, data)
        response.status_code = 201 if created else 200
        return answer

    @app.post("/api/v1/kiosks/{kiosk_id}/heartbeat", tags=["kiosks"], response_model=HeartbeatAnswer, responses=REFUSALS)
    def heartbeat(kiosk_id: str, beat: Heartbeat, kiosk: KioskIdentity = Depends(kiosk_auth)):
        """Device health (`common.health.Health.as_dict()` per device), outbox summary, versions."""
        if kiosk.kiosk_id != kiosk_id:
            raise CentralError(status=401, code="unauthorized", vi="Máy kiosk không khớp.", en="a kiosk may only report for itself")
        return central.heartbeat(kiosk, jsonable_encoder(beat))

    @app.get("/api/v1/kiosks", tags=["kiosks"], response_model=KioskList, dependencies=[Depends(admin_auth)], responses=REFUSALS)
    def list_kiosks():
        """Admin: every kiosk with its last heartbeat."""
        return {"result": "ok", "kiosks": central.list_kiosks()}

    return app


def openapi_text(app: FastAPI) -> str:
    """The OpenAPI document exactly as committed in central/openapi.json."""
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
