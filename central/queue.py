"""The centre's queue (issue 19): one numbered line per service of a commune's public service
centre, shared by every kiosk there and worked by its counters.

Numbers. Each (centre, service) gets a letter on first use (A, B, C… in order; after Z: AA, AB…)
and keeps it. Numbers run per (centre, letter, Vietnam day) from one sequence
(``queue_sequences``): an online ticket takes the next number; a kiosk preparing for a network
outage reserves a block of ``size`` numbers at once from the same sequence, and the tickets it
prints from that block while offline are reported later. Online issue therefore skips every
reserved number, and ``UniqueConstraint(centre, prefix, day, seq)`` makes a duplicate impossible
even if the code were wrong. The sequence is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE
… RETURNING``): PostgreSQL locks the row until the ticket's transaction ends; SQLite writers take
the database lock up front (``central.db.write_tx``: BEGIN IMMEDIATE).

The line. Waiting tickets are called oldest first (by ``issued_at``: a kiosk's offline ticket
counts from when the citizen took it, bounded by our clock), among the services the counter
calls (all when it lists none). A ticket transferred to another service keeps its number and goes
to the HEAD of that line, behind earlier transfers (as bcgov's TheQ does: the citizen has already
waited once). A ticket is called at most 3 times (the call and two recalls, after Munich's
eAppointment); then the officer marks it served or no_show.

Estimated wait = people ahead × the centre's mean service time for that service (called →
served over today's and the last 7 days' tickets; 5 min when none) ÷ the counters that served
that service in the last 30 minutes (at least 1), rounded up to whole minutes.

Nothing personal is stored: a ticket is a number, a service, times and the kiosk that issued it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from central.db import (
    queue_blocks,
    queue_counters,
    queue_events,
    queue_services,
    queue_tickets,
    write_tx,
)
from central.service import CentralError, KioskIdentity, kiosk_time
from common import clock

log = logging.getLogger(__name__)

MAX_CALLS = 3  # the call and two recalls
DEFAULT_SERVICE_S = 5 * 60  # before a centre has measured anything
MEAN_OVER_DAYS = 7  # today and the 7 days before it
SERVING_WINDOW = timedelta(minutes=30)  # "counters serving this service now"
BLOCK_MIN, BLOCK_MAX = 1, 50
OUTCOMES = ("served", "no_show")
STATES = ("waiting", "called", "served", "no_show")

UUID_RX = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SERVICE_RX = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # the field key of the kiosk's ticket screen ("ho-tich")
COUNTER_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")  # "1", "2", "HT-1"
CENTRE_RX = re.compile(r"[0-9]{5}")
DAY_RX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DOSSIER_CODE_RX = re.compile(r"([A-Za-z0-9][A-Za-z0-9.-]{0,39})?")  # a dossier code or a provisional TAM-… code
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _iso(dt: datetime) -> str:
    # one format everywhere in these tables, so that text comparison is time comparison
    return dt.astimezone(clock.VN_TZ).isoformat(timespec="seconds")


def _letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, 27 → AB … (bijective base 26)."""
    out = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def number_of(prefix: str, seq: int) -> str:
    """What the ticket, the display and the officer say: A001 … A999, then A1000."""
    return f"{prefix}{seq:03d}"


def _invalid(field: str, en: str, vi: str = "Yêu cầu không hợp lệ.") -> CentralError:
    return CentralError(status=422, code="invalid_request", vi=vi, en=f"{field}: {en}", fields=[field])


def _conflict(code: str, vi: str, en: str, **extra) -> CentralError:
    return CentralError(status=409, code=code, vi=vi, en=en, **extra)


def _not_found(vi: str, en: str) -> CentralError:
    return CentralError(status=404, code="not_found", vi=vi, en=en)


