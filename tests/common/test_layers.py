"""The layering rules of docs/architecture.md, checked on the source tree and in fresh interpreters.

- ``common`` is the ground: it imports none of the project's other packages.
- ``devices``, ``flows`` and ``central`` never import ``kiosk``; ``devices`` and ``flows`` never
  import ``central``; ``central`` never imports ``devices``.
- Kivy is imported only by the UI (``kiosk/ui``) and the tools that drive it (``kiosk/tools``).
- The central system starts, and takes a dossier over HTTP, with Kivy, OpenCV, pyscard and the
  other kiosk-only packages made unimportable; the kiosk's runtime imports without Kivy.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("common", "kiosk", "devices", "flows", "central")
KIOSK_ONLY = ("kivy", "cv2", "smartcard", "pyzbar", "zxingcpp", "escpos", "serial", "usb", "ffpyplayer",
              "secretstorage", "requests", "PIL", "segno", "dlib")  # numpy: vietnamadminunits needs it too
CENTRAL_ONLY = ("fastapi", "uvicorn", "sqlalchemy", "psycopg", "uvloop", "httptools", "starlette")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level-qualified module) for every import in a file, lazy ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            pkg = path.relative_to(ROOT).parent.parts
            base = ".".join(pkg[: len(pkg) - node.level + 1])
            out.append((node.lineno, f"{base}.{node.module}" if node.module else base))
    return out


def offenders(package: str, forbidden, allow=lambda rel: False) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if allow(rel):
            continue
        for line, mod in imports_of(path):
            if mod.split(".")[0] in forbidden:
                found.append(f"{rel}:{line}: imports {mod}")
    return found


def test_common_imports_none_of_the_project():
    assert offenders("common", set(PROJECT) - {"common"}) == []


@pytest.mark.parametrize("package", ["devices", "flows", "central"])
def test_lower_packages_never_import_the_kiosk_app(package):
    assert offenders(package, {"kiosk"}) == []


@pytest.mark.parametrize("package", ["devices", "flows"])
def test_devices_and_flows_never_import_central(package):
    assert offenders(package, {"central"}) == []


def test_central_never_imports_devices_or_kiosk_only_packages():
    assert offenders("central", {"devices", *KIOSK_ONLY}) == []


@pytest.mark.parametrize("package", ["common", "devices", "flows", "central", "kiosk"])
def test_kivy_only_in_the_ui_and_the_tools_that_drive_it(package):
    ui_or_tools = lambda rel: rel.startswith(("kiosk/ui/", "kiosk/tools/"))  # noqa: E731
    assert offenders(package, {"kivy"}, allow=ui_or_tools) == []


def test_the_checker_sees_lazy_and_relative_imports():
    src = ROOT / "devices" / "_layer_probe_tmp.py"
    src.write_text("def f():\n    from kiosk.ui import app\nfrom .health import x\n")
    try:
        assert sorted(imports_of(src)) == [(2, "kiosk.ui"), (3, "devices.health")]
        assert offenders("devices", {"kiosk"}) == ["devices/_layer_probe_tmp.py:2: imports kiosk.ui"]
    finally:
        src.unlink()


BLOCK = textwrap.dedent("""
    import sys
    for name in {blocked!r}:
        sys.modules[name] = None  # "import kivy" now raises ImportError, as on a machine without it
""")


def run_blocked(blocked, body: str) -> subprocess.CompletedProcess:
    code = BLOCK.format(blocked=list(blocked)) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_central_serves_a_dossier_without_any_kiosk_package(tmp_path):
    r = run_blocked(KIOSK_ONLY + ("kiosk", "devices"), f"""
        import json, sys, urllib.request, base64
        sys.path.insert(0, {str(ROOT)!r})
        import central.app, central.server
        from testkit.central import KIOSK_ID, KIOSK_SECRET, sample_dossier, start_central
        srv = start_central({str(tmp_path / "c.sqlite3")!r})
        try:
            dossier, files = sample_dossier(attachments=0)
            auth = "Basic " + base64.b64encode(f"{{KIOSK_ID}}:{{KIOSK_SECRET}}".encode()).decode()
            req = urllib.request.Request(srv.url + "/api/v1/dossiers", data=json.dumps(dossier).encode(),
                                         headers={{"Authorization": auth, "Content-Type": "application/json"}})
            with urllib.request.urlopen(req, timeout=30) as resp:
                print(json.dumps({{"status": resp.status, "body": json.load(resp)}}))
        finally:
            srv.stop()
        print(json.dumps(sorted(m for m in {list(KIOSK_ONLY)!r} if sys.modules.get(m) is not None)))
    """)
    assert r.returncode == 0, r.stderr[-3000:]
    first, loaded = r.stdout.strip().splitlines()[-2:]
    answer = json.loads(first)
    assert answer["status"] == 201 and answer["body"]["result"] == "created"
    assert json.loads(loaded) == []


def test_the_kiosk_runtime_imports_without_kivy_or_the_central_server():
    r = run_blocked(("kivy",) + CENTRAL_ONLY, """
        import kiosk.services, kiosk.session, kiosk.outbox, kiosk.sync, kiosk.client, kiosk.heartbeat
        import kiosk.config, kiosk.logs, kiosk.diagnostics.runner, kiosk.diagnostics.bundle
        import devices.idcard, devices.qr, devices.camera, devices.printer, flows
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]


def test_the_config_and_the_cli_load_on_the_central_machine():
    """kiosk.config takes the device sections from devices/<kind>/config.py; those load without
    Pillow, OpenCV, pyscard …, so `kiosk central …` and `kiosk config check` still work where only
    the central system's packages are installed."""
    r = run_blocked(KIOSK_ONLY, """
        import contextlib, io
        from kiosk.config import load_config
        cfg = load_config(None)
        assert cfg["devices.printer"]["profile"] and cfg["devices.qr"]["budget_ms"]
        from kiosk.tools.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main(["central", "--help"])
            except SystemExit as exc:
                assert exc.code == 0, exc.code
            assert main(["config", "check"]) == 0
        print("ok")
    """)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]


def test_devices_never_import_flows():
    assert offenders("devices", {"flows"}) == []


def _kiosk_imports(rel_filter, forbidden_prefixes) -> list[str]:
    found = []
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel_filter(rel):
            continue
        for line, mod in imports_of(path):
            if mod.startswith(forbidden_prefixes):
                found.append(f"{rel}:{line}: imports {mod}")
    return found


def test_the_kiosk_runtime_never_imports_its_ui_or_tools():
    runtime = lambda rel: not rel.startswith(("kiosk/ui/", "kiosk/tools/")) and rel != "kiosk/__main__.py"  # noqa: E731
    assert _kiosk_imports(runtime, ("kiosk.ui", "kiosk.tools")) == []


def test_the_ui_never_imports_the_tools():
    assert _kiosk_imports(lambda rel: rel.startswith("kiosk/ui/"), ("kiosk.tools",)) == []
