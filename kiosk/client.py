"""Thin HTTP client for the central system (``central/openapi.json``), built on requests.

Only an explicit ``result`` in a JSON body counts as success: a captive portal that answers
200 with an HTML login page is *offline*, not "sent". Errors are typed so the sync worker can
decide what each answer means for the queue (``kiosk.sync``):

- ``Offline``: no usable answer (no connection, timeout, truncated body, a captive portal's page,
  511/407 network login, 408): central is not reachable, stop and retry everything later.
- ``ServerError`` (an ``Offline``): a 5xx, or an upload central received damaged (422
  ``hash_mismatch``): central answered but failed on *this* request; the dossier is retried on its
  own back-off and the others go on.
- ``RateLimited`` (an ``Offline``): 429; pause all sending for ``retry_after`` seconds.
- ``AuthError``: 401/403 (whatever the body) and TLS verification failures: credentials or
  certificate, a person must act.
- ``Refused`` (a ``Rejected``): 400, 409 other than ``missing_attachments`` (``uuid_conflict``:
  the uuid is bound to another dossier), 413, 422: central refuses this dossier for good;
  sending it again will not help. ``code`` is central's reason (``http_<status>`` without one).
- ``Rejected``: any other 4xx with a JSON refusal (404 for a status lookup, 405 for a wrong URL).
- ``MissingAttachments``: 409 ``missing_attachments``; upload them and submit again.

TLS verification is always on (``ca_file`` chooses the CA bundle; there is no switch to turn it
off); ``client_cert``/``client_key`` give mutual TLS. Retrying is the sync worker's job (with
exponential backoff and jitter): one call here is one attempt, bounded by ``timeout``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import urllib3

from common.errors import BilingualError

log = logging.getLogger(__name__)


class CentralClientError(BilingualError):
    """Base of the client's errors; ``message_vi`` is safe to show a technician or citizen.
    ``status`` is the HTTP status when there was one, ``code`` the central system's ``"error"``."""

    retryable = False
    message_vi = "Không gửi được hồ sơ đến hệ thống trung tâm."

    def __init__(self, *, en: str | None = None, vi: str | None = None, code: str = "", detail: str = "",
                 status: int | None = None):
        super().__init__(en=en, vi=vi, code=code, detail=detail)
        self.status = status


class Offline(CentralClientError):
    """No usable answer (connection, timeout, not JSON, captive portal): try again later."""

    retryable = True
    message_vi = "Mất kết nối đến hệ thống trung tâm; hồ sơ đã được lưu và sẽ tự động gửi lại."
    message_en = "The central system cannot be reached; the dossier is kept and will be sent later."


class ServerError(Offline):
    """Central answered 5xx (or received an upload damaged): it failed on *this* request. The sync
    worker retries that dossier on its own back-off and goes on with the others."""

    message_vi = "Hệ thống trung tâm tạm thời chưa nhận được hồ sơ; hồ sơ đã được lưu và sẽ tự động gửi lại."
    message_en = "The central system failed on this request; the dossier is kept and will be sent again later."


class RateLimited(Offline):
    """429: central asks the kiosk to wait ``retry_after`` seconds (None when it did not say)."""

    message_vi = "Hệ thống trung tâm đang tạm giới hạn yêu cầu; hồ sơ đã được lưu và sẽ tự động gửi lại."
    message_en = "The central system asks the kiosk to wait; the dossier is kept and will be sent later."

    def __init__(self, *, retry_after: float | None = None, en: str | None = None, vi: str | None = None, code: str = "",
                 detail: str = "", status: int | None = 429):
        super().__init__(en=en, vi=vi, code=code, detail=detail, status=status)
        self.retry_after = retry_after


class AuthError(CentralClientError):
    """The central system does not accept this kiosk's credentials (or certificate)."""

    message_vi = "Máy kiosk chưa được cấp quyền gửi hồ sơ; vui lòng báo cán bộ kỹ thuật."
    message_en = "The central system does not accept this kiosk's credentials; please tell the technician."


