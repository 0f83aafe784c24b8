"""Province admins' pages (issue 20, Deliver 5): the health of every kiosk of the province
(/console/fleet) and the intake figures of its communes (/console/intake).

An admin sees figures, never a dossier: these pages read the kiosks' heartbeats (devices, outbox
counts, versions: no personal data, kiosk/heartbeat.py) and count dossiers by commune, procedure and
day. The one thing read from a dossier's body is its ``created_at`` (the kiosk's time of filing) and
its procedure's name; nothing of either leaves this module but a duration and the name.

``register(app, central)`` is called from central/console/routes.py's ``register``.
"""
from __future__ import annotations

import json
import math
import re
import statistics
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import func, select

from central.console import auth
from central.console.accounts import User
from central.console.pages import env, render
from central.db import dossiers, kiosks
from common import clock
from flows import units

PREFIX = "/console"
# kiosk/services.py starts its HeartbeatWorker with 300 s (central may not import kiosk/); a kiosk
# that says otherwise in its heartbeat (``interval_s``) is held to its own interval
DEFAULT_HEARTBEAT_S = 300
SILENT_AFTER_BEATS = 3
MAX_RANGE_DAYS = 366
MAX_PARAM_CHARS = 40
COMMUNE_RX = re.compile(r"[0-9]{5}")
DATE_RX = re.compile(r"(20[0-9]{2})-[0-9]{2}-[0-9]{2}")
# provisional dossiers whose delay is measured per page (a province's year holds far fewer)
MAX_DELAY_ROWS = 200_000

# The kiosk's diagnostic checks (kiosk/diagnostics/runner.py CHECKS) by their Vietnamese names
DEVICE_NAMES = {
    "idcard": ("Đầu đọc thẻ căn cước", "Card reader"),
    "qr": ("Máy quét mã QR", "QR scanner"),
    "camera": ("Camera", "Camera"),
    "printer": ("Máy in", "Printer"),
    "network": ("Mạng và hệ thống trung tâm", "Network and central system"),
    "outbox": ("Hồ sơ chờ gửi", "Outbox"),
    "disk": ("Ổ đĩa", "Disk"),
    "memory": ("Bộ nhớ", "Memory"),
    "temperature": ("Nhiệt độ", "Temperatures"),
    "versions": ("Phiên bản phần mềm", "Versions"),
}
# common.health.State in plain words; the page shows the words beside the colour, never colour alone
STATE_WORDS = {
    "ok": ("Tốt", "OK"),
    "not_ready": ("Đang khởi động, kết nối lại", "Not ready"),
    "needs_attention": ("Cần người xử lý", "Needs attention"),
    "failed": ("Hỏng", "Failed"),
}
VISIT_STATES = ("needs_attention", "failed")


# --- the fleet -----------------------------------------------------------------------------------
def _when(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=clock.VN_TZ)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def heartbeat_interval(beat: dict) -> int:
    """Seconds between this kiosk's heartbeats: its own ``interval_s`` when it sends a sane one."""
    own = beat.get("interval_s")
    if isinstance(own, (int, float)) and not isinstance(own, bool) and 10 <= own <= 86_400:
        return int(own)
    return DEFAULT_HEARTBEAT_S


