"""Fetch the central system's current flow bundle and stage it on the kiosk.

    GET {central}/api/v1/flows                     → {"result": "ok", "bundle_id", "sha256", "flows": […]}
    GET {central}/api/v1/flows/bundles/{bundle_id} → the signed zip, ETag = "<sha256>"

The kiosk's background worker calls :func:`fetch_and_stage`; the UI calls
``BundleStore.activate_pending()`` between citizen sessions.
"""
from __future__ import annotations

import hashlib
import logging

from flows.bundles import BundleError, BundleInfo, BundleStore

log = logging.getLogger(__name__)


def fetch_and_stage(client, store: BundleStore) -> BundleInfo | None:
    """Stage the central system's current bundle when it is new to this kiosk.

    ``client``: the kiosk's one HTTP client (``kiosk.client.CentralClient``, with its
    authentication, CA and client certificate for mutual TLS), or anything with the same
    ``flows_index()`` and ``download_bundle(bundle_id) -> (bytes, etag)``. Returns the staged
    bundle's info, or None when there is nothing new. Raises :class:`BundleError` for a refused
    bundle or an answer that breaks the contract; network errors propagate as the client raises
    them (the caller retries later)."""
    index = client.flows_index()
    if not isinstance(index, dict) or index.get("result") != "ok":
        raise BundleError(en=f"GET /api/v1/flows: unexpected answer {str(index)[:200]}")
    bundle_id = index.get("bundle_id")
    if not bundle_id:
        return None
    state = store.status()
    running = {(state[k] or {}).get("bundle_id") for k in ("current", "pending")}
    if bundle_id in running or bundle_id in state["rolled_back"]:
        return None
    data, etag = client.download_bundle(bundle_id)
    if data is None:
        raise BundleError(en=f"bundle {bundle_id}: the central system answered 'not modified' to a first download")
    digest = hashlib.sha256(data).hexdigest()
    etag = (etag or "").strip().strip('"')
    if etag and etag != digest:
        raise BundleError(en=f"bundle {bundle_id} arrived damaged (sha256 does not match its ETag)")
    if index.get("sha256") and index["sha256"] != digest:
        raise BundleError(en=f"bundle {bundle_id} does not match the sha256 in the index")
    info = store.stage(data)
    log.info("fetched flow bundle %s", info.bundle_id)
    return info