class Rejected(CentralClientError):
    """The central system refused the request itself (4xx): retrying the same thing will not help."""

    message_vi = "Hệ thống trung tâm từ chối hồ sơ; vui lòng báo cán bộ kỹ thuật."
    message_en = "The central system refused the request; please tell the technician."


class Refused(Rejected):
    """Central refuses this dossier for good (400, 409 ``uuid_conflict``, 413, 422): the sync worker
    sets it aside for a technician (held, with ``code`` as the reason) and sends the others."""


class MissingAttachments(CentralClientError):
    """409: the dossier names attachments the central system does not hold yet."""

    retryable = True
    code = "missing_attachments"

    def __init__(self, *, missing: list[str], en: str | None = None, vi: str | None = None, code: str = "",
                 detail: str = "", status: int | None = 409):
        super().__init__(en=en or f"central is missing {len(missing)} attachment(s)", vi=vi, code=code, detail=detail,
                         status=status)
        self.missing = list(missing)


@dataclass(frozen=True)
class SubmitResult:
    result: str                  # created | already
    dossier_code: str
    lookup_secret: str
    appointment_date: str | None
    handling_unit: dict[str, Any]
    received_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _no_connection(exc: requests.exceptions.RequestException) -> bool:
    """True when no TCP connection was made at all (requests wraps urllib3's reason in args[0])."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


# Statuses that refuse the request's content itself, whatever sent it: the same dossier will get
# the same answer (central's 409 ``missing_attachments`` is the one exception, handled first).
REFUSED_STATUSES = (400, 409, 413, 422)
# Answered by the network in front of central, not by central: a login page, a proxy, a slow uplink.
_NETWORK_STATUSES = (407, 408, 511)
_REASON = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
HELP_CALL_STATES = ("open", "acknowledged", "cancelled")  # central's states of a help call
PAYMENT_STATES = ("unpaid", "paid", "flagged")  # central's states of a dossier's fee payment
RETRY_AFTER_MAX_S = 3600.0  # a Retry-After above this is read as this: never park the queue for days


def reason_code(code: str, status: int | None) -> str:
    """Central's machine reason (``uuid_conflict``) when it looks like one, else ``http_<status>``:
    what a held dossier shows the technician, so it never carries free text from the answer."""
    return code if code and _REASON.fullmatch(code) else f"http_{status or 0}"


def _retry_after(resp: requests.Response, body: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds, or an HTTP date read against the answer's
    own Date header: the kiosk's clock is not asked), else the refusal body's ``retry_after``."""
    raw = (resp.headers.get("Retry-After") or "").strip()
    seconds: float | None = None
    if raw:
        try:
            seconds = float(raw)
        except ValueError:
            try:
                at, sent = parsedate_to_datetime(raw), parsedate_to_datetime(resp.headers.get("Date") or "")
                seconds = (at - sent).total_seconds()
            except (TypeError, ValueError, IndexError):
                seconds = None
    if seconds is None and isinstance(body, dict) and isinstance(body.get("retry_after"), (int, float)):
        seconds = float(body["retry_after"])
    if seconds is None or seconds != seconds:  # missing or NaN
        return None
    return min(max(0.0, seconds), RETRY_AFTER_MAX_S)


