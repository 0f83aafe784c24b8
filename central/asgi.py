"""ASGI factory for running the central system under uvicorn with several worker processes:

    CENTRAL_DATABASE=postgresql://… uvicorn --factory central.asgi:app_from_env --workers 2

``CENTRAL_GC_FREEZE=0`` skips ``central.server.settle_process`` (the benchmark's "before" rows).
``CENTRAL_FAST_INTAKE=0`` keeps PostgreSQL on the SQLAlchemy intake path (``central.pg_intake`` otherwise).
``CENTRAL_PUBLIC_OPENAPI=1`` serves ``/openapi.json``; ``CENTRAL_PAYMENT_SECRET`` is the bank gateway's
HMAC secret (payment notifications, ``central.payments``; unset: off); ``CENTRAL_BIND_CLIENT_CERTIFICATES=1`` (set by
``central.server.serve`` under mutual TLS) requires the client certificate to name the kiosk id.
Each worker process opens its own engine; the database (SQLite WAL or PostgreSQL) is what they
share, so a dossier is still stored exactly once whichever worker answers.
"""
from __future__ import annotations

import json
import os

from central.app import create_app
from central.server import settle_process
from central.service import Central
from common import redact


def app_from_env():
    # a worker process starts with no logging but uvicorn's: give the root logger a redacting handler
    redact.install_logging(os.environ.get("CENTRAL_LOG_LEVEL", "INFO"))
    central = Central.open(
        os.environ["CENTRAL_DATABASE"],
        admin_token=os.environ.get("CENTRAL_ADMIN_TOKEN", ""),
        trusted_keys=json.loads(os.environ.get("CENTRAL_TRUSTED_KEYS", "[]")),
        min_signatures=int(os.environ.get("CENTRAL_MIN_SIGNATURES", "1")),
        fast_intake=os.environ.get("CENTRAL_FAST_INTAKE", "1") != "0",
        public_openapi=os.environ.get("CENTRAL_PUBLIC_OPENAPI", "0") == "1",
        # under mutual TLS: run uvicorn with --http central.server:PeerCertProtocol, or every
        # kiosk is refused (403 certificate_mismatch: the certificate is not reported)
        bind_client_certificates=os.environ.get("CENTRAL_BIND_CLIENT_CERTIFICATES", "0") == "1",
        # the bank gateway's HMAC secret for payment notifications (central.payments); empty: off
        payment_secret=os.environ.get("CENTRAL_PAYMENT_SECRET", ""),
    )
    app = create_app(central)
    if os.environ.get("CENTRAL_GC_FREEZE", "1") != "0":
        settle_process()
    return app
