"""The rating tablet at a counter (issue 19): a small screen facing the citizen at each counter
("màn hình đánh giá mức độ hài lòng tại quầy"). When the officer marks a ticket served there, the
tablet asks "Quý khách có hài lòng không?" with four big buttons; the answer is stored with the
counter and the ticket's service (central.ratings.Ratings.record_at_counter).

Routes (public, like the waiting-room display: a tablet has no login; none is part of the kiosk
JSON API, so none is in central/openapi.json):

- ``GET /rate/{centre}/{counter}``: the page (HTML; its script and style are the files below, no CDN,
  the display's CSP).
- ``GET /rate/{centre}/{counter}/served?since=<event id>&wait=<s>``: the newest ticket served at
  this counter after ``since`` and not rated yet, or ``null``; with ``wait`` (≤ 25 s) a long-poll
  woken by the display's watcher (central.display.CallWatcher: one query per tick for every
  waiting page of every centre, whatever it waits for).
- ``POST /rate/{centre}/{counter}``: ``{"ticket_id": 12, "level": "good"}`` as JSON, or the same as
  a form (``ticket_id=12&level=good``; the answer is then a small page). The body is bounded by
  central.limits (16 KiB, MAX_SMALL_BYTES).
- ``GET /rate/static/{rate.js,rate.css}``.

The guard against abuse from the centre's network: anyone who can open the page can tap it, so
the rule is one rating per served ticket, for a ticket served at that counter in the last 10
minutes, enforced in the transaction and by the ``ratings.ticket_id`` unique index. A prankster
can at worst take the place of the real citizen's rating of a recent ticket, never add ratings.
Nothing personal is shown or stored: the ticket's number, the counter, the service, the level.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import select

from central import db, limits, routing
from central.display import CENTRE_RX, MAX_WAIT_S, Display, _page, static_file
from central.queue import COUNTER_RX
from central.ratings import LEVEL_WORDS, LEVELS, RATE_WINDOW, Ratings
from central.service import Central, CentralError

log = logging.getLogger(__name__)

QUESTION_S = 60  # the question stays this long on the tablet, then the idle screen
FRESH_ON_OPEN_S = 60  # a tablet (re)opened shortly after a serve still asks about that ticket
STATIC_TYPES = {"rate.js": "text/javascript; charset=utf-8", "rate.css": "text/css; charset=utf-8"}


def _unknown() -> CentralError:
    return CentralError(status=404, code="unknown_counter", vi="Không có quầy này ở trung tâm phục vụ hành chính công.",
                        en="no such counter at a public service centre known here")


class CounterRating:
    def __init__(self, central: Central, display: Display):
        self.central, self.display = central, display
        self.ratings = Ratings(central)

    def counter_name(self, centre: str, counter: str) -> str | None:
        """The counter's name, or None when the centre or the counter is not known here."""
        if not CENTRE_RX.fullmatch(centre) or not COUNTER_RX.fullmatch(counter):
            return None
        with self.central.engine.connect() as conn:
            return conn.execute(select(db.queue_counters.c.name).where(db.queue_counters.c.centre == centre,
                                                                       db.queue_counters.c.counter == counter)).scalar()

    def latest(self, centre: str) -> int:
        return self.display.latest_ids([centre]).get(centre, 0)

    def opening_since(self, centre: str, counter: str) -> int:
        """Where the page's first poll starts: just before a ticket served here in the last minute
        and not rated (a tablet reloaded right after the serve still asks), else the newest event."""
        latest = self.latest(centre)
        fresh = self.ratings.awaiting(centre, counter, 0, window=timedelta(seconds=FRESH_ON_OPEN_S))
        return fresh["event_id"] - 1 if fresh else latest


def _level_buttons() -> list[dict]:
    return [{"level": k, "vi": LEVEL_WORDS[k][0], "en": LEVEL_WORDS[k][1]} for k in LEVELS]