class CentralClient:
    def __init__(self, url: str, kiosk_id: str, secret: str, ca_file: str | None = None,
                 client_cert: str | None = None, client_key: str | None = None, timeout: float = 10):
        self.url = url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.timeout = timeout
        self._session = requests.Session()
        self._session.auth = (kiosk_id, secret)
        self._session.verify = ca_file or True  # never False: a CA file or the system store
        self._session.trust_env = False  # a proxy from the environment is not the kiosk's network
        if client_cert:
            self._session.cert = (client_cert, client_key) if client_key else client_cert
        self._session.headers["User-Agent"] = f"vn-kiosk/{kiosk_id}"

    @classmethod
    def from_config(cls, config) -> "CentralClient":
        c = config["central"]
        return cls(c["url"], config["kiosk"]["id"], c["kiosk_secret"], ca_file=c.get("ca_file") or None,
                   client_cert=c.get("client_cert") or None, client_key=c.get("client_key") or None,
                   timeout=c.get("timeout_s", 10))

    def close(self) -> None:
        self._session.close()

    # --- transport ----------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, timeout: float | None = None, **kw) -> tuple[int, dict]:
        try:
            resp = self._session.request(method, self.url + path, timeout=timeout or self.timeout, **kw)
            status = resp.status_code
            content_type = resp.headers.get("Content-Type", "")
            raw = resp.content  # reading the body inside the try: a truncated answer is offline too
        except requests.exceptions.SSLError as exc:
            # a certificate we do not trust is a configuration problem, not a flaky network
            raise AuthError(en=f"TLS verification failed: {type(exc).__name__}", code="tls") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # "unreachable": not even a connection (refused, no route, DNS, connect timeout). The
            # sync worker takes it as "central is gone", so its health probe may end the backoff as
            # soon as central answers; a reset, read timeout or truncated answer came from something
            # that was there, where only the backoff paces the next try.
            raise Offline(en=f"{method} {path}: {type(exc).__name__}", code="unreachable" if _no_connection(exc) else "") from None
        body: Any = None
        if "json" in content_type:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        code = str(body.get("error", "")) if isinstance(body, dict) else ""
        where = f"{method} {path}: HTTP {status}"
        if status in _NETWORK_STATUSES:
            # a captive portal (511), a proxy asking for a login (407), a request too slow (408)
            raise Offline(en=f"{where} from the network in front of central", status=status)
        if status >= 500:
            raise ServerError(en=f"{where} {reason_code(code, status)}", status=status, code=reason_code(code, status))
        if status in (401, 403):  # whatever the body: something refuses these credentials
            raise AuthError(en=f"{where} {reason_code(code, status)}", status=status, code=reason_code(code, status))
        if status == 429:
            wait = _retry_after(resp, body)
            raise RateLimited(en=f"{where} (retry after {wait if wait is not None else '?'} s)", status=status,
                              code=reason_code(code or "rate_limited", status), retry_after=wait)
        if status == 409 and isinstance(body, dict) and body.get("result") == "missing_attachments":
            raise MissingAttachments(missing=list(body.get("missing") or []))
        if status == 422 and code == "hash_mismatch":
            # the bytes were damaged on the way (the client hashed them before sending): send again
            raise ServerError(en=f"{where} hash_mismatch", status=status, code=code)
        if status in REFUSED_STATUSES:
            # central's documented refusal, or a proxy's page (nginx's 413): this content will not pass
            fields = body.get("fields") if isinstance(body, dict) else None
            detail = ("fields: " + ", ".join(str(f)[:60] for f in fields[:5])) if isinstance(fields, list) and fields else ""
            vi = body.get("message_vi") if isinstance(body, dict) and isinstance(body.get("message_vi"), str) else None
            raise Refused(en=f"{where} {reason_code(code, status)}", status=status, code=reason_code(code, status),
                          vi=vi, detail=detail)
        if not isinstance(body, dict) or "result" not in body:
            # a captive portal, a proxy error page, a truncated body: nothing we can trust
            raise Offline(en=f"{where} without a JSON result ({content_type or 'no type'})", status=status)
        if 400 <= status < 500:
            vi = body.get("message_vi") if isinstance(body.get("message_vi"), str) else None
            raise Rejected(en=f"{where} {reason_code(code, status)}", status=status, code=reason_code(code, status), vi=vi)
        return status, body

    # --- API ----------------------------------------------------------------------------------
    def ping(self, timeout: float) -> None:
        """One cheap ``GET /api/v1/health`` bounded by ``timeout``: returns when central answers
        ``{"result": "ok"}``, raises ``Offline`` (or ``AuthError`` for TLS) otherwise. No
        credentials are checked there, so it says "central answers", not "this kiosk may send"."""
        status, body = self._call("GET", "/api/v1/health", timeout=timeout)
        if body.get("result") != "ok":
            raise Offline(en=f"unexpected health answer {body.get('result')!r} (HTTP {status})", status=status)

    def upload_attachment(self, sha256: str, data: bytes) -> str:
        """PUT the bytes (idempotent). Returns ``stored`` or ``already``."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError("attachment bytes do not match their sha256")
        status, body = self._call("PUT", f"/api/v1/attachments/{sha256}", data=data,
                                  headers={"Content-Type": "application/octet-stream"})
        if body.get("result") not in ("stored", "already"):
            raise Offline(en=f"unexpected attachment answer {body.get('result')!r}", status=status)
        return body["result"]

    def submit(self, dossier: dict) -> SubmitResult:
        status, body = self._call("POST", "/api/v1/dossiers", json=dossier)
        if body.get("result") not in ("created", "already") or not body.get("dossier_code") or not body.get("lookup_secret"):
            raise Offline(en=f"unexpected submit answer {body.get('result')!r} (HTTP {status})", status=status)
        return SubmitResult(body["result"], body["dossier_code"], body["lookup_secret"], body.get("appointment_date"),
                            body.get("handling_unit") or {}, body.get("received_at"))

    def status(self, code: str, secret: str) -> dict | None:
        """The dossier's status, or None when the code/secret pair is unknown (404)."""
        try:
            _, body = self._call("GET", f"/api/v1/dossiers/{requests.utils.quote(code, safe='')}", params={"secret": secret})
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        return body

    def payment(self, code: str) -> dict:
        """The fee payment of one of this kiosk's dossiers (issue 22): ``{"state": "unpaid" | "paid" |
        "flagged", "amount_due", "amount_paid", "paid_at"}``. A dossier central does not know, or
        another kiosk filed, is a ``Rejected`` with status 404."""
        _, body = self._call("GET", f"/api/v1/dossiers/{requests.utils.quote(code, safe='')}/payment")
        payment = body.get("payment")
        if body.get("result") != "ok" or not isinstance(payment, dict) or payment.get("state") not in PAYMENT_STATES:
            raise Offline(en=f"unexpected payment answer {body.get('result')!r}")
        return payment

    def heartbeat(self, payload: dict) -> dict:
        _, body = self._call("POST", f"/api/v1/kiosks/{self.kiosk_id}/heartbeat", json=payload)
        if body.get("result") != "accepted":
            raise Offline(en=f"unexpected heartbeat answer {body.get('result')!r}")
        return body

    # --- help calls (issue 18): a citizen asks for a staff member; nothing personal is sent ----------
    def create_help_call(self, call: dict) -> dict:
        """POST the call (``uuid`` chosen by the kiosk: sending it again is harmless). Returns
        central's answer (``result`` created | already, ``state``)."""
        status, body = self._call("POST", "/api/v1/help-calls", json=call)
        if body.get("result") not in ("created", "already") or body.get("state") not in HELP_CALL_STATES:
            raise Offline(en=f"unexpected help call answer {body.get('result')!r} (HTTP {status})", status=status)
        return body

    def help_call(self, uuid: str) -> dict | None:
        """The state of one of this kiosk's calls, or None when central does not know it (404)."""
        try:
            _, body = self._call("GET", f"/api/v1/help-calls/{requests.utils.quote(uuid, safe='')}")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        if body.get("state") not in HELP_CALL_STATES:
            raise Offline(en=f"unexpected help call state {body.get('state')!r}")
        return body

    def cancel_help_call(self, uuid: str) -> dict | None:
        """Cancel one of this kiosk's calls (``accepted`` or ``already``); None when central does
        not know it (404: it never arrived, so there is nothing to cancel)."""
        try:
            _, body = self._call("POST", f"/api/v1/help-calls/{requests.utils.quote(uuid, safe='')}/cancel")
        except Rejected as exc:
            if exc.status == 404:
                return None
            raise
        if body.get("result") not in ("accepted", "already"):
            raise Offline(en=f"unexpected help call cancel answer {body.get('result')!r}")
        return body

    def confirm_help_call(self, uuid: str, code: str) -> dict:
        """The officer typed their one-time code for this kiosk's call: ``{"confirmed_by",
        "confirmed_at"}``; a wrong, expired or burnt code is Rejected with central's words."""
        _, body = self._call("POST", f"/api/v1/help-calls/{requests.utils.quote(uuid, safe='')}/confirm",
                             json={"code": code})
        if body.get("result") != "confirmed" or not isinstance(body.get("confirmed_by"), str):
            raise Offline(en=f"unexpected confirmation answer {body.get('result')!r}")
        return body

    # --- the centre's queue and ratings (issue 19): nothing personal is sent ----------------------
    def take_ticket(self, uuid: str, service_id: str, service_name: str, *, timeout: float | None = None,
                    dossier_code: str = "") -> dict:
        """A number from the centre's one queue (``uuid`` chosen by the kiosk: asking again returns
        the same ticket). Returns the ticket dict (number, people_ahead, estimated_wait_min …)."""
        _, body = self._call("POST", "/api/v1/queue/tickets", timeout=timeout,
                             json={"uuid": uuid, "service_id": service_id, "service_name": service_name,
                                   **({"dossier_code": dossier_code} if dossier_code else {})})
        return self._ticket(body)

    def reserve_block(self, service_id: str, service_name: str, size: int, *, timeout: float | None = None) -> dict:
        """Numbers reserved for this kiosk to give while central cannot be reached:
        ``{"service_id", "prefix", "day", "first", "last"}``."""
        _, body = self._call("POST", "/api/v1/queue/blocks", timeout=timeout,
                             json={"service_id": service_id, "service_name": service_name, "size": size})
        block = body.get("block")
        if body.get("result") != "ok" or not isinstance(block, dict) or not all(
                k in block for k in ("prefix", "day", "first", "last")):
            raise Offline(en=f"unexpected block answer {body.get('result')!r}")
        return block

    def report_offline_ticket(self, ticket: dict) -> dict:
        """Tell central about a number given from a reserved block (``uuid``, ``service_id``,
        ``day``, ``seq``, ``issued_at``); a replay answers the same ticket."""
        _, body = self._call("POST", "/api/v1/queue/tickets/offline", json=ticket)
        return self._ticket(body)

    def queue_wait(self, service_id: str, *, timeout: float | None = None) -> dict:
        """``{"people_ahead", "estimated_wait_min"}`` for one service of this kiosk's centre."""
        _, body = self._call("GET", f"/api/v1/queue/services/{requests.utils.quote(service_id, safe='')}/wait",
                             timeout=timeout)
        if body.get("result") != "ok":
            raise Offline(en=f"unexpected wait answer {body.get('result')!r}")
        return body

    def rate(self, rating: dict) -> str:
        """POST one rating (idempotent by its ``uuid``); returns central's ``result``."""
        _, body = self._call("POST", "/api/v1/ratings", json=rating)
        if body.get("result") != "ok":
            raise Offline(en=f"unexpected rating answer {body.get('result')!r}")
        return body["result"]

    @staticmethod
    def _ticket(body: dict) -> dict:
        ticket = body.get("ticket")
        if body.get("result") != "ok" or not isinstance(ticket, dict) or not ticket.get("number"):
            raise Offline(en=f"unexpected ticket answer {body.get('result')!r}")
        return ticket

    def flows_index(self) -> dict:
        _, body = self._call("GET", "/api/v1/flows")
        if body.get("result") != "ok":
            raise Offline(en=f"unexpected flows answer {body.get('result')!r}")
        return body

    def download_bundle(self, bundle_id: str, etag: str | None = None) -> tuple[bytes | None, str | None]:
        """(bytes, etag), or (None, etag) when ``etag`` is still current (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        try:
            resp = self._session.get(f"{self.url}/api/v1/flows/bundles/{bundle_id}", headers=headers, timeout=self.timeout)
            data = resp.content
        except requests.exceptions.SSLError:
            raise AuthError(en="TLS verification failed", code="tls") from None
        except requests.exceptions.RequestException as exc:
            raise Offline(en=f"bundle download: {type(exc).__name__}") from None
        if resp.status_code == 304:
            return None, etag
        if resp.status_code >= 500:
            raise Offline(en=f"bundle download: HTTP {resp.status_code}", status=resp.status_code)
        if resp.status_code != 200 or "zip" not in resp.headers.get("Content-Type", ""):
            raise Rejected(en=f"bundle download: HTTP {resp.status_code}", status=resp.status_code)
        return data, resp.headers.get("ETag")
