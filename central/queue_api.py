"""The kiosks' side of the centre's queue and of ratings over HTTP (issue 19): take a ticket,
reserve an offline block, report an offline ticket, ask the wait, send a rating.

Every route is kiosk-authenticated (HTTP Basic, ``deps.kiosk_auth``); the centre is the commune
the kiosk is registered in (409 ``no_centre`` without one). Bodies are read after the
credentials, bounded (``central.limits.read_json``) and checked against strict models that also
describe them in the OpenAPI document. The rules are ``central.queue.Queue`` and
``central.ratings.Ratings``.
"""
from __future__ import annotations

from typing import Literal

from fastapi import Depends, FastAPI, Path as PathParam, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from central import limits
from central.app import KIOSK, _json_body, _validated, refusals
from central.queue import BLOCK_MAX, BLOCK_MIN, Queue, centre_of
from central.ratings import LEVELS, MAX_REASON_CHARS, Ratings
from central.service import KioskIdentity

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_SERVICE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)$"
_COUNTER_OR_EMPTY = r"^([A-Za-z0-9][A-Za-z0-9_-]{0,15})?$"
_SERVICE_OR_EMPTY = r"^([a-z0-9][a-z0-9_-]{0,63})?$"
_DOSSIER_OR_EMPTY = r"^([A-Za-z0-9][A-Za-z0-9.-]{0,39})?$"


class TicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    uuid: str = Field(pattern=_UUID, description="chosen by the kiosk; the same request sent again keeps it")
    service_id: str = Field(pattern=_SERVICE, description="the field key of the ticket screen, e.g. ho-tich")
    service_name: str = Field(min_length=1, max_length=200, description="its Vietnamese name (stored on first use)")
    dossier_code: str = Field(default="", pattern=_DOSSIER_OR_EMPTY,
                              description="the dossier (or provisional TAM-… code) the citizen just filed, if any")


class Ticket(BaseModel):
    id: int
    uuid: str
    number: str = Field(description="prefix + sequence, e.g. A001")
    prefix: str
    seq: int
    service_id: str
    service_name: str
    day: str = Field(description="the Vietnam date the number belongs to")
    state: Literal["waiting", "called", "served", "no_show"]
    calls: int
    counter: str
    issued_at: str
    called_at: str | None
    finished_at: str | None
    people_ahead: int = Field(description="waiting tickets of this service that will be called before this one")
    estimated_wait_min: int
    origin: Literal["online", "offline"]
    dossier_code: str


class TicketAnswer(BaseModel):
    result: Literal["ok"]
    ticket: Ticket


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    service_id: str = Field(pattern=_SERVICE)
    service_name: str = Field(min_length=1, max_length=200)
    size: int = Field(default=20, ge=BLOCK_MIN, le=BLOCK_MAX, description="how many numbers to reserve")


class Block(BaseModel):
    service_id: str
    prefix: str
    day: str
    first: int
    last: int


class BlockAnswer(BaseModel):
    result: Literal["ok"]
    block: Block


class OfflineTicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    uuid: str = Field(pattern=_UUID)
    service_id: str = Field(pattern=_SERVICE)
    day: str = Field(pattern=_DAY, description="the day of the block the number came from")
    seq: int = Field(ge=1, le=1_000_000, description="the number within that day's sequence")
    issued_at: str = Field(pattern=_TIME, description="when the kiosk printed it (a time ahead of central's by more "
                                                      "than 10 minutes is replaced by central's)")


class WaitAnswer(BaseModel):
    result: Literal["ok"]
    people_ahead: int
    estimated_wait_min: int


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    uuid: str = Field(pattern=_UUID)
    level: Literal[LEVELS]  # type: ignore[valid-type]
    reason: str = Field(default="", max_length=MAX_REASON_CHARS, description="one of the kiosk's fixed reasons (never logged)")
    service_id: str = Field(default="", pattern=_SERVICE_OR_EMPTY)
    counter: str = Field(default="", pattern=_COUNTER_OR_EMPTY)
    rated_at: str = Field(pattern=_TIME)


class RatingAnswer(BaseModel):
    result: Literal["ok"]


SERVICE_PATH = PathParam(pattern=_SERVICE, description="the service's key, e.g. ho-tich")
_S409_CENTRE = "`no_centre`: the kiosk is registered without a commune, so it belongs to no centre"