def kiosk_health(row, now: datetime) -> dict:
    """One kiosk as the fleet page shows it, from its ``kiosks`` row. The stored heartbeat is what the
    kiosk sent (central/app.py's Heartbeat model allows extra keys), so every field is checked here."""
    try:
        beat = json.loads(row["last_heartbeat"]) if row["last_heartbeat"] else {}
    except ValueError:
        beat = {}
    beat = beat if isinstance(beat, dict) else {}
    devices_in = beat.get("devices") if isinstance(beat.get("devices"), dict) else {}
    devices = []
    for name, d in sorted(devices_in.items()):
        d = d if isinstance(d, dict) else {}
        state = d.get("state") if d.get("state") in STATE_WORDS else "unknown"
        vi, en = DEVICE_NAMES.get(name, (name[:40], name[:40]))
        words = STATE_WORDS.get(state, ("Không rõ", "Unknown"))
        devices.append({"name": name[:40], "name_vi": vi, "name_en": en, "state": state, "state_vi": words[0],
                        "state_en": words[1], "detail": _text(d.get("detail")), "action": _text(d.get("action"))})
    outbox = beat.get("outbox") if isinstance(beat.get("outbox"), dict) else {}
    versions = beat.get("versions") if isinstance(beat.get("versions"), dict) else {}
    held = _count(outbox.get("held"))
    reasons = [(d["name_vi"], d["state_vi"]) for d in devices if d["state"] in VISIT_STATES]
    if held:
        reasons.append(("Hồ sơ bị từ chối, nằm lại trong máy", f"{held} hồ sơ"))
    last_at = _when(row["last_heartbeat_at"])
    interval = heartbeat_interval(beat)
    silent = last_at is None or (now - last_at).total_seconds() > SILENT_AFTER_BEATS * interval
    return {
        "kiosk_id": row["kiosk_id"], "commune_code": row["commune_code"], "last_heartbeat_at": row["last_heartbeat_at"],
        "never": last_at is None, "silent": silent, "interval_s": interval,
        "devices": devices, "outbox_depth": _count(outbox.get("depth")), "held": held,
        "bundle": _text(versions.get("flow_bundle"), 100), "app_version": _text(versions.get("app"), 60),
        "needs_visit": bool(reasons), "visit_reasons": reasons,
        "problem": bool(reasons) or silent,
    }


def fleet(central, province: str, *, commune: str = "", only_problems: bool = False,
          now: datetime | None = None) -> list[dict]:
    """Every kiosk of ``province`` (of one commune), problems first, then by commune and id."""
    now = now or clock.now()
    where = [kiosks.c.province_code == province]
    if commune:
        where.append(kiosks.c.commune_code == commune)
    with central.engine.connect() as conn:
        rows = conn.execute(select(kiosks.c.kiosk_id, kiosks.c.commune_code, kiosks.c.last_heartbeat_at,
                                   kiosks.c.last_heartbeat).where(*where)).mappings().all()
    out = [kiosk_health(r, now) for r in rows]
    if only_problems:
        out = [k for k in out if k["problem"]]
    return sorted(out, key=lambda k: (not k["problem"], k["commune_code"], k["kiosk_id"]))


# --- intake figures ------------------------------------------------------------------------------
def _nearest_rank(values: list[float], share: float) -> float:
    return values[max(0, math.ceil(share * len(values)) - 1)]