def _text(value, field: str, max_length: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_length or _UNSTORABLE.search(value):
        raise _invalid(field, f"at most {max_length} characters of text, no control characters")
    value = value.strip()
    if required and not value:
        raise _invalid(field, "must not be empty")
    return value


def _check(rx: re.Pattern, value, field: str, what: str) -> str:
    if not isinstance(value, str) or not rx.fullmatch(value):
        raise _invalid(field, what)
    return value


def centre_of(ident: KioskIdentity) -> str:
    """The centre of a kiosk: the commune it is registered in. A kiosk registered without one
    cannot take part in a queue (409 ``no_centre``)."""
    if not ident.commune_code:
        raise _conflict("no_centre", "Máy kiosk chưa được gắn với trung tâm (xã, phường) nào; vui lòng báo cán bộ kỹ thuật.",
                        "this kiosk is registered without a commune, so it belongs to no centre's queue")
    return ident.commune_code


def _content(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _uuid_conflict() -> CentralError:
    return _conflict("uuid_conflict", "Mã định danh (UUID) của số thứ tự đã được dùng cho một số khác.",
                     "this ticket uuid is already bound to another ticket")


class Queue:
    """The queue of every centre on one central system (``Central.engine``)."""

    def __init__(self, central):
        self.central = central
        self.engine = central.engine

    # --- kiosks ------------------------------------------------------------------------------------
    def take_ticket(self, ident: KioskIdentity, uuid: str, service_id: str, service_name: str,
                    dossier_code: str = "") -> dict:
        """A new number in the service's line (or, for a uuid this kiosk sent before, the same
        ticket again)."""
        return self.take_ticket_answer(ident, uuid, service_id, service_name, dossier_code)[1]

    def take_ticket_answer(self, ident: KioskIdentity, uuid: str, service_id: str, service_name: str,
                           dossier_code: str = "") -> tuple[bool, dict]:
        """``take_ticket`` and whether it was created now (False: a replay of the uuid)."""
        centre = centre_of(ident)
        _check(UUID_RX, uuid, "uuid", "a lowercase UUID")
        _check(SERVICE_RX, service_id, "service_id", "the service's key: lowercase letters, digits, - and _")
        service_name = _text(service_name, "service_name", 200)
        dossier_code = _check(DOSSIER_CODE_RX, dossier_code, "dossier_code", "a dossier code (or empty)")
        content = _content(kind="online", service_id=service_id, dossier_code=dossier_code)
        now = clock.now()
        day = now.date().isoformat()
        try:
            with write_tx(self.engine) as conn:
                row = self._by_uuid(conn, uuid)
                if row is not None:
                    self._same_sender(row, ident, content)
                    return False, self._answer(conn, row, now)
                prefix, _name = self._service(conn, centre, service_id, service_name, now)
                seq = self._advance(conn, centre, prefix, day, 1)
                row = self._insert(conn, uuid=uuid, centre=centre, service_id=service_id, prefix=prefix, seq=seq, day=day,
                                   issued_at=_iso(now), origin="online", kiosk_id=ident.kiosk_id, content=content,
                                   dossier_code=dossier_code)
                answer = self._answer(conn, row, now)
        except IntegrityError:
            return False, self._raced(uuid, ident, content, now)
        log.info("queue %s: %s issued %s", centre, ident.kiosk_id, answer["number"])
        return True, answer

    def reserve_block(self, ident: KioskIdentity, service_id: str, service_name: str, size: int = 20) -> dict:
        """Reserve ``size`` numbers of today's sequence for this kiosk's offline tickets:
        ``{"service_id", "prefix", "day", "first", "last"}``."""
        centre = centre_of(ident)
        _check(SERVICE_RX, service_id, "service_id", "the service's key: lowercase letters, digits, - and _")
        service_name = _text(service_name, "service_name", 200)
        if isinstance(size, bool) or not isinstance(size, int) or not BLOCK_MIN <= size <= BLOCK_MAX:
            raise _invalid("size", f"a whole number from {BLOCK_MIN} to {BLOCK_MAX}")
        now = clock.now()
        day = now.date().isoformat()
        with write_tx(self.engine) as conn:
            prefix, _name = self._service(conn, centre, service_id, service_name, now)
            last = self._advance(conn, centre, prefix, day, size)
            first = last - size + 1
            conn.execute(insert(queue_blocks).values(centre=centre, service_id=service_id, prefix=prefix, day=day,
                                                     kiosk_id=ident.kiosk_id, first=first, last=last, reserved_at=_iso(now)))
        log.info("queue %s: %s reserved %s..%s", centre, ident.kiosk_id, number_of(prefix, first), number_of(prefix, last))
        return {"service_id": service_id, "prefix": prefix, "day": day, "first": first, "last": last}

    def report_offline_ticket(self, ident: KioskIdentity, uuid: str, service_id: str, day: str, seq: int,
                              issued_at: str) -> dict:
        """A ticket the kiosk printed while central could not be reached, from one of its blocks."""
        return self.report_offline_answer(ident, uuid, service_id, day, seq, issued_at)[1]

    def report_offline_answer(self, ident: KioskIdentity, uuid: str, service_id: str, day: str, seq: int,
                              issued_at: str) -> tuple[bool, dict]:
        centre = centre_of(ident)
        _check(UUID_RX, uuid, "uuid", "a lowercase UUID")
        _check(SERVICE_RX, service_id, "service_id", "the service's key: lowercase letters, digits, - and _")
        _check(DAY_RX, day, "day", "a date YYYY-MM-DD")
        try:
            date.fromisoformat(day)
        except ValueError:
            raise _invalid("day", "a date YYYY-MM-DD") from None
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= 1_000_000:
            raise _invalid("seq", "a whole number from 1")
        now = clock.now()
        issued = kiosk_time(issued_at, now, "issued_at")
        content = _content(kind="offline", service_id=service_id, day=day, seq=seq, issued_at=issued_at)
        try:
            return self._report(ident, centre, uuid, service_id, day, seq, issued, content, now)
        except IntegrityError:
            return False, self._raced(uuid, ident, content, now)

    def _report(self, ident, centre, uuid, service_id, day, seq, issued, content, now) -> tuple[bool, dict]:
        with write_tx(self.engine) as conn:
            row = self._by_uuid(conn, uuid)
            if row is not None:
                self._same_sender(row, ident, content)
                return False, self._answer(conn, row, now)
            svc = conn.execute(select(queue_services.c.prefix).where(
                queue_services.c.centre == centre, queue_services.c.service_id == service_id)).first()
            block = None
            if svc is not None:
                block = conn.execute(select(queue_blocks.c.id).where(
                    queue_blocks.c.centre == centre, queue_blocks.c.prefix == svc.prefix, queue_blocks.c.day == day,
                    queue_blocks.c.kiosk_id == ident.kiosk_id, queue_blocks.c.first <= seq,
                    queue_blocks.c.last >= seq).limit(1)).first()
            if block is None:
                raise _conflict("not_in_block", "Số thứ tự này không thuộc dãy số dự phòng đã cấp cho máy kiosk này.",
                                "this number is not in an offline block reserved by this kiosk for that service and day")
            taken = conn.execute(select(queue_tickets.c.id).where(
                queue_tickets.c.centre == centre, queue_tickets.c.prefix == svc.prefix, queue_tickets.c.day == day,
                queue_tickets.c.seq == seq)).first()
            if taken is not None:
                raise _conflict("number_taken", "Số thứ tự này đã được báo với một mã khác.",
                                "this block number was already reported with another uuid")
            row = self._insert(conn, uuid=uuid, centre=centre, service_id=service_id, prefix=svc.prefix, seq=seq, day=day,
                               issued_at=_iso(issued), origin="offline", kiosk_id=ident.kiosk_id, content=content,
                               dossier_code="")
            answer = self._answer(conn, row, now)
        log.info("queue %s: %s reported offline %s", centre, ident.kiosk_id, answer["number"])
        return True, answer

    def wait_for(self, centre: str, service_id: str) -> dict:
        """``{"people_ahead", "estimated_wait_min"}`` for a citizen who would take a ticket now."""
        now = clock.now()
        with self.engine.connect() as conn:
            ahead = conn.execute(select(func.count()).select_from(queue_tickets).where(
                queue_tickets.c.centre == centre, queue_tickets.c.day == now.date().isoformat(),
                queue_tickets.c.service_id == service_id, queue_tickets.c.state == "waiting")).scalar_one()
            return {"people_ahead": ahead, "estimated_wait_min": self._estimate(conn, centre, service_id, ahead, now)}

    # --- counters ----------------------------------------------------------------------------------
    def counters(self, centre: str) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue_counters).where(queue_counters.c.centre == centre)).mappings().all()
        out = [{"counter": r["counter"], "name": r["name"], "services": json.loads(r["services"])} for r in rows]
        # "2" before "10": counters are numbered by people
        return sorted(out, key=lambda c: (len(c["counter"]), c["counter"]) if c["counter"].isdigit() else (99, c["counter"]))

    def add_counter(self, centre: str, counter: str, name: str, services: list[str]) -> None:
        """Add a counter, or change its name and services (an empty list: it calls every service)."""
        _check(CENTRE_RX, centre, "centre", "a commune code of 5 digits")
        _check(COUNTER_RX, counter, "counter", "1 to 16 letters, digits, - or _")
        name = _text(name, "name", 100)
        if not isinstance(services, (list, tuple)) or len(services) > 50:
            raise _invalid("services", "a list of service keys")
        services = list(dict.fromkeys(_check(SERVICE_RX, s, "services", "service keys") for s in services))
        values = {"name": name, "services": json.dumps(services), "updated_at": _iso(clock.now())}
        with write_tx(self.engine) as conn:
            found = conn.execute(select(queue_counters.c.counter).where(
                queue_counters.c.centre == centre, queue_counters.c.counter == counter).with_for_update()).first()
            if found is None:
                conn.execute(insert(queue_counters).values(centre=centre, counter=counter, **values))
            else:
                conn.execute(update(queue_counters).where(queue_counters.c.centre == centre,
                                                          queue_counters.c.counter == counter).values(**values))

    def remove_counter(self, centre: str, counter: str) -> bool:
        """Take a counter out (its past calls stay in the history). False when there was none."""
        with write_tx(self.engine) as conn:
            gone = conn.execute(queue_counters.delete().where(queue_counters.c.centre == centre,
                                                              queue_counters.c.counter == counter)).rowcount
        return bool(gone)

    def services(self, centre: str) -> list[dict]:
        """The services this centre's kiosks have issued tickets for: ``[{"service_id", "prefix", "service_name"}]``."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue_services.c.service_id, queue_services.c.prefix, queue_services.c.service_name)
                                .where(queue_services.c.centre == centre)).mappings().all()
        return sorted((dict(r) for r in rows), key=lambda r: (len(r["prefix"]), r["prefix"]))

    def call_next(self, centre: str, counter: str, by: str) -> dict | None:
        """Call the next ticket to ``counter``: transferred tickets first, then the oldest waiting
        among the counter's services. None when nobody waits. A counter still serving a called
        ticket must mark it served or no_show first (409 ``counter_busy``): calling on would
        lose that ticket's service time and outcome."""
        now = clock.now()
        today = now.date().isoformat()
        with write_tx(self.engine) as conn:
            # the counter's row, locked: a double click (or two browsers at one desk) calls one ticket
            desk = conn.execute(select(queue_counters).where(queue_counters.c.centre == centre,
                                                             queue_counters.c.counter == counter)
                                .with_for_update()).mappings().first()
            if desk is None:
                raise _not_found("Không có quầy này ở trung tâm.", "no such counter at this centre")
            busy = conn.execute(select(queue_tickets.c.prefix, queue_tickets.c.seq).where(
                queue_tickets.c.centre == centre, queue_tickets.c.counter == counter,
                queue_tickets.c.state == "called")).first()
            if busy is not None:
                number = number_of(busy.prefix, busy.seq)
                raise _conflict("counter_busy", f"Quầy đang phục vụ số {number}: hãy bấm \"Đã xong\" hoặc \"Vắng mặt\" trước.",
                                f"this counter is still serving {number}: mark it served or no_show first", number=number)
            services = json.loads(desk["services"])
            q = select(queue_tickets).where(queue_tickets.c.centre == centre, queue_tickets.c.day == today,
                                            queue_tickets.c.state == "waiting")
            if services:
                q = q.where(queue_tickets.c.service_id.in_(services))
            # SKIP LOCKED (PostgreSQL): two counters calling at once take two different tickets
            row = conn.execute(q.order_by(*_LINE_ORDER).limit(1).with_for_update(skip_locked=True)).mappings().first()
            if row is None:
                return None
            changes = {"state": "called", "calls": row["calls"] + 1, "counter": counter, "called_at": _iso(now)}
            conn.execute(update(queue_tickets).where(queue_tickets.c.id == row["id"]).values(**changes))
            row = {**row, **changes}
            self._event(conn, row, "call", now, by, counter=counter, counter_name=desk["name"])
            return self._answer(conn, row, now)

    def recall(self, centre: str, ticket_id: int, by: str) -> dict:
        """Call the called ticket once more (at most 3 calls in all: 409 ``too_many_calls``)."""
        now = clock.now()
        with write_tx(self.engine) as conn:
            row = self._locked(conn, centre, ticket_id)
            if row["state"] != "called":
                raise _not_called(row)
            if row["calls"] >= MAX_CALLS:
                raise _conflict("too_many_calls", f"Số {number_of(row['prefix'], row['seq'])} đã được gọi {MAX_CALLS} lần; "
                                "hãy đánh dấu vắng mặt.", f"a ticket is called at most {MAX_CALLS} times; mark it no_show",
                                calls=row["calls"])
            changes = {"calls": row["calls"] + 1, "called_at": _iso(now)}
            conn.execute(update(queue_tickets).where(queue_tickets.c.id == row["id"]).values(**changes))
            row = {**row, **changes}
            self._event(conn, row, "recall", now, by, counter=row["counter"], counter_name=self._counter_name(conn, centre, row["counter"]))
            return self._answer(conn, row, now)

    def finish(self, centre: str, ticket_id: int, outcome: str, by: str) -> dict:
        """The called ticket was ``served`` (its service time is measured) or was a ``no_show``."""
        if outcome not in OUTCOMES:
            raise _invalid("outcome", "served or no_show")
        now = clock.now()
        with write_tx(self.engine) as conn:
            row = self._locked(conn, centre, ticket_id)
            if row["state"] != "called":
                raise _not_called(row)
            service_s = None
            if outcome == "served" and row["called_at"]:
                service_s = max(0, int((now - datetime.fromisoformat(row["called_at"])).total_seconds()))
            changes = {"state": outcome, "finished_at": _iso(now), "service_s": service_s}
            conn.execute(update(queue_tickets).where(queue_tickets.c.id == row["id"]).values(**changes))
            row = {**row, **changes}
            self._event(conn, row, outcome, now, by, counter=row["counter"])
            return self._answer(conn, row, now)

    def transfer(self, centre: str, ticket_id: int, to_service: str, by: str) -> dict:
        """Send a waiting or called ticket to another service's line: same number, waiting, calls
        reset, at the head of that line (behind tickets transferred before it)."""
        now = clock.now()
        with write_tx(self.engine) as conn:
            row = self._locked(conn, centre, ticket_id)
            svc = conn.execute(select(queue_services.c.service_name).where(
                queue_services.c.centre == centre, queue_services.c.service_id == to_service)).first()
            if svc is None:
                raise _not_found("Trung tâm không có lĩnh vực này.", "no such service at this centre")
            if row["state"] not in ("waiting", "called"):
                raise _conflict("already_finished", "Số này đã kết thúc, không chuyển được.",
                                f"this ticket is already {row['state']}", state=row["state"])
            if row["state"] == "waiting" and row["service_id"] == to_service:
                # it would only jump the line it is already in
                raise _conflict("same_service", "Số này đang chờ ở chính lĩnh vực này.",
                                "this ticket already waits in that service's line")
            if row["day"] != now.date().isoformat():
                raise _conflict("not_today", "Số này không phải của hôm nay.", "only today's tickets can be transferred")
            changes = {"service_id": to_service, "state": "waiting", "calls": 0, "counter": "", "called_at": None,
                       "head": 1, "line_at": _iso(now)}
            conn.execute(update(queue_tickets).where(queue_tickets.c.id == row["id"]).values(**changes))
            self._event(conn, {**row, **changes}, "transfer", now, by, counter=row["counter"],
                        detail=f"{row['service_id']} -> {to_service}")
            return self._answer(conn, {**row, **changes}, now)

    def ticket(self, centre: str, ticket_id: int) -> dict:
        """One ticket of this centre (404 for another centre's)."""
        now = clock.now()
        with self.engine.connect() as conn:
            row = conn.execute(select(queue_tickets).where(queue_tickets.c.id == ticket_id,
                                                           queue_tickets.c.centre == centre)).mappings().first()
            if row is None:
                raise _no_ticket()
            return self._answer(conn, row, now)

    def serving(self, centre: str, counter: str) -> dict | None:
        """The ticket a counter has called and not yet finished, or None."""
        now = clock.now()
        with self.engine.connect() as conn:
            row = conn.execute(select(queue_tickets).where(
                queue_tickets.c.centre == centre, queue_tickets.c.counter == counter,
                queue_tickets.c.state == "called").order_by(queue_tickets.c.id.desc()).limit(1)).mappings().first()
            return None if row is None else self._answer(conn, row, now)

    def waiting(self, centre: str) -> list[dict]:
        """Today's waiting tickets, in the order they will be called (transfers first, then oldest)."""
        now = clock.now()
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue_tickets).where(
                queue_tickets.c.centre == centre, queue_tickets.c.day == now.date().isoformat(),
                queue_tickets.c.state == "waiting").order_by(*_LINE_ORDER)).mappings().all()
            ahead: dict[str, int] = {}
            per_min: dict[str, tuple[float, int]] = {}
            out = []
            for r in rows:
                sid = r["service_id"]
                if sid not in per_min:
                    per_min[sid] = self._rate(conn, centre, sid, now)
                n = ahead.get(sid, 0)
                ahead[sid] = n + 1
                t = self._plain(conn, r)
                t["people_ahead"], t["estimated_wait_min"] = n, _minutes(n, *per_min[sid])
                out.append(t)
            return out

    def recent_calls(self, centre: str, since_id: int = 0, limit: int = 10) -> list[dict]:
        """Calls and recalls after ``since_id``, newest first (what the waiting-room display shows)."""
        try:
            since_id, limit = int(since_id), max(1, min(int(limit), 100))
        except (TypeError, ValueError):
            raise _invalid("since", "a whole number") from None
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue_events).where(
                queue_events.c.centre == centre, queue_events.c.action.in_(("call", "recall")),
                queue_events.c.id > since_id).order_by(queue_events.c.id.desc()).limit(limit)).mappings().all()
        return [{"call_id": r["id"], "number": r["number"], "counter": r["counter"], "counter_name": r["counter_name"],
                 "at": r["at"], "service_name": r["service_name"], "ticket_id": r["ticket_id"],
                 "recall": r["action"] == "recall"} for r in rows]

    def day_stats(self, centre: str, day: str) -> dict:
        """Per service of one day: issued, served, no_show, still waiting, being served, and the
        mean service time in minutes (None when nothing was served)."""
        _check(DAY_RX, day, "day", "a date YYYY-MM-DD")
        with self.engine.connect() as conn:
            rows = conn.execute(select(queue_tickets.c.service_id, queue_tickets.c.state, queue_tickets.c.service_s,
                                       queue_tickets.c.origin).where(queue_tickets.c.centre == centre,
                                                                     queue_tickets.c.day == day)).all()
            names = {r.service_id: (r.prefix, r.service_name) for r in conn.execute(
                select(queue_services).where(queue_services.c.centre == centre))}
        per: dict[str, dict] = {}
        times: dict[str, list[int]] = {}
        for r in rows:
            s = per.setdefault(r.service_id, {"service_id": r.service_id, "prefix": names.get(r.service_id, ("", ""))[0],
                                              "service_name": names.get(r.service_id, ("", r.service_id))[1],
                                              "issued": 0, "offline": 0, "waiting": 0, "called": 0, "served": 0,
                                              "no_show": 0, "mean_service_min": None})
            s["issued"] += 1
            s["offline"] += r.origin == "offline"
            s[r.state] += 1
            if r.state == "served" and r.service_s is not None:
                times.setdefault(r.service_id, []).append(r.service_s)
        for sid, ts in times.items():
            per[sid]["mean_service_min"] = round(sum(ts) / len(ts) / 60, 1)
        services = sorted(per.values(), key=lambda s: (len(s["prefix"]), s["prefix"], s["service_id"]))
        totals = {k: sum(s[k] for s in services) for k in ("issued", "offline", "waiting", "called", "served", "no_show")}
        return {"day": day, "services": services, **totals}

    # --- inside ------------------------------------------------------------------------------------
    def _service(self, conn, centre: str, service_id: str, service_name: str, now: datetime) -> tuple[str, str]:
        """The service's letter, given on its first use at this centre."""
        q = select(queue_services.c.prefix, queue_services.c.service_name).where(
            queue_services.c.centre == centre, queue_services.c.service_id == service_id)
        row = conn.execute(q).first()
        if row is not None:
            return row.prefix, row.service_name
        # Take the centre's row lock (an upsert that changes nothing but holds the row until
        # commit), then look again: another kiosk may have added this service meanwhile.
        conn.execute(text("INSERT INTO queue_centres (centre, services) VALUES (:c, 0) "
                          "ON CONFLICT (centre) DO UPDATE SET services = queue_centres.services"), {"c": centre})
        row = conn.execute(q).first()
        if row is not None:
            return row.prefix, row.service_name
        count = conn.execute(select(func.count()).select_from(queue_services)
                             .where(queue_services.c.centre == centre)).scalar_one()
        prefix = _letters(count)
        conn.execute(insert(queue_services).values(centre=centre, service_id=service_id, prefix=prefix,
                                                   service_name=service_name, created_at=_iso(now)))
        conn.execute(text("UPDATE queue_centres SET services = :n WHERE centre = :c"), {"n": count + 1, "c": centre})
        return prefix, service_name

    @staticmethod
    def _advance(conn, centre: str, prefix: str, day: str, n: int) -> int:
        """Take ``n`` numbers of the day's sequence; returns the last one taken."""
        return conn.execute(text(
            "INSERT INTO queue_sequences (centre, prefix, day, last_seq) VALUES (:c, :p, :d, :n) "
            "ON CONFLICT (centre, prefix, day) DO UPDATE SET last_seq = queue_sequences.last_seq + :n "
            "RETURNING last_seq"), {"c": centre, "p": prefix, "d": day, "n": n}).scalar_one()

    def _raced(self, uuid: str, ident: KioskIdentity, content: str, now: datetime) -> dict:
        """After a unique violation: the same uuid committed by a concurrent request (a retry
        racing the original) is a replay; anything else is the number taken meanwhile."""
        with self.engine.connect() as conn:
            row = self._by_uuid(conn, uuid)
            if row is None:
                raise _conflict("number_taken", "Số thứ tự này đã được báo với một mã khác.",
                                "this number was taken meanwhile; send again") from None
            self._same_sender(row, ident, content)
            return self._answer(conn, row, now)

    @staticmethod
    def _by_uuid(conn, uuid: str):
        return conn.execute(select(queue_tickets).where(queue_tickets.c.uuid == uuid)).mappings().first()

    @staticmethod
    def _same_sender(row, ident: KioskIdentity, content: str) -> None:
        if row["kiosk_id"] != ident.kiosk_id or row["content_sha256"] != content:
            raise _uuid_conflict()

    @staticmethod
    def _insert(conn, *, uuid, centre, service_id, prefix, seq, day, issued_at, origin, kiosk_id, content, dossier_code):
        values = {"uuid": uuid, "centre": centre, "service_id": service_id, "prefix": prefix, "seq": seq, "day": day,
                  "state": "waiting", "calls": 0, "counter": "", "issued_at": issued_at, "line_at": issued_at, "head": 0,
                  "called_at": None, "finished_at": None, "service_s": None, "origin": origin, "kiosk_id": kiosk_id,
                  "content_sha256": content, "dossier_code": dossier_code}
        ticket_id = conn.execute(insert(queue_tickets).values(**values).returning(queue_tickets.c.id)).scalar_one()
        return {"id": ticket_id, **values}


    @staticmethod
    def _locked(conn, centre: str, ticket_id) -> dict:
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            raise _no_ticket()
        row = conn.execute(select(queue_tickets).where(queue_tickets.c.id == ticket_id, queue_tickets.c.centre == centre)
                           .with_for_update()).mappings().first()
        if row is None:
            raise _no_ticket()
        return dict(row)

    @staticmethod
    def _counter_name(conn, centre: str, counter: str) -> str:
        name = conn.execute(select(queue_counters.c.name).where(queue_counters.c.centre == centre,
                                                                queue_counters.c.counter == counter)).scalar()
        return name or f"Quầy {counter}"

    def _event(self, conn, row, action: str, now: datetime, by, *, counter: str = "", counter_name: str = "",
               detail: str = "") -> None:
        by = by if isinstance(by, str) else ""
        conn.execute(insert(queue_events).values(
            centre=row["centre"], ticket_id=row["id"], action=action, at=_iso(now), by=by[:64],
            number=number_of(row["prefix"], row["seq"]), counter=counter or "", counter_name=counter_name,
            service_name=self._service_name(conn, row["centre"], row["service_id"]), detail=detail[:200]))

    @staticmethod
    def _service_name(conn, centre: str, service_id: str) -> str:
        return conn.execute(select(queue_services.c.service_name).where(
            queue_services.c.centre == centre, queue_services.c.service_id == service_id)).scalar() or service_id

    def _plain(self, conn, row) -> dict:
        return {"id": row["id"], "uuid": row["uuid"], "number": number_of(row["prefix"], row["seq"]),
                "prefix": row["prefix"], "seq": row["seq"], "service_id": row["service_id"],
                "service_name": self._service_name(conn, row["centre"], row["service_id"]), "day": row["day"],
                "state": row["state"], "calls": row["calls"], "counter": row["counter"], "issued_at": row["issued_at"],
                "called_at": row["called_at"], "finished_at": row["finished_at"], "people_ahead": 0,
                "estimated_wait_min": 0, "origin": row["origin"], "dossier_code": row["dossier_code"] or ""}

    def _answer(self, conn, row, now: datetime) -> dict:
        """The ticket dict; a waiting ticket of today with the people ahead of it and their wait."""
        t = self._plain(conn, row)
        if row["state"] == "waiting" and row["day"] == now.date().isoformat():
            c = queue_tickets.c
            ahead = conn.execute(select(func.count()).select_from(queue_tickets).where(
                c.centre == row["centre"], c.day == row["day"], c.service_id == row["service_id"], c.state == "waiting",
                or_(c.head > row["head"],
                    and_(c.head == row["head"], or_(c.line_at < row["line_at"],
                                                    and_(c.line_at == row["line_at"], c.id < row["id"])))))).scalar_one()
            t["people_ahead"] = ahead
            t["estimated_wait_min"] = self._estimate(conn, row["centre"], row["service_id"], ahead, now)
        return t

    def _rate(self, conn, centre: str, service_id: str, now: datetime) -> tuple[float, int]:
        """(mean service seconds, counters serving) for the estimate."""
        c = queue_tickets.c
        since_day = (now.date() - timedelta(days=MEAN_OVER_DAYS)).isoformat()
        mean = conn.execute(select(func.avg(c.service_s)).where(
            c.centre == centre, c.service_id == service_id, c.state == "served", c.day >= since_day,
            c.service_s.is_not(None))).scalar()
        desks = conn.execute(select(func.count(func.distinct(c.counter))).where(
            c.centre == centre, c.service_id == service_id, c.state == "served",
            c.finished_at >= _iso(now - SERVING_WINDOW))).scalar_one()
        return (float(mean) if mean is not None else float(DEFAULT_SERVICE_S)), max(1, int(desks))

    def _estimate(self, conn, centre: str, service_id: str, ahead: int, now: datetime) -> int:
        if ahead <= 0:
            return 0
        return _minutes(ahead, *self._rate(conn, centre, service_id, now))


def _minutes(ahead: int, mean_s: float, desks: int) -> int:
    # a hair under a whole minute is that minute (float noise must not add one)
    return max(0, math.ceil(ahead * mean_s / 60 / desks - 1e-9))


# the call order: transfers (head=1) first in the order they came, then by time of issue
_LINE_ORDER = (queue_tickets.c.head.desc(), queue_tickets.c.line_at, queue_tickets.c.id)


def _no_ticket() -> CentralError:
    return _not_found("Không tìm thấy số thứ tự này ở trung tâm.", "no such ticket at this centre")


def _not_called(row) -> CentralError:
    number = number_of(row["prefix"], row["seq"])
    if row["state"] in OUTCOMES:
        return _conflict("already_finished", f"Số {number} đã kết thúc.", f"ticket {number} is already {row['state']}",
                         state=row["state"])
    return _conflict("not_called", f"Số {number} chưa được gọi.", f"ticket {number} has not been called", state=row["state"])
