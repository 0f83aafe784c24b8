"""The kiosk-faithful preview of a flow in the province admin console (issue 20, Deliver 2).

Every step of a flow (a draft's YAML, or a published procedure) is rendered by the real kiosk
screens — the same code as ``kiosk flows preview`` — in Vietnamese and English, normal and high
contrast, and shown side by side on ``/console/procedures/previews/<sha256>``.

The renderer needs Kivy, which the central system does not install (requirements/central.txt): it
runs as a separate worker process, ``<python> -m kiosk flows preview FILE --out DIR --lang both
--theme both``, never imported here. The worker:

- validates the YAML first with the kiosk's own loader (``flows.loader.load_flow_bytes``); a YAML
  that does not load is never rendered: its problems are the preview's answer (state ``failed``);
- renders one flow at a time (a thread of this process takes the render lock, and an exclusive
  ``flock`` on the folder's lock file keeps several server processes to one render too), with a
  timeout, in a clean environment (SDL's offscreen driver, a throwaway KIVY_HOME, no audio);
- keeps each preview in ``<preview folder>/<sha256 of the YAML>/`` (``status.json``, ``flow.yaml``
  and the PNGs): the same YAML asked again is answered at once; only the newest ``KEEP`` previews
  are kept. The folder is ``$CENTRAL_PREVIEW_DIR``, else ``previews/`` next to a SQLite database,
  else ``central-previews-<uid>`` in the system's temporary folder (as the display's speech cache);
- answers ``unavailable`` with a plain message when that interpreter cannot import the kiosk
  package or Kivy (a central-only server): never a 500.

``start_preview(central, yaml_bytes) -> sha256`` and ``preview_status(central, sha256) -> dict | None``
are what the draft editor calls; ``register(app, central)`` adds the routes (from
central/console/routes.py).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from central.console import auth, fleet
from central.console.accounts import User
from central.console.pages import HEADERS, render
from common import clock
from flows.errors import FlowLoadError
from flows.loader import MAX_FILE_BYTES, load_flow_bytes

log = logging.getLogger(__name__)

PREFIX = "/console/procedures/previews"
FOLDER_ENV = "CENTRAL_PREVIEW_DIR"
# The interpreter (and its options) the worker runs: this server's own by default. Tests point it
# at one that cannot import the kiosk package to see the ``unavailable`` answer.
WORKER_PYTHON: list[str] = [sys.executable]
KEEP = 20            # previews kept on disk (the newest by last request)
TIMEOUT_S = 300.0    # one render (both languages, both themes); a 60-step flow takes ~3 minutes
PROBE_TIMEOUT_S = 30.0
LANGS = (("vi", "Tiếng Việt", "Vietnamese"), ("en", "Tiếng Anh", "English"))
THEMES = (("normal", "Thường", "Normal"), ("high_contrast", "Tương phản cao", "High contrast"))
SHA_RX = re.compile(r"[0-9a-f]{64}")
PNG_RX = re.compile(r"(\d{2,3})-([a-z0-9][a-z0-9_-]{0,140})-(vi|en)-(normal|high_contrast)\.png")
FLOW_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
MAX_PROBLEMS = 50

UNAVAILABLE_VI = ("Máy chủ này chưa cài phần xem trước của ki-ốt (Kivy), nên chưa dựng được hình các màn hình. "
                  "Tệp quy trình vẫn được kiểm tra như trên ki-ốt. Muốn xem trước: cài phần ki-ốt trên máy chủ này "
                  "(EXTRAS=kiosk scripts/setup.sh) rồi khởi động lại, hoặc chạy lệnh `kiosk flows preview` trên một máy "
                  "có cài ki-ốt.")
UNAVAILABLE_EN = ("This server has no kiosk preview renderer (Kivy is not installed), so the screens cannot be drawn. "
                  "The flow file is still checked as a kiosk checks it. To preview: install the kiosk part on this "
                  "server (EXTRAS=kiosk scripts/setup.sh) and restart it, or run `kiosk flows preview` on a machine "
                  "with the kiosk installed.")
MESSAGES = {
    "queued": ("Đang chờ lượt: máy chủ dựng từng quy trình một.", "Waiting: the server renders one flow at a time."),
    "running": ("Đang dựng hình các bước trên màn hình ki-ốt (tiếng Việt và tiếng Anh, thường và tương phản cao)…",
                "Rendering every step on the kiosk's screens (Vietnamese and English, normal and high contrast)…"),
    "done": ("Đã dựng xong các màn hình.", "Every screen is rendered."),
    "partial": ("Đã dựng được một phần: ki-ốt mẫu dừng lại giữa chừng (xem lý do bên dưới).",
                "Partly rendered: the sample walk stopped (see below)."),
    "invalid": ("Tệp quy trình chưa hợp lệ nên không dựng hình. Sửa các lỗi sau rồi xem trước lại.",
                "The flow file does not load, so nothing was rendered. Fix these problems and preview again."),
    "failed": ("Không dựng được hình các màn hình (xem chi tiết kỹ thuật bên dưới).",
               "The screens could not be rendered (technical details below)."),
    "timeout": ("Dựng hình quá lâu nên đã dừng. Hãy thử lại; nếu vẫn vậy, báo cho bộ phận kỹ thuật.",
                "Rendering took too long and was stopped. Try again; if it happens again, tell the technicians."),
    "interrupted": ("Lần dựng hình trước bị gián đoạn (máy chủ khởi động lại). Hãy bấm xem trước lại.",
                    "The last render was interrupted (the server restarted). Ask for the preview again."),
    "unavailable": (UNAVAILABLE_VI, UNAVAILABLE_EN),
}
PROBE = ("import importlib.util as u, sys\n"
         "sys.exit(0 if all(u.find_spec(m) is not None for m in ('kivy', 'kiosk.tools.cli.cmd_flows')) else 3)")


class PreviewWorker:
    """One preview folder's renders: at most one at a time, cached by the YAML's sha256."""

    PROBE = PROBE   # what the worker's interpreter must have (the help-clip worker, central/console/clips.py, asks more)

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._render_lock = threading.Lock()
        self._state_lock = threading.RLock()
        self._active: set[str] = set()   # shas this process has queued or is rendering
        self._probes: dict[tuple[str, ...], bool] = {}

    # --- the public calls --------------------------------------------------------------------
    def start(self, yaml_bytes: bytes) -> str:
        sha = hashlib.sha256(yaml_bytes).hexdigest()
        with self._state_lock:
            status = self._read(sha)
            if status is not None and (status["state"] == "done" or sha in self._active or (
                    status["state"] == "running" and _alive(status.get("pid"), own=False))):
                self._touch(sha)  # the same YAML again: its preview as it is (done, or still rendering)
                return sha
            summary, problems = check(yaml_bytes)
            folder = self.folder / sha
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):  # an earlier failed or partial try
                old.unlink()
            (folder / "flow.yaml").write_bytes(yaml_bytes)
            base = {"sha256": sha, "requested_at": clock.now().isoformat(timespec="seconds"), "problems": problems,
                    "images": [], "log": "", "flow": summary}
            if problems:
                self._write(sha, {**base, "state": "failed", "reason": "invalid"})
                self._prune(keep=sha)
                return sha
            if not self.available():
                self._write(sha, {**base, "state": "unavailable", "reason": "unavailable"})
                self._prune(keep=sha)
                return sha
            self._write(sha, {**base, "state": "running", "reason": "queued", "pid": os.getpid()})
            self._active.add(sha)
        threading.Thread(target=self._render, args=(sha,), name=f"preview-{sha[:8]}", daemon=True).start()
        return sha

    def status(self, sha: str) -> dict[str, Any] | None:
        if not SHA_RX.fullmatch(sha or ""):
            return None
        with self._state_lock:
            st = self._read(sha)
            if st is None:
                return None
            if st["state"] == "running" and sha not in self._active and not _alive(st.get("pid"), own=False):
                st = {**st, "state": "failed", "reason": "interrupted"}  # its server process is gone
                self._write(sha, st)
        return _view(st)

    def image(self, sha: str, name: str) -> Path | None:
        """The PNG ``name`` of a preview, or None: the sha and the name are checked, and the name must
        be one the render wrote (listed in status.json), so no other file can be reached."""
        if not SHA_RX.fullmatch(sha or "") or not PNG_RX.fullmatch(name or ""):
            return None
        st = self._read(sha)
        if st is None or name not in {i["file"] for i in st.get("images", [])}:
            return None
        path = self.folder / sha / name
        return path if path.is_file() else None

    def available(self) -> bool:
        """Whether the worker's interpreter can import Kivy and the kiosk's preview command (asked
        once per interpreter; ``find_spec`` finds them without starting Kivy)."""
        python = tuple(WORKER_PYTHON)
        if python not in self._probes:
            try:
                r = subprocess.run([*python, "-c", self.PROBE], env=_clean_env(None), cwd=tempfile.gettempdir(),
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT_S)
                ok = r.returncode == 0
                if not ok:
                    log.info("kiosk preview unavailable with %s: exit %s %s", python, r.returncode,
                             r.stderr.decode("utf-8", "replace")[-300:])
            except (OSError, subprocess.SubprocessError) as exc:
                log.info("kiosk preview unavailable with %s: %s", python, exc)
                ok = False
            self._probes[python] = ok
        return self._probes[python]

    # --- the render ----------------------------------------------------------------------------
    def _render(self, sha: str) -> None:
        try:
            with self._render_lock, _folder_lock(self.folder):
                self._update(sha, reason="running", started_at=clock.now().isoformat(timespec="seconds"))
                result = self._run(sha)
                self._update(sha, **result, finished_at=clock.now().isoformat(timespec="seconds"))
        except Exception as exc:  # the page must say it failed, whatever happened
            log.exception("preview %s failed", sha[:12])
            self._update(sha, state="failed", reason="failed", log=f"{type(exc).__name__}: {exc}"[:4000])
        finally:
            with self._state_lock:
                self._active.discard(sha)
            self._prune(keep=sha)

    def _run(self, sha: str) -> dict[str, Any]:
        folder = self.folder / sha
        with tempfile.TemporaryDirectory(prefix="preview-", dir=self.folder) as tmp:
            tmp = Path(tmp)
            out = tmp / "out"
            flow_file = tmp / "flow.yaml"
            shutil.copyfile(folder / "flow.yaml", flow_file)
            (tmp / "home" / "kivy").mkdir(parents=True)  # Kivy wants its KIVY_HOME to exist
            cmd = [*WORKER_PYTHON, "-m", "kiosk", "flows", "preview", str(flow_file), "--out", str(out),
                   "--lang", "both", "--theme", "both"]
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=tmp, env=_clean_env(tmp / "home"), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            try:
                stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.communicate()
                return {"state": "failed", "reason": "timeout", "seconds": round(time.monotonic() - t0, 1)}
            seconds = round(time.monotonic() - t0, 1)
            text_out = stdout.decode("utf-8", "replace")
            text_err = stderr.decode("utf-8", "replace")
            if "No module named 'kivy'" in text_err or "No module named 'kiosk'" in text_err:
                return {"state": "unavailable", "reason": "unavailable", "seconds": seconds}
            flow = (self._read(sha) or {}).get("flow") or {}
            steps = {s["id"] for s in flow.get("steps", [])}
            images = []
            for png in sorted(out.glob("*.png")) if out.is_dir() else []:
                m = PNG_RX.fullmatch(png.name)
                step = m.group(2).removeprefix(f"{flow.get('id')}-") if m else None
                if m and step in steps:  # NN is the place in the sample walk, which may skip a step
                    shutil.move(str(png), folder / png.name)
                    images.append({"file": png.name, "step": step, "lang": m.group(3), "theme": m.group(4)})
            walk = [line.split(": ", 1)[1] for line in text_out.splitlines()
                    if line.startswith("kiosk flows preview: ") and ": " in line][:MAX_PROBLEMS]
            tail = "\n".join((text_out + "\n" + text_err).strip().splitlines()[-40:])[-4000:]
            if proc.returncode == 0 and images:
                return {"state": "done", "reason": "done", "images": images, "seconds": seconds, "walk": walk}
            if images:
                return {"state": "done", "reason": "partial", "images": images, "seconds": seconds, "walk": walk,
                        "log": tail}
            return {"state": "failed", "reason": "failed", "seconds": seconds, "walk": walk,
                    "log": f"exit {proc.returncode}\n{tail}"}

    # --- status.json ---------------------------------------------------------------------------
    def _read(self, sha: str) -> dict[str, Any] | None:
        try:
            doc = json.loads((self.folder / sha / "status.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("sha256") == sha else None

    def _write(self, sha: str, doc: dict[str, Any]) -> None:
        path = self.folder / sha / "status.json"
        tmp = path.with_name(f"status.json.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def _update(self, sha: str, **changes) -> None:
        with self._state_lock:
            doc = self._read(sha) or {"sha256": sha, "problems": [], "images": []}
            self._write(sha, {**doc, **changes})

    def _touch(self, sha: str) -> None:
        try:
            os.utime(self.folder / sha / "status.json")
        except OSError:
            pass

    def _prune(self, keep: str) -> None:
        """Keep the newest ``KEEP`` previews (by their last request); never one being rendered."""
        with self._state_lock:
            entries = []
            for d in self.folder.iterdir() if self.folder.is_dir() else []:
                if not SHA_RX.fullmatch(d.name) or d.name == keep or d.name in self._active:
                    continue
                try:
                    entries.append((os.stat(d / "status.json").st_mtime, d))
                except OSError:
                    entries.append((0.0, d))
            entries.sort(reverse=True)
            for _, d in entries[max(0, KEEP - 1):]:
                st = self._read(d.name)
                if st is not None and st.get("state") == "running" and _alive(st.get("pid"), own=True):
                    continue  # another server process is rendering it
                shutil.rmtree(d, ignore_errors=True)


# --- helpers -------------------------------------------------------------------------------------
@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive lock on the folder's lock file: one render at a time across server processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".render.lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _alive(pid: Any, *, own: bool) -> bool:
    """Whether the server process ``pid`` still runs (``own``: this process counts as alive; for a
    status of this very process, the caller has already looked at its own renders)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return own
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _clean_env(home: Path | None) -> dict[str, str]:
    """What the worker gets from this server's environment: PATH, PYTHONPATH (a server run from a
    source checkout) and the clock's instant only. No secret, database URL or display of the server
    reaches the child; Kivy draws offscreen."""
    home = home or Path(tempfile.gettempdir())
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "SDL_VIDEODRIVER": "offscreen",
        "SDL_AUDIODRIVER": "dummy",
        "KIVY_NO_ARGS": "1",
        "KIVY_HOME": str(home / "kivy"),
        "KIVY_NO_FILELOG": "1",
        "KIVY_LOG_MODE": "PYTHON",
        "KIVY_AUDIO": "sdl2",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if os.environ.get(clock.ENV_VAR):  # `kiosk --now` / KIOSK_NOW: the preview shows the same instant
        env[clock.ENV_VAR] = os.environ[clock.ENV_VAR]
    return env


