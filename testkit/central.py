"""Helpers shared by the tests and benchmarks of the central system, client and outbox:
sample dossiers carrying the simulated citizen's data, free ports, and a throwaway PostgreSQL
cluster (initdb + pg_ctl as the ``postgres`` user, in a temp dir, on a free port)."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid as uuidlib
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
