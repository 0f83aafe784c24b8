"""Ratings from the kiosks (issue 19): the citizen's "how was it?" at the end of a visit, sent
through the kiosk's outbox, and the satisfaction a centre's supervisor reads per service, per
counter and per day.

A rating is anonymous: a level, perhaps one of the kiosk's fixed reasons ("waited too long"…),
the service and counter when the kiosk knows them. The reason is still text from outside, so it
is stored bounded (200 characters) and never written to a log.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import date

from sqlalchemy import insert, select

from central.db import queue_services, ratings, write_tx
from central.queue import COUNTER_RX, SERVICE_RX, UUID_RX, centre_of
from central.service import CentralError, KioskIdentity, kiosk_time
from common import clock

log = logging.getLogger(__name__)

LEVELS = ("very_good", "good", "ok", "bad")
SATISFIED = ("very_good", "good")
MAX_REASON_CHARS = 200
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
                conn.execute(insert(ratings).values(**values))
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
        total = _Tally()
        by: dict[str, dict[str, _Tally]] = {"service": {}, "counter": {}, "day": {}}
        for r in rows:
            total.add(r)
            for key, value in (("service", r.service_id), ("counter", r.counter), ("day", r.day)):
                by[key].setdefault(value, _Tally()).add(r)
        return {
            "centre": centre, "day_from": day_from, "day_to": day_to, "total": total.as_dict(),
            "by_service": [{"service_id": k, "service_name": names.get(k, ""), **t.as_dict()}
                           for k, t in sorted(by["service"].items())],
            "by_counter": [{"counter": k, **t.as_dict()} for k, t in sorted(by["counter"].items())],
            "by_day": [{"day": k, **t.as_dict()} for k, t in sorted(by["day"].items())],
        }


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