def duration_text(seconds: float | None) -> str:
    """4500 → '1 giờ 15 phút': what an admin reads, not a number of seconds."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "dưới 1 phút"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} ngày"] if days else []
    if hours:
        parts.append(f"{hours} giờ")
    if mins and not days:
        parts.append(f"{mins} phút")
    return " ".join(parts)


def intake(central, province: str, day_from: date, day_to: date, *, commune: str = "") -> dict:
    """Dossiers received in ``province`` from ``day_from`` to ``day_to`` (both included, Vietnam
    days of central's ``received_at``): per commune, procedure and day, with totals; and per commune
    the delay from a provisional receipt to central's confirmation (``received_at`` minus the kiosk's
    ``created_at``) for the dossiers that carry a provisional code: count, median and 90th percentile
    (nearest rank). A kiosk clock ahead of ours gives a negative delay: left out, and counted."""
    start, end = day_from.isoformat(), (day_to + timedelta(days=1)).isoformat()
    where = [dossiers.c.province_code == province, dossiers.c.received_at >= start, dossiers.c.received_at < end]
    if commune:
        where.append(dossiers.c.commune_code == commune)
    day = func.substr(dossiers.c.received_at, 1, 10)
    with central.engine.connect() as conn:
        groups = conn.execute(select(dossiers.c.commune_code, dossiers.c.procedure_code, day.label("day"),
                                     func.count().label("n")).where(*where)
                              .group_by(dossiers.c.commune_code, dossiers.c.procedure_code, day)).mappings().all()
        newest = conn.execute(select(dossiers.c.procedure_code, func.max(dossiers.c.id)).where(*where)
                              .group_by(dossiers.c.procedure_code)).all()
        names_of = conn.execute(select(dossiers.c.procedure_code, dossiers.c.body)
                                .where(dossiers.c.id.in_([i for _, i in newest]))).all() if newest else []
        provisional = conn.execute(select(dossiers.c.commune_code, dossiers.c.received_at, dossiers.c.body)
                                   .where(*where, dossiers.c.provisional_code.is_not(None))
                                   .limit(MAX_DELAY_ROWS)).all()
    names = {code: _procedure_name(body) for code, body in names_of}
    rows = sorted(({"commune_code": g["commune_code"], "procedure_code": g["procedure_code"],
                    "procedure_name": names.get(g["procedure_code"], ""), "day": g["day"], "count": g["n"]} for g in groups),
                  key=lambda r: (r["commune_code"], r["procedure_code"], r["day"]))
    by_commune: dict[str, int] = {}
    by_day: dict[str, int] = {}
    by_procedure: dict[str, int] = {}
    for r in rows:
        by_commune[r["commune_code"]] = by_commune.get(r["commune_code"], 0) + r["count"]
        by_day[r["day"]] = by_day.get(r["day"], 0) + r["count"]
        by_procedure[r["procedure_code"]] = by_procedure.get(r["procedure_code"], 0) + r["count"]
    waits: dict[str, list[float]] = {}
    skewed: dict[str, int] = {}
    for commune_code, received_at, body in provisional:
        received, created = _when(received_at), _when(_created_at(body))
        if received is None or created is None:
            continue
        seconds = (received - created).total_seconds()
        if seconds < 0:
            skewed[commune_code] = skewed.get(commune_code, 0) + 1
            continue
        waits.setdefault(commune_code, []).append(seconds)
    delays = []
    for commune_code in sorted(set(waits) | set(skewed)):
        values = sorted(waits.get(commune_code, []))
        median = statistics.median(values) if values else None
        p90 = _nearest_rank(values, 0.9) if values else None
        delays.append({"commune_code": commune_code, "count": len(values), "skewed": skewed.get(commune_code, 0),
                       "median_s": median, "p90_s": p90, "median_text": duration_text(median), "p90_text": duration_text(p90)})
    return {"rows": rows, "by_commune": sorted(by_commune.items()), "by_day": sorted(by_day.items()),
            "by_procedure": sorted(by_procedure.items()), "procedure_names": names,
            "total": sum(by_commune.values()), "delays": delays}


def _body(raw) -> dict:
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _created_at(raw) -> Any:
    return _body(raw).get("created_at")


def _procedure_name(raw) -> str:
    proc = _body(raw).get("procedure")
    return _text(proc.get("name_vi"), 200) if isinstance(proc, dict) else ""


# --- the routes ----------------------------------------------------------------------------------
async def admin(request: Request) -> User:
    """FastAPI dependency: a province admin (officers and supervisors: 403)."""
    user = await auth.current_user(request)
    if not user.is_admin or not user.province:
        raise auth.ConsoleError(403, "Trang này chỉ dành cho quản trị viên của tỉnh, thành phố.", "Province admins only.")
    return user


def _bad(vi: str, en: str) -> auth.ConsoleError:
    return auth.ConsoleError(400, vi, en)


def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's known parameters, each given at most once, short and printable."""
    q = request.query_params
    out = {}
    for key in allowed:
        values = q.getlist(key)
        if len(values) > 1:
            raise _bad("Bộ lọc bị lặp lại.", f"'{key}' given more than once.")
        value = values[0] if values else ""
        if len(value) > MAX_PARAM_CHARS or any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            raise _bad("Bộ lọc không hợp lệ.", f"Bad '{key}'.")
        out[key] = value.strip()
    return out


