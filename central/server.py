"""Run the central system: in the foreground (``kiosk central serve``) or in a background thread
(``run_in_thread``, used by ``kiosk run --embedded-central`` and the tests).

``run_in_thread`` returns once the port accepts connections and ``stop()`` returns once the
server has closed its socket, so callers never race the server.
"""
from __future__ import annotations

import gc
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from central import routing
from central.app import create_app
from central.service import Central

log = logging.getLogger(__name__)

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8780

# uvicorn's own loggers ("Exception in ASGI application" and its traceback, which may quote a
# dossier) keep no handlers of their own and pass to the root logger's, which redact
# (kiosk.logs.setup_logging; common.redact.install_logging in a worker process).
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
}


@dataclass
class TLSOptions:
    """Server certificate, and (for mutual TLS) the CA that kiosk client certificates must chain to."""

    certfile: str
    keyfile: str
    client_ca: str | None = None  # set → a client certificate is required (ssl.CERT_REQUIRED)

    def uvicorn_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"ssl_certfile": self.certfile, "ssl_keyfile": self.keyfile}
        if self.client_ca:
            # the protocol hands the certificate to the app, which matches it to the kiosk id
            kw.update(ssl_ca_certs=self.client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED, http=PEER_CERT_PROTOCOL)
        return kw

    def apply(self, central: Central) -> None:
        """Under mutual TLS a kiosk's certificate must name the kiosk id it authenticates as."""
        central.bind_client_certificates = bool(self.client_ca)


class PeerCertProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol plus the ASGI TLS extension's ``scope["extensions"]["tls"]``
    with the verified client certificate (``peercert``: ``ssl.SSLSocket.getpeercert()``). uvicorn
    does not report the client certificate to the application by itself."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._tls = {"peercert": ssl_object.getpeercert() if ssl_object is not None else None}

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {**(self.scope.get("extensions") or {}), "tls": self._tls}


PEER_CERT_PROTOCOL = f"{__name__}:PeerCertProtocol"  # by name: worker processes import it themselves


def _section(config: Any, name: str) -> dict:
    if config is None:
        return {}
    try:
        return dict(config[name])
    except (KeyError, TypeError):
        return {}


def open_from_config(config: Any = None, *, database: str | None = None) -> Central:
    """A Central on the configured database with the configured admin token, trusted flow keys,
    intake path, gateway secret and PKCS#11 library (the one place config becomes a Central:
    the embedded central and ``kiosk central …`` both come here).

    ``config`` is a ``kiosk.config.Config`` or a dict of sections; missing sections mean defaults.
    """
    c, f = _section(config, "central"), _section(config, "flows")
    return Central.open(database or c.get("database") or "central.sqlite3",
                           admin_token=c.get("admin_token", ""), trusted_keys=list(f.get("trusted_keys", [])),
                           min_signatures=int(f.get("min_signatures", 1)),  # four eyes on publish
                           fast_intake=bool(c.get("pg_fast_intake", True)),
                           public_openapi=bool(c.get("public_openapi", False)),
                           # the bank gateway's secret (central.payments): [central] payment_gateway_secret
                           payment_secret=str(c.get("payment_gateway_secret") or ""),
                           pkcs11_lib=str(c.get("pkcs11_lib") or Central.pkcs11_lib))


def central_from_config(config: Any = None, *, database: str | None = None) -> Central:
    """``open_from_config`` with the configured kiosk registered (embedded mode)."""
    c, k = _section(config, "central"), _section(config, "kiosk")
    central = open_from_config(config, database=database)
    if k.get("id") and c.get("kiosk_secret"):
        central.ensure_kiosk(k["id"], k.get("province_code", ""), k.get("commune_code", ""), c["kiosk_secret"])
    return central