def register(app: FastAPI, central, deps) -> None:
    queue, ratings = Queue(central), Ratings(central)

    @app.post("/api/v1/queue/tickets", tags=["queue"], status_code=201, response_model=TicketAnswer,
              responses={200: {"model": TicketAnswer, "description": "replay: this kiosk sent this uuid before"},
                         **refusals(*KIOSK, 409, s409=f"{_S409_CENTRE}; `uuid_conflict`: the uuid is another ticket's")},
              openapi_extra=_json_body(TicketRequest))
    async def take_ticket(request: Request, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: the next number of the centre's line for a service, with the people ahead and the
        estimated wait. Idempotent on `uuid`: 201, then 200 with the same ticket."""
        centre_of(kiosk)
        r = _validated(TicketRequest, await limits.read_json(request))
        created, ticket = await run_in_threadpool(queue.take_ticket_answer, kiosk, r.uuid, r.service_id, r.service_name,
                                                  r.dossier_code)
        return JSONResponse({"result": "ok", "ticket": ticket}, status_code=201 if created else 200)

    @app.post("/api/v1/queue/blocks", tags=["queue"], status_code=201, response_model=BlockAnswer,
              responses=refusals(*KIOSK, 409, s409=_S409_CENTRE), openapi_extra=_json_body(BlockRequest))
    async def reserve_block(request: Request, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: reserve `size` numbers of today's sequence, to print while central cannot be
        reached; online tickets skip them."""
        centre_of(kiosk)
        r = _validated(BlockRequest, await limits.read_json(request))
        block = await run_in_threadpool(queue.reserve_block, kiosk, r.service_id, r.service_name, r.size)
        return JSONResponse({"result": "ok", "block": block}, status_code=201)

    @app.post("/api/v1/queue/tickets/offline", tags=["queue"], status_code=201, response_model=TicketAnswer,
              responses={200: {"model": TicketAnswer, "description": "replay: this kiosk reported this uuid before"},
                         **refusals(*KIOSK, 409, s409=f"{_S409_CENTRE}; `not_in_block`: the number is in no block of "
                                    "this kiosk for that service and day; `number_taken`: reported before with another "
                                    "uuid; `uuid_conflict`")},
              openapi_extra=_json_body(OfflineTicketRequest))
    async def report_offline(request: Request, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: a ticket printed offline from one of its blocks joins the line (ordered by when it
        was printed). Idempotent on `uuid`."""
        centre_of(kiosk)
        r = _validated(OfflineTicketRequest, await limits.read_json(request))
        created, ticket = await run_in_threadpool(queue.report_offline_answer, kiosk, r.uuid, r.service_id, r.day, r.seq,
                                                  r.issued_at)
        return JSONResponse({"result": "ok", "ticket": ticket}, status_code=201 if created else 200)

    @app.get("/api/v1/queue/services/{service_id}/wait", tags=["queue"], response_model=WaitAnswer,
             responses=refusals(401, 403, 422, 429, 409, s409=_S409_CENTRE))
    def wait(service_id: str = SERVICE_PATH, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: how many wait for this service now and the estimated wait in minutes, before a number
        is taken (for a kiosk or sign that shows the waits; the shipped kiosk says them on the ticket itself)."""
        return {"result": "ok", **queue.wait_for(centre_of(kiosk), service_id)}

    @app.post("/api/v1/ratings", tags=["ratings"], status_code=201, response_model=RatingAnswer,
              responses={200: {"model": RatingAnswer, "description": "replay: this kiosk sent this uuid before"},
                         **refusals(*KIOSK, 409, s409=f"{_S409_CENTRE}; `uuid_conflict`: the uuid is another rating's")},
              openapi_extra=_json_body(RatingRequest))
    async def rate(request: Request, kiosk: KioskIdentity = Depends(deps.kiosk_auth)):
        """Kiosk: a citizen's rating of the visit (through the outbox). Idempotent on `uuid`."""
        centre_of(kiosk)
        r = _validated(RatingRequest, await limits.read_json(request))
        created = await run_in_threadpool(ratings.record, kiosk, r.uuid, r.level, r.reason, r.service_id, r.counter,
                                          r.rated_at)
        return JSONResponse({"result": "ok"}, status_code=201 if created else 200)
