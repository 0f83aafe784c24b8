"""The waiting-room display (issue 19, Deliver 3): a full-screen page for the centre's TV showing the
numbers being called and at which counter, with a chime and the number spoken in Vietnamese.

Routes (public and read-only: a display has no login, so they show nothing but ticket numbers and
counter names; none is part of the kiosk JSON API, so none is in central/openapi.json):

- ``GET /display/{centre}``: the page (HTML; its script and style are files served below, no CDN).
- ``GET /display/{centre}/calls?since=<call_id>&wait=<s>``: the calls after ``since``, newest first.
  With ``wait`` (≤ 25 s) it is a long-poll: it answers as soon as a call arrives, or empty at the
  end. The page long-polls; a plain poll (``wait=0``) costs one indexed query.
- ``GET /display/{centre}/speech/{call_id}.wav``: the spoken call, rendered by espeak-ng in a worker
  thread and cached on disk by the text's hash (central.tts).
- ``GET /display/static/{display.js,display.css,chime.wav}``.

Load (300 centres × 2 displays on one central): a long-poll holds no thread while it waits. One
watcher task per process asks the database for the newest queue event id of every watched centre
in one query every ``TICK`` seconds, and wakes the waiters whose centre moved; so 600 waiting
displays cost ~10 small queries a second, not 600.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select

from central import db, routing, tts
from central.service import Central, CentralError

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("display_templates")
CENTRE_RX = re.compile(r"[0-9]{5}")
CALL_ID_RX = re.compile(r"[0-9]{1,18}")
MAX_WAIT_S = 25.0
TICK_S = 0.1  # how often the watcher looks for new calls while displays wait: the 1 s budget's tenth
MAX_WAITERS = 5000  # beyond this a long-poll answers at once (the display then polls every second)
SHOWN_CALLS = 8
KNOWN_TTL_S, UNKNOWN_TTL_S = 60.0, 5.0
# the fields a display may see; recent_calls may carry more (service names…), never shown here
CALL_FIELDS = ("call_id", "number", "counter", "counter_name", "at")

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(("html",)))
_chime: bytes | None = None

# the page's own files only: no inline script, nothing from elsewhere
CSP = "default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def chime() -> bytes:
    global _chime
    if _chime is None:
        _chime = tts.chime_wav()
    return _chime


def speech_cache_dir(central: Central) -> Path:
    """``CENTRAL_SPEECH_CACHE`` if set; else next to a SQLite database; else the system temp dir."""
    folder = os.environ.get("CENTRAL_SPEECH_CACHE")
    if folder:
        return Path(folder)
    url = central.engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).parent / "display-speech"
    return Path(tempfile.gettempdir()) / f"central-display-speech-{os.getuid()}"


def _not_found(centre: str) -> CentralError:
    return CentralError(status=404, code="unknown_centre", vi="Không có trung tâm phục vụ hành chính công này.",
                        en=f"no public service centre {centre[:5]!r} is known here")


class Display:
    """What the routes share: the queue, the known centres, the speech cache and the watcher."""

    def __init__(self, central: Central):
        self.central = central
        self.speech = tts.SpeechCache(speech_cache_dir(central))
        self.watcher = CallWatcher(self)
        self._known: dict[str, tuple[bool, float]] = {}
        self._queue = None
        # espeak-ng runs in at most two worker threads: a burst of calls never takes the pool's threads
        self.render_limiter = anyio.CapacityLimiter(2)

    @property
    def queue(self):
        if self._queue is None:
            from central.queue import Queue  # noqa: PLC0415 (the queue module registers its own tables)

            self._queue = Queue(self.central)
        return self._queue

    # --- centres ------------------------------------------------------------------------------
    def known(self, centre: str) -> bool:
        """A centre is a commune with a registered kiosk or a counter. Cached: displays ask each second."""
        if not CENTRE_RX.fullmatch(centre):
            return False
        hit = self._known.get(centre)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        with self.central.engine.connect() as conn:
            found = conn.execute(select(db.kiosks.c.kiosk_id).where(db.kiosks.c.commune_code == centre).limit(1)).first()
            counters = db.metadata.tables.get("queue_counters")
            if found is None and counters is not None:
                found = conn.execute(select(counters.c.counter).where(counters.c.centre == centre).limit(1)).first()
        if len(self._known) > 20000:  # hostile probing of every code: forget, do not grow
            self._known.clear()
        self._known[centre] = (found is not None, now + (KNOWN_TTL_S if found is not None else UNKNOWN_TTL_S))
        return found is not None

    # --- calls --------------------------------------------------------------------------------
    def calls(self, centre: str, since: int, limit: int = SHOWN_CALLS) -> list[dict]:
        rows = self.queue.recent_calls(centre, since_id=since, limit=limit)
        return [{k: r.get(k) for k in CALL_FIELDS} for r in rows]

    def latest_ids(self, centres: list[str]) -> dict[str, int]:
        """The newest queue event id per centre: one indexed query (ix_queue_events_centre)."""
        events = db.metadata.tables.get("queue_events")
        out: dict[str, int] = {}
        if events is None:  # the queue keeps its calls elsewhere: ask it, one centre at a time
            for c in centres:
                rows = self.queue.recent_calls(c, since_id=0, limit=1)
                out[c] = int(rows[0]["call_id"]) if rows else 0
            return out
        with self.central.engine.connect() as conn:
            for i in range(0, len(centres), 500):
                chunk = centres[i:i + 500]
                q = select(events.c.centre, func.max(events.c.id)).where(events.c.centre.in_(chunk)).group_by(events.c.centre)
                out.update({c: int(m or 0) for c, m in conn.execute(q)})
        return out

    def call_by_id(self, centre: str, call_id: int) -> dict | None:
        events = db.metadata.tables.get("queue_events")
        if events is not None:
            with self.central.engine.connect() as conn:
                row = conn.execute(select(events.c.number, events.c.counter_name, events.c.counter, events.c.action)
                                   .where(events.c.id == call_id, events.c.centre == centre)).first()
            if row is None or row.action not in ("call", "recall"):
                return None
            return {"number": row.number, "counter_name": row.counter_name or f"Quầy {row.counter}"}
        for r in self.queue.recent_calls(centre, since_id=call_id - 1, limit=50):
            if int(r["call_id"]) == call_id:
                return {"number": r["number"], "counter_name": r.get("counter_name") or f"Quầy {r['counter']}"}
        return None


class CallWatcher:
    """Long-poll waiters per centre, woken by one watcher task per event loop (see the module doc)."""

    def __init__(self, display: Display):
        self.display = display
        self._waiters: dict[str, dict[asyncio.Event, int]] = {}
        self._count = 0
        self._task: asyncio.Task | None = None
        self._lock = threading.Lock()
        self.ticks = 0  # watcher queries made (the bench reads it)

    def busy(self) -> bool:
        return self._count >= MAX_WAITERS

    async def wait(self, centre: str, since: int, timeout: float, request: Request | None = None) -> None:
        """Return when the centre has a queue event newer than ``since``, after ``timeout``, or when
        the display hangs up (a TV switched off must not hold the request, nor a server's shutdown)."""
        event = asyncio.Event()
        self._waiters.setdefault(centre, {})[event] = since
        self._count += 1
        self._ensure_task()
        tasks = {asyncio.ensure_future(event.wait())}
        if request is not None:
            tasks.add(asyncio.ensure_future(_hung_up(request)))
        try:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            self._count -= 1
            waiting = self._waiters.get(centre)
            if waiting is not None:
                waiting.pop(event, None)
                if not waiting:
                    del self._waiters[centre]

    def _ensure_task(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while self._waiters:
            await asyncio.sleep(TICK_S)
            centres = list(self._waiters)
            if not centres:
                break
            try:
                latest = await anyio.to_thread.run_sync(self.display.latest_ids, centres)
            except Exception:  # a database hiccup: the waiters time out and the displays ask again
                log.exception("display watcher: could not read the newest calls")
                await asyncio.sleep(1.0)
                continue
            self.ticks += 1
            for centre in centres:
                newest = latest.get(centre, 0)
                for event, since in list(self._waiters.get(centre, {}).items()):
                    if newest > since:
                        event.set()


async def _hung_up(request: Request) -> None:
    """Return when the client closes the connection (the request has no body left to read: the
    server's next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                                           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


def static_file(name: str, types: dict[str, str]) -> FileResponse:
    """One of a page's own files beside its templates (the display's, the rating tablet's); any
    other name is 404 (``types`` is the whole list: no path is built from what was asked)."""
    if name not in types:
        raise CentralError(status=404, code="not_found", vi="Không có tệp này.", en="no such file")
    return FileResponse(TEMPLATES / name, media_type=types[name], headers={"Cache-Control": "public, max-age=300"})


def register(app: FastAPI, central: Central, deps: Any) -> None:  # noqa: ARG001 (no authentication: public)
    display = Display(central)
    app.state.display = display

    static_types = {"display.js": "text/javascript; charset=utf-8", "display.css": "text/css; charset=utf-8"}

    @app.get("/display/static/chime.wav", include_in_schema=False)
    def display_chime():
        return Response(chime(), media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/display/static/{name}", include_in_schema=False)
    def display_static(name: str):
        return static_file(name, static_types)

    @app.get("/display/{centre}", include_in_schema=False, response_class=HTMLResponse)
    async def display_page(centre: str):
        if not await anyio.to_thread.run_sync(display.known, centre):
            return _page("unknown.html", status=404, centre=centre if CENTRE_RX.fullmatch(centre) else "")
        calls = await anyio.to_thread.run_sync(display.calls, centre, 0)
        unit = routing.lookup_commune(centre)
        return _page("display.html", centre=centre, centre_name=unit.name if unit else f"Trung tâm {centre}",
                     calls=[{**c, "text": tts.shown_text(c["number"], c["counter_name"] or f"Quầy {c['counter']}")}
                            for c in calls],
                     last_id=max((int(c["call_id"]) for c in calls), default=0),
                     speech=tts.espeak_binary() is not None)

    @app.get("/console/display/{centre}", include_in_schema=False)
    def console_display(centre: str):
        # the contract's name for the page under the console; one page, one address
        if not CENTRE_RX.fullmatch(centre):
            raise _not_found(centre)
        return RedirectResponse(f"/display/{centre}", status_code=307)

    @app.get("/display/{centre}/calls", include_in_schema=False)
    async def display_calls(request: Request, centre: str,
                            since: int = Query(0, ge=0, le=2**62, description="the newest call_id the display has"),
                            wait: float = Query(0.0, ge=0.0, le=MAX_WAIT_S, description="long-poll: seconds to wait for a call")):
        if not await anyio.to_thread.run_sync(display.known, centre):
            raise _not_found(centre)
        calls = await anyio.to_thread.run_sync(display.calls, centre, since)
        if not calls and wait > 0 and not display.watcher.busy():
            await display.watcher.wait(centre, since, wait, request)
            calls = await anyio.to_thread.run_sync(display.calls, centre, since)
        speech = tts.espeak_binary() is not None
        body = {"result": "ok", "centre": centre,
                "last_id": max((int(c["call_id"]) for c in calls), default=since),
                "calls": [{**c, "text_vi": tts.shown_text(c["number"], c["counter_name"] or f"Quầy {c['counter']}"),
                           "speech": f"/display/{centre}/speech/{c['call_id']}.wav" if speech else None} for c in calls]}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.get("/display/{centre}/speech/{call_id}.wav", include_in_schema=False)
    async def display_speech(centre: str, call_id: str):
        if not CALL_ID_RX.fullmatch(call_id):
            raise CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.",
                               en="call_id: a whole number", fields=["path.call_id"])
        if not await anyio.to_thread.run_sync(display.known, centre):
            raise _not_found(centre)
        call = await anyio.to_thread.run_sync(display.call_by_id, centre, int(call_id))
        if call is None:
            raise CentralError(status=404, code="not_found", vi="Không có lượt gọi số này.", en="no such call at this centre")
        text = tts.call_text(call["number"], call["counter_name"])
        try:
            with anyio.fail_after(tts.TIMEOUT_S + 5):
                path = await anyio.to_thread.run_sync(display.speech.wav, text, limiter=display.render_limiter)
        except (tts.SpeechUnavailable, TimeoutError) as exc:
            log.warning("display speech unavailable: %s", exc)
            raise CentralError(status=503, code="speech_unavailable", vi="Không phát được tiếng đọc số; số vẫn hiện trên màn hình.",
                               en="speech could not be rendered (espeak-ng); the number is still shown") from None
        # one call's words never change: the TV may keep them
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})