class CentralServer:
    """A uvicorn server in a daemon thread with a clean start/stop."""

    def __init__(self, central: Central, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 tls: TLSOptions | None = None, log_level: str = "warning"):
        self.central, self.host, self.tls = central, host, tls
        self.port = port
        if tls:
            tls.apply(central)
        self._config = uvicorn.Config(create_app(central), host=host, port=port, log_level=log_level,
                                      access_log=False, lifespan="off", log_config=LOG_CONFIG,
                                      **(tls.uvicorn_kwargs() if tls else {}))
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> "CentralServer":
        self._thread = threading.Thread(target=self._server.run, name="central-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"central server failed to start on {self.host}:{self.port} (port in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"central server did not start within {timeout} s")
            time.sleep(0.01)
        if self.port == 0:  # an ephemeral port: read which one the socket got
            self.port = self._server.servers[0].sockets[0].getsockname()[1]
        with socket.create_connection((self.host, self.port), timeout=timeout):
            pass
        log.info("central system listening on %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.central.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


_current: CentralServer | None = None


def run_in_thread(config: Any = None, *, host: str | None = None, port: int | None = None,
                  database: str | None = None, tls: TLSOptions | None = None) -> CentralServer:
    """Start the embedded central system for ``config`` and return once it accepts connections.

    Host and port come from ``[central].url`` unless given (``port=0`` picks a free port; read
    ``server.port``/``server.url``). The kiosk ``[kiosk].id`` is registered with
    ``[central].kiosk_secret``. Stop it with ``server.stop()`` or ``central.server.stop()``.
    """
    global _current
    url = urlsplit(_section(config, "central").get("url") or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    server = CentralServer(
        central_from_config(config, database=database),
        host=host or url.hostname or DEFAULT_HOST,
        port=url.port or DEFAULT_PORT if port is None else port,
        tls=tls,
    ).start()
    _current = server
    return server


def stop() -> None:
    """Stop the server last started by ``run_in_thread`` (no-op when none is running)."""
    global _current
    if _current is not None:
        _current.stop()
        _current = None


def settle_process() -> None:
    """Call once in a process that only serves the central system, after the app is built.

    Loads the routing data now (not on the first dossier), then ``gc.freeze()`` moves every object
    alive so far out of the cyclic collector's sight. Without it each full collection walked the
    whole heap (FastAPI, SQLAlchemy, psycopg, the 3,321 communes): 6–8 pauses of up to 160 ms in a
    20 s run at 600 dossiers/s, each one stalling every request of that worker (the p99 tail).
    Not used for the embedded central, which shares its process with the kiosk app."""
    routing.warm()
    gc.freeze()


def serve(central: Central, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, tls: TLSOptions | None = None,
          workers: int = 1, log_level: str = "info") -> None:
    """Foreground server (blocks until Ctrl-C). ``workers`` > 1 runs that many processes
    (``central.asgi.app_from_env``), each with its own engine on the same database."""
    tls_kw = tls.uvicorn_kwargs() if tls else {}
    if tls:
        tls.apply(central)
    if workers > 1:
        import json
        import os

        os.environ["CENTRAL_DATABASE"] = str(central.engine.url.render_as_string(hide_password=False))
        os.environ["CENTRAL_ADMIN_TOKEN"] = central.admin_token
        os.environ["CENTRAL_TRUSTED_KEYS"] = json.dumps(list(central.trusted_keys))
        os.environ["CENTRAL_MIN_SIGNATURES"] = str(central.min_signatures)
        os.environ["CENTRAL_FAST_INTAKE"] = "1" if central.pg is not None else "0"
        os.environ["CENTRAL_PUBLIC_OPENAPI"] = "1" if central.public_openapi else "0"
        os.environ["CENTRAL_BIND_CLIENT_CERTIFICATES"] = "1" if central.bind_client_certificates else "0"
        os.environ["CENTRAL_PAYMENT_SECRET"] = central.payment_secret
        central.close()
        uvicorn.run("central.asgi:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=False, lifespan="off", log_config=LOG_CONFIG, **tls_kw)
        return
    config = uvicorn.Config(create_app(central), host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="off", log_config=LOG_CONFIG, **tls_kw)
    settle_process()
    uvicorn.Server(config).run()
