"""Province admins' procedures pages (issue 20, Deliver 1, read-mostly; Deliver 4's rollback):
the published flow bundle with its procedures and signers, one procedure with its YAML and its
versions in earlier bundles, the bundle history, and rolling back to an earlier bundle.

The only write is ``Central.rollback_bundle`` (with the admin's reason and username), audit-logged.
Everything shown is read from the ``bundles`` and ``bundle_events`` tables (central/service.py) and
the kiosks' last heartbeats (central/console/fleet.py): no personal data.

``register(app, central)`` is called from central/console/routes.py's ``register``.
"""
from __future__ import annotations

import io
import json
import logging
import re
import threading
import zipfile
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from central.console import auth, fleet
from central.console.accounts import User
from central.console.pages import HEADERS, render
from central.db import bundles
from central.drafts import LEVELS
from central.service import BUNDLE_ID_RX, CentralError
from common import clock
from common.money import fee_text
from flows.errors import FlowLoadError
from flows.loader import MAX_FILE_BYTES, load_flow_bytes

log = logging.getLogger(__name__)

PREFIX = "/console/procedures"
FLOW_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # flows/schema: a flow's id
MAX_REASON_CHARS = 1000  # central.service.rollback_bundle stores at most this
ACTIONS = {"publish": ("Phát hành", "Published"), "rollback": ("Quay lại", "Rolled back"),
           "pilot": ("Thử ở ki-ốt thí điểm", "To the pilot kiosks"), "promote": ("Phát hành toàn tỉnh", "Promoted to every kiosk")}
ROLES = {"submitted_by": ("Người trình", "submitted by"), "approved_by": ("Người duyệt", "approved by"),
         "signed_by": ("Người ký", "signed by")}

# Parsed flows of a bundle, by the bundle's sha256 (a bundle never changes): the list page reads a
# bundle of up to 200 MB and loads every flow once, not at every view
_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


# --- reading bundles -----------------------------------------------------------------------------
def _manifest(text: str) -> dict:
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def stored_bundles(central) -> list[dict]:
    """Every stored bundle, current first (highest ``seq``): id, sha256, manifest (no data)."""
    with central.engine.connect() as conn:
        rows = conn.execute(select(bundles.c.bundle_id, bundles.c.sha256, bundles.c.manifest, bundles.c.created_at,
                                   bundles.c.seq, bundles.c.audience, bundles.c.province_code)
                            .order_by(bundles.c.seq.desc())).mappings().all()
    return [{"bundle_id": r["bundle_id"], "sha256": r["sha256"], "stored_at": r["created_at"],
             "audience": r["audience"], "province_code": r["province_code"],
             "manifest": (m := _manifest(r["manifest"])), "made_at": vn_time(m.get("created_at"))} for r in rows]


def vn_time(value: Any) -> str:
    """A manifest's UTC '2026-11-20T03:00:00Z' as Vietnam time (the pages write dates the Vietnamese way)."""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "")[:40]
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(clock.VN_TZ).isoformat(timespec="seconds")


def _text(value: Any, lang: str = "vi") -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("vi") or "")
    return "" if value is None else str(value)


def _flow_view(flow, yaml_text: str) -> dict:
    return {
        "id": flow.id, "version": flow.version, "procedure_code": flow.procedure_code,
        "name_vi": _text(flow.name), "name_en": _text(flow.name, "en"), "field_vi": _text(flow.field),
        "level": LEVELS.get(flow.competent_level, flow.competent_level),  # central.drafts.LEVELS
        "fee_vi": fee_text(flow.fee), "fee_en": fee_text(flow.fee, "en"), "processing_days": flow.processing_days,
        "steps": [{"id": s.id, "kind": s.kind, "title_vi": _text(s.title), "title_en": _text(s.title, "en"),
                   "fields": [f.id for f in s.fields]} for s in flow.steps],
        "documents": [{"id": d.id, "name_vi": _text(d.name), "name_en": _text(d.name, "en"), "need": d.need,
                       "when_vi": _text(d.when_text), "bring_original": d.bring_original} for d in flow.documents],
        "yaml": yaml_text,
    }


