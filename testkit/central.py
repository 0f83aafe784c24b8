"""Helpers shared by the tests and benchmarks of the central system, client and outbox:
sample dossiers carrying the simulated citizen's data, free ports, and a throwaway PostgreSQL
cluster (initdb + pg_ctl as the ``postgres`` user, in a temp dir, on a free port)."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid as uuidlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from common import clock

# The simulated citizen (docs/architecture.md): the strings a leak test looks for.
CITIZEN = {
    "id_number": "001185012345",
    "full_name": "Trần Thị Ngọc Ánh",
    "date_of_birth": "1985-05-12",
    "sex": "Nữ",
    "residence": "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
    "phone": "0912345678",
}
PERSONAL_STRINGS = [CITIZEN["id_number"], CITIZEN["full_name"], "Đội Cấn", CITIZEN["phone"], "012345678"]


def sample_dossier(kiosk_id: str = "KIOSK-HN-BADINH-01", *, commune_code: str = "00004", province_code: str = "01",
                   attachments: int = 1, attachment_size: int = 2048, processing_days: int = 3,
                   uid: str | None = None) -> tuple[dict, dict[str, bytes]]:
    """A ``kiosk-dossier/1`` document and its attachment bytes (random, so each sha256 is new)."""
    now = clock.now()  # submitted "now", whatever day the test or benchmark runs on
    files = {}
    listed = []
    for i in range(attachments):
        data = os.urandom(attachment_size)
        sha = hashlib.sha256(data).hexdigest()
        files[sha] = data
        listed.append({"document_id": f"giay-to-{i}", "name_vi": "Giấy chứng sinh", "sha256": sha,
                       "size": len(data), "media_type": "image/jpeg"})
    dossier = {
        "schema": "kiosk-dossier/1",
        "uuid": uid or str(uuidlib.uuid4()),
        "flow": {"id": "khai-sinh", "version": 1, "sha256": "0" * 64},
        "procedure": {"code": "1.001193", "name_vi": "Đăng ký khai sinh", "name_en": "Birth registration"},
        "applicant": {**CITIZEN, "source": "chip",
                      "authentication": {"access_control": "PACE", "checks": {"hashes": "ok", "signature": "ok", "chain": "ok"}}},
        "answers": {"child_full_name": "Trần Minh Khôi", "old_id": "012345678"},
        "attachments": listed,
        "handling_unit": {"province_code": province_code, "commune_code": commune_code, "name": "Phường Ba Đình"},
        "fee": {"amount": 0, "currency": "VND", "note_vi": "Miễn phí"},
        "processing_days": processing_days,
        "kiosk_id": kiosk_id,
        "consent": {"given": True, "text_sha256": "1" * 64, "at": (now - timedelta(seconds=3)).isoformat()},
        "created_at": now.isoformat(),
    }
    return dossier, files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_available() -> str | None:
    """None when a throwaway cluster can be started here, else the reason it cannot."""
    if not (PG_BIN / "initdb").exists():
        return f"{PG_BIN}/initdb not found (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


class PostgresCluster:
    """A private PostgreSQL server for tests and benchmarks: ``with PostgresCluster() as pg: pg.url``."""

    def __init__(self, *, settings: dict[str, str] | None = None, parent: str | os.PathLike | None = None):
        """``parent``: where the cluster's temp dir goes (default: the system temp dir)."""
        self.settings = {"max_connections": "200", "shared_buffers": "128MB", **(settings or {})}
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="central-pg-", dir=parent))
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + list(cmd), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> "PostgresCluster":
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        self._run(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 " + " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def fresh_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_until(predicate, timeout: float, interval: float = 0.02):
    """Ask ``predicate`` until it answers something true (returned: a browser test keeps what the
    page said) or ``timeout`` seconds pass (then its last answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


KIOSK_ID = "KIOSK-HN-BADINH-01"
KIOSK_SECRET = "test-kiosk-secret-1234"
ADMIN_TOKEN = "test-admin-token-123456"


def start_central(database: str, *, port: int = 0, tls=None, kiosk_id: str = KIOSK_ID, secret: str = KIOSK_SECRET):
    """A real uvicorn central system on 127.0.0.1 with one registered kiosk (Hà Nội, Ba Đình)."""
    from central.server import run_in_thread

    config = {
        "central": {"url": "http://127.0.0.1:0", "database": database, "kiosk_secret": secret, "admin_token": ADMIN_TOKEN},
        "kiosk": {"id": kiosk_id, "province_code": "01", "commune_code": "00004"},
        "flows": {"trusted_keys": []},
    }
    return run_in_thread(config, port=port, tls=tls)


# --- a central system in its own process, and what it costs it to be sent a large body ----------
# (tests/central/test_central_limits.py and bench/bench_central_limits.py)

def serve_process(database: str, *, port: int | None = None, secret: str = KIOSK_SECRET,
                  admin_token: str = ADMIN_TOKEN, config_dir: str | os.PathLike | None = None, timeout: float = 60):
    """``kiosk central serve`` as a child process on 127.0.0.1 with ``KIOSK_ID``/``secret``
    registered; returns (process, url) once it answers. The caller terminates the process."""
    import sys
    import urllib.request

    port = port or free_port()
    folder = Path(config_dir or tempfile.mkdtemp(prefix="central-serve-"))
    cfg = folder / "central.toml"
    cfg.write_text(f'[central]\nkiosk_secret = "{secret}"\nadmin_token = "{admin_token}"\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "serve", "--port", str(port),
                             "--database", database], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"central serve exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    if not wait_until(up, timeout, interval=0.1):
        proc.kill()
        raise TimeoutError(f"central serve did not answer within {timeout} s")
    return proc, url


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of ``pid`` in KiB (``VmHWM``: its peak since the last ``reset_peak_rss``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss(pid: int) -> None:
    """Start ``VmHWM`` afresh from the current RSS (Linux ≥ 4.0, same user or root)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class StreamAnswer:
    status: int | None      # None: the server closed without an answer
    body: bytes
    headers: dict
    sent: int               # body bytes the client got onto the wire before the answer came
    seconds: float


def stream_request(url: str, method: str, path: str, total: int, *, headers: dict | None = None,
                   chunked: bool = True, chunk: int = 1 << 20, timeout: float = 120) -> StreamAnswer:
    """Send ``total`` body bytes (made on the fly from one random block: never held whole) over a raw
    socket, chunked or with a ``Content-Length``, and stop as soon as the server answers or
    closes. A raw socket, so the count of bytes sent before the answer is exact."""
    import select
    from urllib.parse import urlsplit

    u = urlsplit(url)
    head = [f"{method} {path} HTTP/1.1", f"Host: {u.hostname}:{u.port}", "Content-Type: application/octet-stream"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    block = os.urandom(chunk)
    start = time.monotonic()
    sent, answered = 0, False
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        pending = b""
        while sent < total or pending:
            if not pending:
                n = min(chunk, total - sent)
                piece = memoryview(block)[:n]
                pending = (b"%x\r\n" % n + piece + b"\r\n") if chunked else bytes(piece)
                sent_before, body_len = sent, n
            readable, writable, _ = select.select([s], [s], [], timeout)
            if readable:
                answered = True
                break
            if not writable:
                raise TimeoutError("the server neither reads nor answers")
            try:
                k = s.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            pending = pending[k:]
            if not pending:
                sent = sent_before + body_len
        if not answered and chunked and sent >= total:
            try:
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
        raw = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                raw += data
                head_end = raw.find(b"\r\n\r\n")
                if head_end >= 0:
                    length = re.search(rb"(?im)^content-length:\s*(\d+)", raw[:head_end])
                    if length and len(raw) >= head_end + 4 + int(length.group(1)):
                        break
        except ConnectionResetError:
            pass
    seconds = time.monotonic() - start
    if not raw.startswith(b"HTTP/1."):
        return StreamAnswer(None, raw, {}, sent, seconds)
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    return StreamAnswer(int(lines[0].split()[1]), body, hdrs, sent, seconds)


def basic_auth(kiosk_id: str = KIOSK_ID, secret: str = KIOSK_SECRET) -> dict:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{kiosk_id}:{secret}".encode()).decode()}


# --- several central instances behind one load balancer -----------------------------------------
# (tests/central/test_scale_out.py and bench/bench_central_scale.py; docs/central.md, "Running more
# than one instance")

def serve_processes(database: str, count: int, *, folder: str | os.PathLike, secret: str = KIOSK_SECRET,
                    admin_token: str = ADMIN_TOKEN, config_extra: str = "", extra_args: tuple[str, ...] = (),
                    env: dict | None = None, ready=None, timeout: float = 60) -> list:
    """``count`` ``kiosk central serve`` processes on one database, started at the same instant
    (so they also race to create its tables) on free ports of 127.0.0.1; returns [(process, url)]
    once every one answers. ``config_extra``: more TOML for the shared config file (e.g. a
    ``[flows]`` section); ``extra_args``: more ``serve`` options (``--tls-cert`` … makes the urls
    https); ``ready(url) -> bool`` replaces the plain-HTTP health check. The caller terminates them."""
    import sys
    import urllib.request

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "central.toml"
    cfg.write_text(f'[central]\nkiosk_secret = "{secret}"\nadmin_token = "{admin_token}"\n{config_extra}', encoding="utf-8")
    scheme = "https" if "--tls-cert" in extra_args else "http"
    started = []
    for _ in range(count):
        port = free_port()
        log = open(folder / f"serve-{port}.log", "wb")  # noqa: SIM115 - the child writes it; closed below
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "central", "serve", "--port", str(port),
                                 "--database", database, *extra_args], stdout=subprocess.DEVNULL, stderr=log,
                                env={**os.environ, **(env or {})})
        log.close()
        started.append((proc, f"{scheme}://127.0.0.1:{port}"))

    def answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    check = ready or answers
    try:
        for proc, url in started:
            def up() -> bool:
                if proc.poll() is not None:
                    log_text = (folder / f"serve-{url.rsplit(':', 1)[1]}.log").read_text(errors="replace")
                    raise RuntimeError(f"central serve {url} exited: {log_text[-2000:]}")
                return check(url)

            if not wait_until(up, timeout, interval=0.1):
                raise TimeoutError(f"central serve {url} did not answer within {timeout} s")
    except BaseException:
        for proc, _ in started:
            proc.kill()
            proc.wait(10)
        raise
    return started


