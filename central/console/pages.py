"""Rendering the console's pages: jinja2 templates (autoescaped) from central/console/templates/,
with the headers every console answer carries.

Every page may show personal data (a dossier, a name on a counter) or act for a person, so none
is cached (``Cache-Control: no-store``), framed (``frame-ancestors 'none'``) or allowed a script or
style from anywhere but this server (the CSP names 'self' only: no CDN)."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from central import routing
from common.money import fee_text

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")

HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
}

# Dossier statuses as the officers and the kiosk's lookup call them
STATUS_LABELS = {
    "received": ("Đã tiếp nhận", "Received"),
    "processing": ("Đang giải quyết", "In progress"),
    "needs_papers": ("Cần bổ sung giấy tờ", "More papers needed"),
    "ready": ("Đã có kết quả", "Result ready"),
    "done": ("Đã có kết quả", "Result ready"),
    "returned": ("Đã trả hồ sơ", "Returned"),
}

env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True, default_for_string=True),
                  trim_blocks=True, lstrip_blocks=True)


def status_vi(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[0]


def status_en(status: str) -> str:
    return STATUS_LABELS.get(status, (status, status))[1]


def hhmm(at: str | None) -> str:
    """'2026-12-04T08:05:00+07:00' → '04/12 08:05' (what a counter needs; the full time is in a title)."""
    if not at or len(at) < 16:
        return at or ""
    return f"{at[8:10]}/{at[5:7]} {at[11:16]}"


def when(at: str | None) -> str:
    """'2026-12-04T08:05:00+07:00' → '04/12/2026 08:05', and '2026-12-07' → '07/12/2026': the
    way dates are written in Vietnam, not ISO."""
    if not at or len(at) < 10 or at[4] != "-":
        return at or ""
    day = f"{at[8:10]}/{at[5:7]}/{at[0:4]}"
    return f"{day} {at[11:16]}" if len(at) >= 16 else day


def commune_name(code: str) -> str:
    """'00004' → 'Phường Ba Đình' (the officer's own unit, by name; the code when unknown)."""
    unit = routing.lookup_commune(code) if isinstance(code, str) else None
    return unit.name if unit is not None else f"xã/phường {code}"


env.filters["status_vi"] = status_vi
env.filters["status_en"] = status_en
env.filters["hhmm"] = hhmm
env.filters["when"] = when
env.filters["commune_name"] = commune_name
env.filters["fee"] = fee_text


def render(request: Request, name: str, *, http_status: int = 200, headers: dict | None = None, **ctx) -> HTMLResponse:
    html = env.get_template(name).render(request=request, **ctx)
    return HTMLResponse(html, status_code=http_status, headers={**HEADERS, **(headers or {})})