def bundle_flows(central, bundle: dict) -> dict[str, Any]:
    """{"flows": {id: view}, "problems": [text]} of one stored bundle, read from its zip. A flow
    that does not load (a bundle stored by a test or an older version) is named in ``problems``."""
    sha = bundle["sha256"]
    with _CACHE_LOCK:
        hit = _CACHE.get(sha)
    if hit is not None:
        return hit
    with central.engine.connect() as conn:
        data = conn.execute(select(bundles.c.data).where(bundles.c.bundle_id == bundle["bundle_id"])).scalar()
    out: dict[str, Any] = {"flows": {}, "problems": []}
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data or b""))) as zf:
            for f in bundle["manifest"].get("flows", []):
                fid = f.get("id") if isinstance(f, dict) else None
                if not isinstance(fid, str) or not FLOW_ID_RX.fullmatch(fid):
                    out["problems"].append(f"bad flow entry {str(fid)[:70]!r}")
                    continue
                path = f"flows/{fid}.yaml"
                try:
                    info = zf.getinfo(path)
                    if info.file_size > MAX_FILE_BYTES:
                        raise ValueError(f"{info.file_size} bytes")
                    raw = zf.read(info)
                    out["flows"][fid] = _flow_view(load_flow_bytes(raw, path), raw.decode("utf-8", "replace"))
                except (KeyError, ValueError, FlowLoadError, zipfile.BadZipFile) as exc:
                    out["problems"].append(f"{fid}: {str(exc)[:200]}")
    except (zipfile.BadZipFile, ValueError) as exc:
        out["problems"].append(f"not a readable zip: {str(exc)[:200]}")
    with _CACHE_LOCK:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[sha] = out
    return out


def signers_of(history: list[dict]) -> dict[str, list[dict]]:
    """The signers recorded when each bundle was published (bundle_events.signers), with roles in words."""
    out: dict[str, list[dict]] = {}
    for e in history:
        if e["action"] in ("publish", "pilot") and e["signers"]:
            out[e["bundle_id"]] = [{**s, "role_vi": ROLES.get(s.get("role"), (s.get("role") or "", ""))[0],
                                    "role_en": ROLES.get(s.get("role"), ("", s.get("role") or ""))[1]}
                                   for s in e["signers"] if isinstance(s, dict)]
    return out


def kiosk_bundles(every: list[dict], current: str | None) -> dict:
    """How many of the province's kiosks (``every``: fleet.fleet's) run the current bundle (their last heartbeat's
    ``versions.flow_bundle``), another one (by id), or have not said."""
    others = Counter(k["bundle"] for k in every if k["bundle"] and k["bundle"] != current)
    return {"total": len(every), "current": sum(1 for k in every if current and k["bundle"] == current),
            "unknown": sum(1 for k in every if not k["bundle"]), "others": sorted(others.items())}


def pilot_view(central, pilot: dict, signers: dict, kiosks: list[dict]) -> dict:
    """The pilot bundle and its kiosks: which of them report it active, and the dossiers each has
    sent since it was stored (intake must go on before the province gets it)."""
    from sqlalchemy import func  # noqa: PLC0415

    from central.db import dossiers  # noqa: PLC0415

    ids = [k["kiosk_id"] for k in kiosks]
    counts: dict[str, int] = {}
    if ids:
        with central.engine.connect() as conn:
            counts = dict(conn.execute(select(dossiers.c.kiosk_id, func.count()).where(
                dossiers.c.kiosk_id.in_(ids), dossiers.c.received_at >= pilot["stored_at"]).group_by(dossiers.c.kiosk_id)).all())
    rows = [{**k, "active": k["bundle"] == pilot["bundle_id"], "dossiers": counts.get(k["kiosk_id"], 0)} for k in kiosks]
    return {**pilot, "signers": signers.get(pilot["bundle_id"], []), "kiosks": rows,
            "active": sum(r["active"] for r in rows), "dossiers": sum(r["dossiers"] for r in rows)}


def flow_history(stored: list[dict], flow_id: str, current: str | None = None) -> list[dict]:
    """The versions of one flow in every stored bundle, newest first; ``current`` marks what every kiosk runs."""
    out = []
    for i, b in enumerate(stored):
        for f in b["manifest"].get("flows", []):
            if isinstance(f, dict) and f.get("id") == flow_id:
                out.append({"bundle_id": b["bundle_id"], "stored_at": b["stored_at"],
                            "current": b["bundle_id"] == current if current else i == 0, "pilot": b["audience"] == "pilot",
                            "newest": not out,
                            "made_at": b["made_at"],
                            "version": f.get("version"), "sha256": str(f.get("sha256") or "")[:12]})
    return out


# --- the routes ----------------------------------------------------------------------------------
def _flow_id(raw: str) -> str:
    if not FLOW_ID_RX.fullmatch(raw):
        raise auth.not_found()
    return raw


def _no_query(request: Request) -> None:
    if request.query_params:
        raise auth.ConsoleError(400, "Trang này không nhận tham số.", "This page takes no query parameters.")


