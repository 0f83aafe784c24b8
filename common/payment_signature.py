"""How a bank gateway signs a payment notification (issue 22): HMAC-SHA256, with the gateway's shared
secret, over the canonical text of the signed fields and a timestamp. One definition for the
central system that checks it (``central.payments``) and the simulated bank that makes it
(``kiosk.sim_bank``): a change here changes both."""
from __future__ import annotations

import hashlib
import hmac

from common import clock

SIGNED_FIELDS = ("amount", "dossier_code", "paid_at", "transaction_id")


def canonical(body: dict, timestamp: int | str) -> str:
    """The signed text: every signed field and the timestamp as ``key=value``, keys sorted, joined
    by ``&``. (The values the server accepts hold neither ``&`` nor ``=``: see the body's patterns.)"""
    fields = {k: body[k] for k in SIGNED_FIELDS}
    fields["timestamp"] = timestamp
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields))


def sign_notification(secret: str, body: dict, timestamp: int | None = None) -> dict[str, str]:
    """The headers a gateway sends with ``body``: ``X-Timestamp`` (now by ``common.clock`` unless
    given) and ``X-Signature``."""
    ts = int(clock.now().timestamp()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode("utf-8"), canonical(body, ts).encode("utf-8"), hashlib.sha256).hexdigest()
    return {"X-Timestamp": str(ts), "X-Signature": digest}
