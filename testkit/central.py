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


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
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
