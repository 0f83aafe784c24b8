"""Fetch the central system's current flow bundle and stage it on the kiosk.

    GET {central}/api/v1/flows                     → {"result": "ok", "bundle_id", "sha256", "flows": […]}
    GET {central}/api/v1/flows/bundles/{bundle_id} → the signed zip, ETag = "<sha256>"

The kiosk's background worker calls :func:`fetch_and_stage`; the UI calls
``BundleStore.activate_pending()`` between citizen sessions.
"""
from __future__ import annotations

import hashlib
import logging
from urllib.parse import quote

from flows.bundles import BundleError, BundleInfo, BundleStore

log = logging.getLogger(__name__)


def fetch_and_stage(central_url: str, store: BundleStore, session, timeout: float = 30.0) -> BundleInfo | None:
    """Stage the central system's current bundle when it is new to this kiosk.

    ``session``: a ``requests.Session`` (or anything with the same ``get``) carrying the kiosk's
    authentication. Returns the staged bundle's info, or None when there is nothing new.
    Raises :class:`BundleError` for a refused bundle or an answer that breaks the contract;
    network errors propagate as the session raises them (the caller retries later)."""
    base = central_url.rstrip("/")
    r = session.get(f"{base}/api/v1/flows", timeout=timeout)
    if r.status_code != 200:
        raise BundleError(f"GET /api/v1/flows answered {r.status_code}")
    try:
        index = r.json()
    except ValueError:
        raise BundleError("GET /api/v1/flows did not answer JSON") from None
    if not isinstance(index, dict) or index.get("result") != "ok":
        raise BundleError(f"GET /api/v1/flows: unexpected answer {str(index)[:200]}")
    bundle_id = index.get("bundle_id")
    if not bundle_id:
        return None
    state = store.status()
    running = {(state[k] or {}).get("bundle_id") for k in ("current", "pending")}
    if bundle_id in running or bundle_id in state["rolled_back"]:
        return None
    r = session.get(f"{base}/api/v1/flows/bundles/{quote(bundle_id, safe='')}", timeout=timeout)
    if r.status_code != 200:
        raise BundleError(f"GET bundle {bundle_id} answered {r.status_code}")
    data = r.content
    digest = hashlib.sha256(data).hexdigest()
    etag = (r.headers.get("ETag") or "").strip().strip('"')
    if etag and etag != digest:
        raise BundleError(f"bundle {bundle_id} arrived damaged (sha256 does not match its ETag)")
    if index.get("sha256") and index["sha256"] != digest:
        raise BundleError(f"bundle {bundle_id} does not match the sha256 in the index")
    info = store.stage(data)
    log.info("fetched flow bundle %s", info.bundle_id)
    return info