HAPROXY = Path(shutil.which("haproxy") or "/usr/sbin/haproxy")

# The load balancer's own refusals, in central's Refusal shape (central.service.CentralError.body;
# the 413 is word for word central.limits.too_large), so the kiosk client reads them as it reads
# central's (413 → Refused "too_large", 403 → AuthError "certificate_mismatch").
_TOO_LARGE = ('{"result":"rejected","error":"too_large","message_vi":"Dữ liệu gửi lên quá lớn.",'
              '"message_en":"request body larger than %[var(txn.body_limit)] bytes","limit":%[var(txn.body_limit)]}')
_CERT_MISMATCH = ('{"result":"rejected","error":"certificate_mismatch","message_vi":"Chứng thư số của máy không khớp với mã '
                  'máy kiosk.","message_en":"the TLS client certificate does not name this kiosk id (CN)"}')


def haproxy_available() -> str | None:
    """None when HAProxy can run here, else the reason it cannot."""
    if not HAPROXY.exists():
        return "haproxy not found (Debian package haproxy, scripts/apt-packages.txt)"
    return None


def haproxy_config(backends: list[str], *, port: int, host: str = "127.0.0.1", tag_instance: bool = False,
                   tls_port: int | None = None, tls_pem: str | None = None, client_ca: str | None = None,
                   passthrough_port: int | None = None, passthrough_backends: list[str] = (), check_inter: str = "1s") -> str:
    """An HAProxy configuration for central instances (``backends``: their ``http://host:port``).

    - ``port``: plain HTTP, balanced per request (round robin) over the instances that answer
      ``GET /api/v1/health``. Bodies stream through HAProxy's fixed 16 KiB buffers (never collected:
      no ``option http-buffer-request``). A declared ``Content-Length`` over the endpoint's limit
      (``central.limits.ROUTE_LIMITS``, else ``MAX_SMALL_BYTES``) gets central's own 413 refusal
      from the balancer, before anything is forwarded; a chunked body is counted by the instance.
      ``X-Forwarded-For`` is replaced by the address that connected (what a client sends is
      dropped), so central's per-address limits see the kiosk, not the balancer.
    - ``tls_port``/``tls_pem``/``client_ca``: the same, TLS terminated here with a required client
      certificate of ``client_ca``; a request with HTTP Basic credentials must name the
      certificate's subject CN as its kiosk id, or 403 ``certificate_mismatch`` (what central does
      itself when it terminates mutual TLS; the balancer checks the CN only, not subjectAltNames).
    - ``passthrough_port``/``passthrough_backends``: TCP mode, TLS untouched, to instances that run
      mutual TLS themselves (``https://host:port``), balanced per connection.
    - ``tag_instance``: an ``X-Central-Instance`` answer header naming the instance (tests only).
    """
    from urllib.parse import urlsplit

    from central.limits import MAX_SMALL_BYTES, ROUTE_LIMITS

    def servers(urls):
        return [f"    server i{i} {urlsplit(u).hostname}:{urlsplit(u).port} check inter {check_inter}" for i, u in enumerate(urls)]

    lines = ["global", "    maxconn 4096"]
    if os.geteuid() == 0:  # started as root (a test container): binds, then drops to an unprivileged user
        lines += ["    user nobody", "    group nogroup"]
    lines += [
        "", "defaults", "    mode http", "    timeout connect 5s", "    timeout client 60s", "    timeout server 60s",
        "    timeout http-request 10s", "    timeout http-keep-alive 10s", "    timeout queue 30s",
        "    option redispatch", "    retries 2",
    ]
    unset = "!{ var(txn.body_limit) -m found }"
    proxy_rules = [f"    http-request set-var(txn.body_limit) int({limit}) if {unset} {{ method {method} }} "
                   f"{{ path -m reg '^{rx.pattern}$' }}" for method, rx, limit in ROUTE_LIMITS]
    proxy_rules += [
        f"    http-request set-var(txn.body_limit) int({MAX_SMALL_BYTES}) if {unset}",
        f"    http-request return status 413 content-type application/json lf-string '{_TOO_LARGE}'"
        " if { req.hdr_val(content-length),sub(txn.body_limit) gt 0 }",
        "    http-request del-header X-Forwarded-For",
        "    option forwardfor",
    ]
    if tag_instance:
        proxy_rules.append("    http-response set-header X-Central-Instance %s")
    lines += ["", "frontend central", f"    bind {host}:{port}", *proxy_rules, "    default_backend instances"]
    if tls_port:
        lines += [
            "", "frontend central_tls", f"    bind {host}:{tls_port} ssl crt {tls_pem} ca-file {client_ca} verify required",
            "    http-request set-var(txn.cert_cn) ssl_c_s_dn(CN)",
            "    acl basic_auth req.hdr(authorization) -m beg -i basic",
            "    acl cert_names_kiosk http_auth_user,strcmp(txn.cert_cn) eq 0",
            f"    http-request return status 403 content-type application/json string '{_CERT_MISMATCH}'"
            " if basic_auth !cert_names_kiosk",
            *proxy_rules, "    http-request set-header X-Forwarded-Proto https", "    default_backend instances",
        ]
    lines += ["", "backend instances", "    balance roundrobin", "    option httpchk GET /api/v1/health",
              "    http-check expect status 200", *servers(backends)]
    if passthrough_port:
        lines += ["", "frontend central_passthrough", "    mode tcp", f"    bind {host}:{passthrough_port}",
                  "    default_backend tls_instances",
                  "", "backend tls_instances", "    mode tcp", "    balance roundrobin", *servers(passthrough_backends)]
    return "\n".join(lines) + "\n"


