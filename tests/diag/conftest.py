"""Fixtures for the diagnostics tests: real config files, real servers on 127.0.0.1."""
from __future__ import annotations

import json
import socket
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kiosk.config import load_config


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


@pytest.fixture
def make_cfg(tmp_path):
    """make_cfg({"central": {"url": ...}}) → a real Config loaded from a TOML override file whose
    data, log, outbox and printer paths all live under tmp_path."""

    def make(overrides: dict | None = None):
        sections = {
            "paths": {"data_dir": str(tmp_path / "var")},
            "logging": {"file": str(tmp_path / "var" / "log" / "kiosk.log")},
            "outbox": {"path": str(tmp_path / "var" / "outbox" / "outbox.sqlite3"),
                       "key_file": str(tmp_path / "var" / "outbox" / "outbox.key")},
            "flows": {"bundle_dir": str(tmp_path / "var" / "flows")},
            "devices.printer": {"out_dir": str(tmp_path / "var" / "printer"),
                                "spool_dir": str(tmp_path / "var" / "printer" / "spool")},
        }
        for name, values in (overrides or {}).items():
            sections.setdefault(name, {}).update(values)
        lines = []
        for name, values in sections.items():
            lines.append(f"[{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        file = tmp_path / f"override-{len(list(tmp_path.glob('override-*.toml')))}.toml"
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_config(file)

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CentralStub(BaseHTTPRequestHandler):
    """A real HTTP server standing in for the central system's few calls the diagnostics make.
    `date_offset_s` skews its Date header; `status` forces an answer code."""

    server_version = "central-stub"
    date_offset_s = 0.0
    status = 200
    heartbeats: list = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def date_time_string(self, timestamp=None):
        import time

        return formatdate(time.time() + type(self).date_offset_s, usegmt=True)

    def _answer(self, code: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if type(self).status != 200:
            return self._answer(type(self).status, {"error": "forced"})
        self._answer(200, {"flows": [], "bundle": None})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "/heartbeat" in self.path:
            type(self).heartbeats.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": json.loads(body)})
            return self._answer(200, {"result": "accepted"})
        self._answer(404, {"error": "not_found"})


@pytest.fixture
def central(request):
    """Start a stub central server; yields (url, handler_class) — tweak the class attributes."""
    handler = type("Stub", (CentralStub,), {"heartbeats": [], "date_offset_s": 0.0, "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler, server
    server.shutdown()
    server.server_close()


@pytest.fixture
def seeded_logs():
    """Lines a careless component might have logged about the simulated citizen (docs/architecture.md)."""
    return [
        "2026-11-23 08:15:00 INFO kiosk.session: card read for Trần Thị Ngọc Ánh, ID 001185012345, born 12/05/1985",
        "2026-11-23 08:15:01 INFO kiosk.session: residence Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
        "2026-11-23 08:15:02 WARNING devices.qr: raw 001185012345|012345678|Trần Thị Ngọc Ánh|12051985|Nữ|Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội|15062023",
        "2026-11-23 08:15:03 INFO kiosk.session: father Trần Văn Bình mother Lê Thị Hoa old id 012345678",
    ]


PERSONAL = ["Trần Thị Ngọc Ánh", "TRẦN THỊ NGỌC ÁNH", "Ngọc Ánh", "001185012345", "012345678", "12/05/1985",
            "12051985", "Đội Cấn", "Số 12 ngõ 34", "Trần Văn Bình", "Lê Thị Hoa", "15062023"]