def check(yaml_bytes: bytes) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the flow's id, names and steps; None when it does not load) and the kiosk loader's
    problems with this YAML (line, path, message), as the page shows them."""
    if len(yaml_bytes) > MAX_FILE_BYTES:
        return None, [{"line": None, "path": "", "message": f"file is {len(yaml_bytes)} bytes; a flow may be at most "
                                                            f"{MAX_FILE_BYTES} bytes"}]
    try:
        flow = load_flow_bytes(yaml_bytes, "flow.yaml")
    except FlowLoadError as exc:
        return None, [{"line": p.line, "path": str(p.path)[:300], "message": str(p.message)[:500]}
                      for p in exc.problems[:MAX_PROBLEMS]]
    return {"id": flow.id, "version": flow.version, "name_vi": _text(flow.name, "vi"), "name_en": _text(flow.name, "en"),
            "steps": [{"id": s.id, "kind": s.kind, "title_vi": _text(s.title, "vi"), "title_en": _text(s.title, "en")}
                      for s in flow.steps]}, []


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("vi") or "")
    return "" if value is None else str(value)


def _view(st: dict[str, Any]) -> dict[str, Any]:
    """status.json as the page and the draft editor read it: the images grouped by step, each step
    with its four variants in a fixed order (vi normal, en normal, vi high contrast, en high contrast)."""
    flow = st.get("flow") or {}
    images = st.get("images") or []
    steps = []
    for n, s in enumerate(flow.get("steps", []), start=1):
        shots = {(i["lang"], i["theme"]): i["file"] for i in images if i.get("step") == s["id"]}
        steps.append({**s, "number": n, "images": [
            {"lang": lang, "theme": theme, "label_vi": f"{lang_vi} · {theme_vi}", "label_en": f"{lang_en} · {theme_en}",
             "file": shots.get((lang, theme))}
            for theme, theme_vi, theme_en in THEMES for lang, lang_vi, lang_en in LANGS]})
    reason = st.get("reason") or st.get("state")
    vi, en = MESSAGES.get(reason, MESSAGES.get(st.get("state"), ("", "")))
    return {"sha256": st["sha256"], "state": st.get("state"), "reason": reason, "message_vi": vi, "message_en": en,
            "flow": flow or None, "steps": steps, "images": images, "problems": st.get("problems") or [],
            "walk": st.get("walk") or [], "log": st.get("log") or "", "seconds": st.get("seconds"),
            "requested_at": st.get("requested_at"), "finished_at": st.get("finished_at")}


# --- one worker per preview folder -----------------------------------------------------------------
_WORKERS: dict[str, PreviewWorker] = {}
_WORKERS_LOCK = threading.Lock()


def preview_folder(central) -> Path:
    """``$CENTRAL_PREVIEW_DIR``; else ``previews/`` next to a SQLite database; else the temp folder."""
    folder = os.environ.get(FOLDER_ENV)
    if folder:
        return Path(folder)
    url = central.engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "previews"
    return Path(tempfile.gettempdir()) / f"central-previews-{os.getuid()}"


def worker(central) -> PreviewWorker:
    key = str(preview_folder(central).resolve())
    with _WORKERS_LOCK:
        w = _WORKERS.get(key)
        if w is None:
            w = _WORKERS[key] = PreviewWorker(Path(key))
        return w


def start_preview(central, yaml_bytes: bytes) -> str:
    """Ask for the preview of this YAML; returns its key (the YAML's sha256) at once. A YAML that
    does not load is not rendered: ``preview_status`` then says ``failed`` with the loader's problems."""
    return worker(central).start(bytes(yaml_bytes))


def preview_status(central, sha: str) -> dict[str, Any] | None:
    """``state``: running | done | failed | unavailable; ``message_vi``/``message_en``; ``steps``
    (each with ``images``: lang, theme, file); ``problems`` (the loader's); ``walk`` (where the sample
    walk stopped); None for an unknown sha."""
    return worker(central).status(sha)


# --- the routes --------------------------------------------------------------------------------------
def _sha(raw: str) -> str:
    if not SHA_RX.fullmatch(raw):
        raise auth.not_found()
    return raw


def _published_yaml(central, flow_id: str) -> bytes | None:
    from central.console import procedures  # noqa: PLC0415  (the published bundle's flows, as its pages read them)

    stored = procedures.stored_bundles(central)
    if not stored:
        return None
    flow = procedures.bundle_flows(central, stored[0])["flows"].get(flow_id)
    return flow["yaml"].encode("utf-8") if flow else None


def register(app: FastAPI, central) -> None:
    @app.post(PREFIX, include_in_schema=False)
    async def ask_preview(request: Request, user: User = Depends(fleet.admin)):
        form = await auth.post_form(request, user)
        flow_id, yaml_text = form.get("flow_id", "").strip(), form.get("yaml", "")
        if flow_id and yaml_text.strip():
            raise auth.ConsoleError(400, "Chỉ gửi một trong hai: mã quy trình hoặc tệp YAML.", "Send a flow id or a YAML, not both.")
        if flow_id:
            if not FLOW_ID_RX.fullmatch(flow_id):
                raise auth.not_found()
            data = await run_in_threadpool(_published_yaml, central, flow_id)
            if data is None:
                raise auth.not_found()
        elif yaml_text.strip():
            data = yaml_text.replace("\r\n", "\n").encode("utf-8")
        else:
            raise auth.ConsoleError(400, "Cần mã quy trình hoặc nội dung tệp YAML để xem trước.",
                                    "A preview needs a flow id or the flow's YAML.")
        sha = await run_in_threadpool(start_preview, central, data)
        return RedirectResponse(f"{PREFIX}/{sha}", status_code=303, headers=HEADERS)

    @app.get(PREFIX + "/{sha}", include_in_schema=False)
    async def preview_page(request: Request, sha: str, user: User = Depends(fleet.admin)):
        st = await run_in_threadpool(preview_status, central, _sha(sha))
        if st is None:
            raise auth.not_found()
        # the page reloads itself while the render runs (an HTTP Refresh: the CSP allows no script)
        extra = {"Refresh": "3"} if st["state"] == "running" else None
        return render(request, "preview.html", user=user, p=st, headers=extra)

    @app.get(PREFIX + "/{sha}/{name}", include_in_schema=False)
    async def preview_image(sha: str, name: str, user: User = Depends(fleet.admin)):
        path = await run_in_threadpool(worker(central).image, _sha(sha), name)
        if path is None:
            raise auth.not_found()
        return FileResponse(path, media_type="image/png", headers=HEADERS)