async def _parse(request: Request) -> tuple[Any, Any, bool]:
    """(ticket_id, level, is_form) from a JSON or form body; 415/422 otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await limits.read_body(request)
    if kind == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                               en="the form is not UTF-8 key=value pairs") from None
        raw = fields.get("ticket_id", [""])[0]
        ticket = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else raw
        return ticket, fields.get("level", [""])[0], True
    if kind == "application/json":
        doc = limits.parse_json(body)
        if not isinstance(doc, dict):
            raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                               en="the body must be a JSON object {ticket_id, level}")
        return doc.get("ticket_id"), doc.get("level"), False
    raise CentralError(status=415, code="unsupported_media_type", vi="Yêu cầu không hợp lệ.",
                       en="send application/json or application/x-www-form-urlencoded")


def register(app: FastAPI, central: Central, deps: Any) -> None:  # noqa: ARG001 (no authentication: public)
    display = getattr(app.state, "display", None) or Display(central)
    rating = CounterRating(central, display)

    @app.get("/rate/static/{name}", include_in_schema=False)
    def rate_static(name: str):
        return static_file(name, STATIC_TYPES)

    @app.get("/rate/{centre}/{counter}", include_in_schema=False, response_class=HTMLResponse)
    async def rate_page(centre: str, counter: str):
        name = await anyio.to_thread.run_sync(rating.counter_name, centre, counter)
        if name is None:
            return _page("rate_unknown.html", status=404)
        since = await anyio.to_thread.run_sync(rating.opening_since, centre, counter)
        unit = routing.lookup_commune(centre)
        return _page("rate.html", centre=centre, counter=counter, counter_name=name, since=since,
                     centre_name=unit.name if unit else f"Trung tâm {centre}", levels=_level_buttons(),
                     question_s=QUESTION_S)

    @app.get("/rate/{centre}/{counter}/served", include_in_schema=False)
    async def rate_served(request: Request, centre: str, counter: str,
                          since: int = Query(0, ge=0, le=2**62, description="the newest queue event id the tablet has seen"),
                          wait: float = Query(0.0, ge=0.0, le=MAX_WAIT_S, description="long-poll: seconds to wait")):
        if await anyio.to_thread.run_sync(rating.counter_name, centre, counter) is None:
            raise _unknown()
        deadline = time.monotonic() + wait
        while True:
            # the newest id first, then the query: a serve committed in between is seen next round
            latest = await anyio.to_thread.run_sync(rating.latest, centre)
            found = await anyio.to_thread.run_sync(rating.ratings.awaiting, centre, counter, since)
            left = deadline - time.monotonic()
            if found or left <= 0.05 or display.watcher.busy() or await request.is_disconnected():
                break
            await display.watcher.wait(centre, max(since, latest), left, request)
        last = max(since, latest, found["event_id"] if found else 0)
        served = None if found is None else {k: found[k] for k in ("ticket_id", "number", "counter_name", "served_at")}
        return JSONResponse({"result": "ok", "centre": centre, "counter": counter, "last_id": last, "served": served},
                            headers={"Cache-Control": "no-store"})

    @app.post("/rate/{centre}/{counter}", include_in_schema=False)
    async def rate_post(request: Request, centre: str, counter: str):
        name = await anyio.to_thread.run_sync(rating.counter_name, centre, counter)
        is_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
        try:
            if name is None:
                raise _unknown()
            ticket_id, level, is_form = await _parse(request)
            await anyio.to_thread.run_sync(rating.ratings.record_at_counter, centre, counter, ticket_id, level)
        except CentralError as exc:
            if not is_form:
                raise
            return _page("rate_answer.html", status=exc.status, ok=False, message_vi=exc.message_vi,
                         message_en=exc.message_en, back=f"/rate/{centre}/{counter}" if name else "")
        if is_form:
            return _page("rate_answer.html", status=201, ok=True, back=f"/rate/{centre}/{counter}")
        return JSONResponse({"result": "ok"}, status_code=201, headers={"Cache-Control": "no-store"})


__all__ = ["RATE_WINDOW", "register"]