def register(app: FastAPI, central) -> None:
    accounts = app.state.console_accounts

    @app.get(PREFIX, include_in_schema=False)
    def procedures_page(request: Request, user: User = Depends(fleet.admin)):
        _no_query(request)
        every = stored_bundles(central)
        # what the province's kiosks run, and (newer) what its pilot kiosks try first
        stored = [b for b in every if b["audience"] == "all" or (b["audience"] == "province" and b["province_code"] == user.province)]
        current = stored[0] if stored else None
        pilot = next((b for b in every if b["audience"] == "pilot" and b["province_code"] == user.province), None)
        if pilot is not None and current is not None and every.index(pilot) > every.index(current):
            pilot = None  # an older pilot that was never promoted: what runs now is newer
        history = central.bundle_history()
        signers = signers_of(history)
        loaded = bundle_flows(central, current) if current else {"flows": {}, "problems": []}
        events = []
        offered: set[str] = set()
        for e in reversed(history):  # newest first; one rollback form per earlier bundle, on its publish row
            can = (e["action"] in ("publish", "promote") and current is not None and e["bundle_id"] != current["bundle_id"]
                   and e["bundle_id"] not in offered and any(b["bundle_id"] == e["bundle_id"] for b in stored))
            if can:
                offered.add(e["bundle_id"])
            events.append({**e, "action_vi": ACTIONS.get(e["action"], (e["action"], ""))[0],
                           "action_en": ACTIONS.get(e["action"], ("", e["action"]))[1],
                           "signers": signers.get(e["bundle_id"], []) if e["action"] in ("publish", "pilot") else [],
                           "can_rollback": can})
        from central.console.drafts import pilot_ids  # noqa: PLC0415
        from central.drafts import Drafts  # noqa: PLC0415

        pilots = pilot_ids(central, user.province)
        pilot_versions = ({fid: f["version"] for fid, f in bundle_flows(central, pilot)["flows"].items()} if pilot else {})
        kiosks_all = fleet.fleet(central, user.province)
        return render(request, "procedures.html", user=user, current=current,
                      signers=signers.get(current["bundle_id"], []) if current else [],
                      flows=sorted(loaded["flows"].values(), key=lambda f: f["name_vi"]), problems=loaded["problems"],
                      kiosks=kiosk_bundles(kiosks_all, current["bundle_id"] if current else None),
                      events=events, max_reason=MAX_REASON_CHARS,
                      pilot=pilot_view(central, pilot, signers, [k for k in kiosks_all if k["kiosk_id"] in pilots]) if pilot else None,
                      fleet=[{**k, "pilot": k["kiosk_id"] in pilots} for k in kiosks_all], pilot_versions=pilot_versions,
                      drafts=Drafts(central).list(user.province, open_only=True))

    @app.get(PREFIX + "/{flow_id}", include_in_schema=False)
    def procedure_page(request: Request, flow_id: str, user: User = Depends(fleet.admin)):
        flow_id = _flow_id(flow_id)
        _no_query(request)
        stored = [b for b in stored_bundles(central) if b["audience"] == "all" or b["province_code"] == user.province]
        current = next((b for b in stored if b["audience"] != "pilot"), None)
        if current is None:
            raise auth.not_found()
        flow = bundle_flows(central, current)["flows"].get(flow_id)
        if flow is None:
            raise auth.not_found()
        return render(request, "procedure.html", user=user, flow=flow, bundle_id=current["bundle_id"],
                      history=flow_history(stored, flow_id, current["bundle_id"]))

    @app.post(PREFIX + "/rollback", include_in_schema=False)
    async def rollback(request: Request, user: User = Depends(fleet.admin)):
        form = await auth.post_form(request, user)
        bundle_id, reason = form.get("bundle_id", ""), " ".join(form.get("reason", "").split())
        if not BUNDLE_ID_RX.fullmatch(bundle_id):
            raise auth.not_found()
        # another province's bundle (a pilot or a province's own): not this admin's to bring back
        if not any(b["bundle_id"] == bundle_id and (b["audience"] == "all" or b["province_code"] == user.province)
                   for b in await run_in_threadpool(stored_bundles, central)):
            raise auth.not_found()
        if not reason:
            raise auth.ConsoleError(400, "Cần ghi lý do quay lại gói quy trình này.", "A rollback needs a reason.")
        if len(reason) > MAX_REASON_CHARS:
            raise auth.ConsoleError(400, f"Lý do dài quá {MAX_REASON_CHARS} ký tự.", f"Reason over {MAX_REASON_CHARS} characters.")
        try:
            changed, answer = await run_in_threadpool(central.rollback_bundle, bundle_id, reason, actor=user.username)
        except CentralError as exc:
            raise auth.ConsoleError(exc.status if 400 <= exc.status < 500 else 409, exc.message_vi, exc.message_en) from None
        if changed:
            await run_in_threadpool(accounts.audit, "bundle_rollback", username=user.username, centre=user.centre,
                                    target=bundle_id, detail=f"{answer['previous_bundle_id']} -> {bundle_id}: {reason}",
                                    address=auth.address(request))
        return RedirectResponse(PREFIX, status_code=303, headers=HEADERS)