class Balancer:
    """HAProxy in front of central instances, a child process with a generated configuration on
    free ports of 127.0.0.1 (``haproxy_config`` says what it does). ``with Balancer(...) as lb: lb.url``."""

    def __init__(self, backends: list[str], *, folder: str | os.PathLike, **config):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        if config.get("tls_pem"):
            config.setdefault("tls_port", free_port())
        if config.get("passthrough_backends"):
            config.setdefault("passthrough_port", free_port())
        self.tls_port, self.passthrough_port = config.get("tls_port"), config.get("passthrough_port")
        self.config_text = haproxy_config(backends, port=self.port, **config)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return (self.folder / "haproxy.log").read_text(errors="replace")

    def start(self, timeout: float = 20) -> "Balancer":
        cfg = self.folder / "haproxy.cfg"
        cfg.write_text(self.config_text, encoding="utf-8")
        check = subprocess.run([str(HAPROXY), "-c", "-q", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
        if check.returncode:
            raise RuntimeError(f"haproxy refused its configuration:\n{check.stdout}{check.stderr}\n{self.config_text}")
        with open(self.folder / "haproxy.log", "wb") as log:
            self.proc = subprocess.Popen([str(HAPROXY), "-db", "-f", str(cfg)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        ports = [p for p in (self.port, self.tls_port, self.passthrough_port) if p]

        def listening() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log()[-2000:]}")
            for p in ports:
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                except OSError:
                    return False
            return True

        if not wait_until(listening, timeout):
            self.stop()
            raise TimeoutError(f"haproxy did not listen within {timeout} s: {self.log()[-2000:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