def _commune(raw: str, province: str) -> str:
    if not raw:
        return ""
    if not COMMUNE_RX.fullmatch(raw) or not units.commune_in_province(raw, province):
        raise _bad("Mã xã, phường không hợp lệ hoặc không thuộc tỉnh, thành phố của bạn.",
                   "Unknown commune, or not one of your province's.")
    return raw


def _day(raw: str, default: date) -> date:
    if not raw:
        return default
    try:
        if not DATE_RX.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad("Ngày không hợp lệ (năm-tháng-ngày, ví dụ 2026-12-04).", "Bad date (YYYY-MM-DD).") from None


def _communes_choice(codes: set[str]) -> list[tuple[str, str]]:
    out = []
    for code in filter(None, codes):
        c = units.commune(code)
        out.append((code, c.name if c is not None else f"xã/phường {code}"))
    return sorted(out, key=lambda kv: kv[1])


def province_name(code: str) -> str:
    """'01' → 'Thành phố Hà Nội' (the admin's province by name; base.html's header shows it)."""
    p = units.province(code) if isinstance(code, str) else None
    return p.name if p is not None else f"tỉnh {code}"


env.filters["province_name"] = province_name


def register(app: FastAPI, central) -> None:
    @app.get(PREFIX + "/fleet", include_in_schema=False)
    def fleet_page(request: Request, user: User = Depends(admin)):
        p = _params(request, ("commune", "problems"))
        commune = _commune(p["commune"], user.province)
        if p["problems"] not in ("", "1"):
            raise _bad("Bộ lọc không hợp lệ.", "problems: 1 or nothing.")
        now = clock.now()
        every = fleet(central, user.province, now=now)
        shown = [k for k in every if (not commune or k["commune_code"] == commune) and (k["problem"] or p["problems"] != "1")]
        return render(request, "fleet.html", user=user, kiosks=shown, now=now.isoformat(timespec="seconds"),
                      communes=_communes_choice({k["commune_code"] for k in every}), commune=commune,
                      only_problems=p["problems"] == "1", province_name=province_name(user.province),
                      counts={"all": len(every), "visit": sum(k["needs_visit"] for k in every),
                              "silent": sum(k["silent"] for k in every)},
                      silent_after=SILENT_AFTER_BEATS)

    @app.get(PREFIX + "/intake", include_in_schema=False)
    def intake_page(request: Request, user: User = Depends(admin)):
        p = _params(request, ("from", "to", "commune"))
        today = clock.today()
        day_to = _day(p["to"], today)
        day_from = _day(p["from"], day_to - timedelta(days=6))
        if day_from > day_to or (day_to - day_from).days >= MAX_RANGE_DAYS:
            raise _bad("Khoảng ngày không hợp lệ: ngày bắt đầu phải trước ngày kết thúc, tối đa 1 năm.",
                       "Bad date range (from ≤ to, a year at most).")
        commune = _commune(p["commune"], user.province)
        figures = intake(central, user.province, day_from, day_to, commune=commune)
        with central.engine.connect() as conn:  # the communes with kiosks; dossiers may go elsewhere (Decree 118)
            with_kiosks = set(conn.execute(select(kiosks.c.commune_code).where(kiosks.c.province_code == user.province)
                                           .distinct()).scalars())
        communes = _communes_choice(with_kiosks | {c for c, _ in figures["by_commune"]} | ({commune} if commune else set()))
        return render(request, "intake.html", user=user, figures=figures, day_from=day_from.isoformat(),
                      day_to=day_to.isoformat(), commune=commune, communes=communes,
                      province_name=province_name(user.province))
