"""Ratings from the kiosks (issue 19): the citizen's "how was it?" at the end of a visit, sent
through the kiosk's outbox, and the satisfaction a centre's supervisor reads per service, per
counter and per day.

A rating is anonymous: a level, perhaps one of the kiosk's fixed reasons ("waited too long"…),
the service and counter when the kiosk knows them. The reason is still text from outside, so it
is stored bounded (200 characters) and never written to a log.

Ratings at a counter (``record_at_counter``, the tablet page of central/counter_rating.py): the
citizen rates right after the officer marked their ticket served there. Accepted only for a ticket
served at that counter within ``RATE_WINDOW`` and not rated yet; the ``ratings.ticket_id`` unique
index makes a second rating of one ticket impossible even if two taps race. The counter and the
ticket's service are stored with the level; nothing about the person.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import uuid as uuidlib
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from central.db import queue_counters, queue_events, queue_services, queue_tickets, ratings, write_tx
from central.queue import COUNTER_RX, SERVICE_RX, UUID_RX, _iso, centre_of
from central.service import CentralError, KioskIdentity, kiosk_time
from common import clock

log = logging.getLogger(__name__)

LEVELS = ("very_good", "good", "ok", "bad")
SATISFIED = ("very_good", "good")
MAX_REASON_CHARS = 200
RATE_WINDOW = timedelta(minutes=10)  # a ticket served longer ago than this can no longer be rated at the counter
# the words of the four levels, as the counter's tablet shows them (Vietnamese, English)
LEVEL_WORDS = {"very_good": ("Rất hài lòng", "Very satisfied"), "good": ("Hài lòng", "Satisfied"),
               "ok": ("Bình thường", "Neutral"), "bad": ("Chưa hài lòng", "Not satisfied")}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _invalid(field: str, en: str) -> CentralError:
    return CentralError(status=422, code="invalid_request", vi="Yêu cầu không hợp lệ.", en=f"{field}: {en}", fields=[field])


class Ratings:
    def __init__(self, central):
        self.engine = central.engine

    def record(self, ident: KioskIdentity, uuid: str, level: str, reason: str = "", service_id: str = "",
               counter: str = "", rated_at: str = "") -> bool:
        """Store one rating; True the first time, False for a replay of the same uuid and content
        by the same kiosk (409 ``uuid_conflict`` otherwise). ``rated_at`` empty: now."""
        centre = centre_of(ident)
        if not isinstance(uuid, str) or not UUID_RX.fullmatch(uuid):
            raise _invalid("uuid", "a lowercase UUID")
        if level not in LEVELS:
            raise _invalid("level", " | ".join(LEVELS))
        if not isinstance(reason, str) or _UNSTORABLE.search(reason):
            raise _invalid("reason", "text")
        reason = reason.strip()[:MAX_REASON_CHARS]
        if service_id and not (isinstance(service_id, str) and SERVICE_RX.fullmatch(service_id)):
            raise _invalid("service_id", "a service key or empty")
        if counter and not (isinstance(counter, str) and COUNTER_RX.fullmatch(counter)):
            raise _invalid("counter", "a counter id or empty")
        now = clock.now()
        at = kiosk_time(rated_at, now, "rated_at") if rated_at else now
        content = hashlib.sha256(json.dumps([level, reason, service_id or "", counter or "", rated_at or ""]).encode()).hexdigest()
        values = {"uuid": uuid, "kiosk_id": ident.kiosk_id, "centre": centre, "level": level, "reason": reason,
                  "service_id": service_id or "", "counter": counter or "", "rated_at": at.isoformat(timespec="seconds"),
                  "day": at.date().isoformat(), "received_at": now.isoformat(timespec="seconds"), "content_sha256": content}
        with write_tx(self.engine) as conn:
            row = conn.execute(select(ratings.c.kiosk_id, ratings.c.content_sha256).where(ratings.c.uuid == uuid)).first()
            if row is None:
                _store(conn, values)
        if row is not None:
            if row.kiosk_id != ident.kiosk_id or row.content_sha256 != content:
                raise CentralError(status=409, code="uuid_conflict", vi="Mã định danh (UUID) của đánh giá đã được dùng.",
                                   en="this rating uuid is already bound to another rating")
            return False
        log.info("rating from %s (centre %s): %s", ident.kiosk_id, centre, level)  # never the reason
        return True

    def summary(self, centre: str, day_from: str, day_to: str) -> dict:
        """Satisfaction of one centre between two Vietnam dates (both included): per service, per
        counter and per day, each ``{"count", "satisfied", "share_satisfied", "levels", "reasons"}``
        (satisfied = very_good or good; share from 0 to 1, None when nothing was rated)."""
        for field, value in (("day_from", day_from), ("day_to", day_to)):
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                raise _invalid(field, "a date YYYY-MM-DD") from None
        with self.engine.connect() as conn:
            rows = conn.execute(select(ratings.c.level, ratings.c.reason, ratings.c.service_id, ratings.c.counter,
                                       ratings.c.day).where(ratings.c.centre == centre, ratings.c.day >= day_from,
                                                            ratings.c.day <= day_to)).all()
            names = dict(conn.execute(select(queue_services.c.service_id, queue_services.c.service_name)
                                      .where(queue_services.c.centre == centre)).all())
            desks = dict(conn.execute(select(queue_counters.c.counter, queue_counters.c.name)
                                      .where(queue_counters.c.centre == centre)).all())
        total = _Tally()
        by: dict[str, dict[str, _Tally]] = {"service": {}, "counter": {}, "day": {}}
        for r in rows:
            total.add(r)
            for key, value in (("service", r.service_id), ("counter", r.counter), ("day", r.day)):
                by[key].setdefault(value, _Tally()).add(r)
        return {
            "centre": centre, "day_from": day_from, "day_to": day_to, "total": total.as_dict(),
            "by_service": [{"service_id": k, "service_name": names.get(k) or service_name(k), **t.as_dict()}
                           for k, t in sorted(by["service"].items())],
            # a counter taken out since keeps its ratings, under "Quầy <id>"
            "by_counter": [{"counter": k, "counter_name": (desks.get(k) or f"Quầy {k}") if k else "", **t.as_dict()}
                           for k, t in sorted(by["counter"].items())],
            "by_day": [{"day": k, **t.as_dict()} for k, t in sorted(by["day"].items())],
        }


    # --- at a counter (central/counter_rating.py) -----------------------------------------------
    def awaiting(self, centre: str, counter: str, since: int = 0, window: timedelta = RATE_WINDOW) -> dict | None:
        """The newest ticket marked served at ``counter`` (queue event id > ``since``, within
        ``window``) that has no rating yet: ``{"event_id", "ticket_id", "number", "counter_name",
        "served_at"}``, or None. What the counter's tablet asks about."""
        now = clock.now()
        e, t = queue_events.c, queue_tickets.c
        q = (select(e.id, e.ticket_id, e.number, e.at)
             .select_from(queue_events.join(queue_tickets, t.id == e.ticket_id)
                          .outerjoin(ratings, ratings.c.ticket_id == e.ticket_id))
             .where(e.centre == centre, e.counter == counter, e.action == "served", e.id > since,
                    e.at >= _iso(now - window), t.state == "served", t.counter == counter, ratings.c.id.is_(None))
             .order_by(e.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
            if row is None:
                return None
            name = conn.execute(select(queue_counters.c.name).where(queue_counters.c.centre == centre,
                                                                    queue_counters.c.counter == counter)).scalar()
        return {"event_id": int(row.id), "ticket_id": int(row.ticket_id), "number": row.number,
                "counter_name": name or f"Quầy {counter}", "served_at": row.at}

    def record_at_counter(self, centre: str, counter: str, ticket_id, level: str) -> dict:
        """Store the rating the citizen gave on ``counter``'s tablet for ``ticket_id``: only a
        ticket of this centre marked served at this counter within ``RATE_WINDOW`` and not rated
        yet (409 ``not_rateable`` / ``already_rated`` otherwise: nothing is stored). Returns
        ``{"ticket_id", "service_id", "counter"}``."""
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or not 1 <= ticket_id <= 2**62:
            raise _invalid("ticket_id", "a whole number")
        if level not in LEVELS:
            raise _invalid("level", " | ".join(LEVELS))
        if not isinstance(counter, str) or not COUNTER_RX.fullmatch(counter):
            raise _invalid("counter", "a counter id")
        now = clock.now()
        t = queue_tickets.c
        try:
            with write_tx(self.engine) as conn:
                row = conn.execute(select(t.service_id, t.finished_at).where(
                    t.id == ticket_id, t.centre == centre, t.counter == counter, t.state == "served",
                    t.finished_at >= _iso(now - RATE_WINDOW))).first()
                if row is None:
                    raise _not_rateable()
                done = conn.execute(select(ratings.c.id).where(ratings.c.ticket_id == ticket_id)).first()
                if done is not None:
                    raise _already_rated()
                at = now.isoformat(timespec="seconds")
                _store(conn, {"uuid": str(uuidlib.uuid4()), "kiosk_id": "", "centre": centre, "level": level,
                              "reason": "", "service_id": row.service_id, "counter": counter, "rated_at": at,
                              "day": now.date().isoformat(), "received_at": at, "ticket_id": ticket_id,
                              "content_sha256": hashlib.sha256(json.dumps([level, ticket_id]).encode()).hexdigest()})
        except IntegrityError:  # a second tap raced the first: the unique index kept one
            raise _already_rated() from None
        log.info("rating at counter %s (centre %s): %s", counter, centre, level)
        return {"ticket_id": ticket_id, "service_id": row.service_id, "counter": counter}


def _store(conn, values: dict) -> None:
    """The one INSERT of a rating, from a kiosk or from a counter's tablet."""
    conn.execute(insert(ratings).values(**values))


def _not_rateable() -> CentralError:
    return CentralError(status=409, code="not_rateable",
                        vi="Không ghi nhận được đánh giá: lượt phục vụ này không có ở quầy hoặc đã quá 10 phút.",
                        en="no ticket of this centre was marked served at this counter in the last 10 minutes with that id")


def _already_rated() -> CentralError:
    return CentralError(status=409, code="already_rated", vi="Lượt phục vụ này đã được đánh giá. Cảm ơn Quý khách.",
                        en="this ticket has already been rated")


@functools.lru_cache(maxsize=1)
def _field_names() -> dict[str, str]:
    """service key → the field's Vietnamese name, from the shipped procedure definitions (the
    kiosk's ticket screen makes its service keys the same way: flows.text.slug of the field)."""
    from flows.loader import read_document  # noqa: PLC0415
    from flows.text import slug  # noqa: PLC0415

    out: dict[str, str] = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "flows" / "definitions").glob("*.yaml")):
        try:
            field = read_document(path.read_text(encoding="utf-8"), path.name).get("field")
        except Exception:  # noqa: BLE001 (a file that does not parse names nothing)
            continue
        if isinstance(field, dict) and isinstance(field.get("vi"), str):
            out.setdefault(slug(field["vi"]), field["vi"])
    return out


def service_name(service_id: str) -> str:
    """A readable name for a service key with no queue entry at this centre (a kiosk's rating of a
    procedure filed without a ticket): the field's name ("cu-tru" → "Cư trú"), else the key in words."""
    if not service_id:
        return ""
    return _field_names().get(service_id) or service_id.replace("-", " ").replace("_", " ").capitalize()


class _Tally:
    def __init__(self):
        self.levels = dict.fromkeys(LEVELS, 0)
        self.reasons: dict[str, int] = {}

    def add(self, row) -> None:
        self.levels[row.level] = self.levels.get(row.level, 0) + 1
        if row.reason:
            self.reasons[row.reason] = self.reasons.get(row.reason, 0) + 1

    def as_dict(self) -> dict:
        count = sum(self.levels.values())
        satisfied = sum(self.levels[k] for k in SATISFIED)
        return {"count": count, "satisfied": satisfied,
                "share_satisfied": round(satisfied / count, 3) if count else None,
                "levels": dict(self.levels), "reasons": dict(sorted(self.reasons.items(), key=lambda kv: -kv[1]))}


