"""Limits applied before any work: request body sizes per endpoint, JSON size, depth and text.

The HTTP layer reads no body before it knows the request may send one of that size, and no body
at all before the credentials in the headers have been checked (``central.app``: authentication
is a dependency, bodies are read inside the endpoints). This module holds what that needs:

- ``BodyLimits``, a pure ASGI middleware: a declared ``Content-Length`` above the endpoint's limit
  is refused with 413 before the application runs; a chunked body is counted while it is read and
  refused the moment it passes the limit. Any answer sent while the body is still unread closes
  the connection (``Connection: close``), so the server never drains the rest of a large body.
- ``read_json``: the bounded body, then strict UTF-8, ``json.loads``, a nesting limit and a check
  that every string (keys too) is storable: no lone surrogate (``"\\ud800"``), which UTF-8 cannot
  encode, and no NUL, which PostgreSQL text cannot hold. Refusals are the documented 422.
- ``spool_body``: an upload streamed to a temporary file (in memory up to 1 MiB) while its sha256
  is computed, so a 25 MiB attachment is never a 25 MiB ``bytes`` before it was checked.
"""
from __future__ import annotations

import hashlib
import json
import re
import tempfile
from typing import Any

from starlette.responses import JSONResponse

from central.service import MAX_ATTACHMENT_BYTES, CentralError

KiB, MiB = 1024, 1024 * 1024

# A dossier is a few KiB (attachments travel separately); 512 KiB leaves a wide margin for long
# answers while keeping a request that parses it small.
MAX_DOSSIER_BYTES = 512 * KiB
# A heartbeat is the devices' health, the outbox summary and versions: a few KiB.
MAX_HEARTBEAT_BYTES = 128 * KiB
# flows.bundles.MAX_BUNDLE_BYTES (a test checks they agree; flows.bundles loads its crypto lazily)
MAX_BUNDLE_BYTES = 200 * MiB
# every other request: a status change, a rollback reason, a GET that carries a body by mistake
MAX_SMALL_BYTES = 16 * KiB
MAX_DRAFT_FORM_BYTES = 1 * MiB
# nesting of any JSON body: a dossier is 4 levels deep, a heartbeat 4-5
MAX_JSON_DEPTH = 32
# an upload stays in memory up to this size, then goes to a temporary file
SPOOL_IN_MEMORY = 1 * MiB

# (method, path pattern, limit): the first match wins
ROUTE_LIMITS: tuple[tuple[str, re.Pattern, int], ...] = (
    ("PUT", re.compile(r"/api/v1/attachments/[^/]*"), MAX_ATTACHMENT_BYTES),
    ("POST", re.compile(r"/api/v1/dossiers"), MAX_DOSSIER_BYTES),
    ("POST", re.compile(r"/api/v1/flows/bundles"), MAX_BUNDLE_BYTES),
    ("POST", re.compile(r"/api/v1/kiosks/[^/]*/heartbeat"), MAX_HEARTBEAT_BYTES),
    # the admin console's draft editor: a flow file (≤ 256 KiB, flows.loader) percent-encoded
    ("POST", re.compile(r"/console/procedures/drafts/[0-9]{1,9}/(yaml|fields)"), MAX_DRAFT_FORM_BYTES),
)


def body_limit(method: str, path: str) -> int:
    for m, rx, limit in ROUTE_LIMITS:
        if method == m and rx.fullmatch(path):
            return limit
    return MAX_SMALL_BYTES


def too_large(limit: int) -> CentralError:
    return CentralError(status=413, code="too_large", vi="Dữ liệu gửi lên quá lớn.",
                        en=f"request body larger than {limit} bytes", limit=limit)


def invalid_json(en: str) -> CentralError:
    return CentralError(status=422, code="invalid_json", vi="Dữ liệu gửi lên không đúng định dạng JSON (UTF-8).", en=en)


class BodyLimits:
    """ASGI middleware enforcing ``body_limit`` per request (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["method"], scope["path"])
        length, chunked = None, False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:  # the HTTP parser refuses these first; never trust it here
                    length = limit + 1
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if length is not None and length > limit:
            await _refuse(scope, receive, send, too_large(limit))
            return
        state = {"unread": chunked or bool(length), "read": 0}

        async def receive_limited():
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    state["unread"] = False
                if state["read"] > limit:
                    raise too_large(limit)  # rendered by the app's CentralError handler
            else:  # http.disconnect: nothing more will come
                state["unread"] = False
            return message

        async def send_closing(message):
            if message["type"] == "http.response.start" and state["unread"]:
                # answered before the body was read (refused credentials, a bad path, too large):
                # close instead of draining whatever the client still sends
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive_limited, send_closing)


async def _refuse(scope, receive, send, exc: CentralError) -> None:
    await JSONResponse(exc.body(), status_code=exc.status, headers={"connection": "close"})(scope, receive, send)


async def read_body(request) -> bytes:
    """The whole body (``BodyLimits`` has bounded it for this endpoint)."""
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
    return bytes(chunks)


_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def parse_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``data`` as JSON, or the documented 422 ``invalid_json``: not UTF-8, not JSON, nested more
    than ``max_depth``, or a string (key or value) with a lone surrogate or a NUL."""
    try:
        text = data.decode("utf-8")  # RFC 8259 §8.1: JSON between systems is UTF-8; no guessing
    except UnicodeDecodeError:
        raise invalid_json("the body is not UTF-8") from None
    try:
        doc = json.loads(text)
    except RecursionError:  # nested deeper than the interpreter's stack allows (100,000 '[')
        raise invalid_json(f"JSON nested more than {max_depth} levels") from None
    except ValueError:
        raise invalid_json("the body is not JSON") from None
    check_json(doc, max_depth=max_depth)
    return doc


def check_json(doc: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a parsed document nested deeper than ``max_depth`` or holding a string that cannot
    be stored (lone surrogate, NUL). Iterative: a deep document cannot exhaust the stack here."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii() or "\x00" in node:
                if _BAD_TEXT.search(node):
                    raise invalid_json("a string holds a lone surrogate or a NUL character")
        elif isinstance(node, dict):
            if depth > max_depth:
                raise invalid_json(f"JSON nested more than {max_depth} levels")
            for k, v in node.items():
                stack.append((k, depth))
                stack.append((v, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                raise invalid_json(f"JSON nested more than {max_depth} levels")
            stack.extend((v, depth + 1) for v in node)


async def read_json(request, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    return parse_json(await read_body(request), max_depth=max_depth)


async def spool_body(request) -> tuple[tempfile.SpooledTemporaryFile, int, str]:
    """Stream the body into a temporary file (memory up to ``SPOOL_IN_MEMORY``, then disk) and
    return (file at offset 0, size, sha256 hex). ``BodyLimits`` stops it at the endpoint's limit;
    the caller closes the file (its disk space goes with it)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, prefix="central-upload-")
    digest, size = hashlib.sha256(), 0
    try:
        async for chunk in request.stream():
            spool.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()
