"""Help videos without a studio: one short clip per flow step, made from the real kiosk screen.

``kiosk flows media FLOW`` walks the real app headless (simulated devices, the embedded central
system on loopback), takes a screenshot of every step as it first appears to the citizen, and
turns each into ``media/help/<flow>/<step>.mp4``: the screenshot with a slow zoom out from the
step's main button, which a blinking frame points out, plus Vietnamese narration from espeak-ng
(the step's title, text and what to press) and WebVTT captions cut at the narration's sentence
breaks, each cue timed by its own rendered audio. These are exactly the paths ``flows`` puts in
``Step.help``.

Every file written is listed in the media manifest (``media/manifest.json``), entries shaped
like a bundle's media list (``path``, ``sha256``, ``size``) plus ``source`` and
``generated_by``. An entry with ``source: recorded`` (a real video an admin filmed) is never
replaced unless asked with ``force``; :func:`register_recorded` puts such a video in place.

Only the walk (:func:`capture_flow`, :func:`generate` and their helpers) touches Kivy, through
``kiosk.tools.demo`` and ``kiosk.tools.touch_robot``; the text, caption, audio, ffmpeg and manifest helpers are
plain functions.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from common import clock
from kiosk.ui import speech
from common.errors import BilingualError

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
OUT_SIZE = (960, 540)
FPS = 12
LEAD_IN = 0.5    # seconds of picture before the voice starts
GAP = 0.3        # pause between caption chunks
TAIL = 1.2       # picture after the last word
MIN_CLIP = 5.0
CUE_CHARS = 64   # one or two caption lines, readable at arm's length
ZOOM, ZOOM_SECONDS = 1.10, 3.0

class MediaError(BilingualError):
    """A help clip could not be made; ``message_vi`` for a Vietnamese-speaking admin."""

    message_vi = "Không tạo được video hướng dẫn."


# --- narration and captions (pure) ----------------------------------------------------------------
def button_key(step_kind: str) -> str | None:
    """The i18n key of the button a step's help points at (its kind's ``button``, kiosk/ui/steps)."""
    from kiosk.ui.steps import ui_kinds

    entry = ui_kinds().get(step_kind)
    return entry.button if entry is not None else "nav.next"


def button_label(step_kind: str, lang: str = "vi") -> str | None:
    from kiosk.ui.i18n import tr

    key = button_key(step_kind)
    if key is None:
        return None
    # the arrows are drawn on the button, not spoken
    return re.sub(r"[^\w\s]", "", tr(key, lang)).strip()


def narration(step, lang: str = "vi") -> str:
    """What the clip says: the step's title, its text, then what to press (the kind's ``hint_vi``,
    in the words of the screen's own buttons)."""
    from kiosk.ui.i18n import pick
    from kiosk.ui.steps import ui_kinds

    parts = [pick(step.title, lang), pick(step.text, lang) if step.text else ""]
    entry = ui_kinds().get(step.kind)
    hint = entry.hint_vi if entry is not None else ""
    if hint and lang == "vi":
        parts.append(hint.format(button=f"{button_label(step.kind, lang)}"))
    out = []
    for p in parts:
        p = " ".join((p or "").split())
        if p:
            out.append(p if p[-1] in ".!?…:;" else p + ".")
    return " ".join(out)


def chunk_text(text: str, max_chars: int = CUE_CHARS) -> list[str]:
    """Caption cues: whole sentences; a long one is cut into near-equal parts, at a comma when one
    is close to the cut, else between words (no one-word leftovers)."""
    text = " ".join(text.split())
    sentences = [s.strip() for s in re.split(r"(?<=[.!?…:;])\s+", text) if s.strip()]
    out: list[str] = []
    for s in sentences:
        n = -(-len(s) // max_chars)
        start = 0
        for k in range(1, n):
            target = start + (len(s) - start) // (n - k + 1)
            spaces = [i for i in range(start + 1, len(s)) if s[i] == " "]
            if not spaces:
                break
            commas = [i for i in spaces if s[i - 1] == "," and abs(i - target) <= 12 and i - start <= max_chars]
            fits = [i for i in spaces if i - start <= max_chars] or spaces[:1]
            cut = min(commas or fits, key=lambda i: abs(i - target))
            out.append(s[start:cut].strip())
            start = cut + 1
        out.append(s[start:].strip())
    return [c for c in out if c]


def vtt_stamp(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt_text(cues: list[tuple[float, float, str]]) -> str:
    blocks = ["WEBVTT", ""]
    for i, (start, end, text) in enumerate(cues, 1):
        blocks += [str(i), f"{vtt_stamp(start)} --> {vtt_stamp(end)}", text, ""]
    return "\n".join(blocks)


def join_wavs(parts: list[Path], out: Path, lead_in: float = LEAD_IN, gap: float = GAP) -> list[tuple[float, float]]:
    """Concatenate same-format WAVs with silence between; returns each part's (start, end) s."""
    spans = []
    with wave.open(str(parts[0]), "rb") as first:
        params = first.getparams()
    rate, width, channels = params.framerate, params.sampwidth, params.nchannels

    def silence(sec: float) -> bytes:
        return b"\x00" * (int(rate * sec) * width * channels)

    with wave.open(str(out), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(silence(lead_in))
        t = lead_in
        for i, p in enumerate(parts):
            with wave.open(str(p), "rb") as r:
                if (r.getframerate(), r.getsampwidth(), r.getnchannels()) != (rate, width, channels):
                    raise MediaError(en=f"{p.name}: audio format differs from the first part")
                frames = r.readframes(r.getnframes())
                n = r.getnframes()
            if i:
                w.writeframes(silence(gap))
                t += gap
            w.writeframes(frames)
            spans.append((t, t + n / rate))
            t += n / rate
    return spans


# --- the manifest (pure I/O on one JSON file) -----------------------------------------------------
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_manifest(path: Path) -> dict:
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "media": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MediaError(en=f"{path}: not a readable media manifest ({exc})",
                            vi="Tệp danh sách media bị hỏng, không đọc được.") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("media"), list):
        raise MediaError(en=f"{path}: unknown media manifest format", vi="Tệp danh sách media không đúng định dạng.")
    return data


def manifest_entries(manifest: dict) -> dict[str, dict]:
    return {m["path"]: m for m in manifest["media"] if isinstance(m, dict) and "path" in m}


def save_manifest(path: Path, entries: dict[str, dict]) -> None:
    data = {"format": MANIFEST_FORMAT, "media": [entries[k] for k in sorted(entries)]}
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def file_entry(rel: str, file: Path, source: str, generated_by: str | None, **extra) -> dict:
    entry = {"path": rel, "sha256": sha256_file(file), "size": file.stat().st_size, "source": source}
    if generated_by:
        entry["generated_by"] = generated_by
    entry.update(extra)
    return entry


def media_file(help_dir: Path, rel: str) -> Path:
    """``media/help/x/y.mp4`` (a flow's Help path; the loader keeps them all under media/help/) →
    the file under ``help_dir``."""
    return help_dir / PurePosixPath(rel).relative_to("media/help")


def manifest_path(help_dir: Path) -> Path:
    """``media/help`` → ``media/manifest.json``: the manifest sits in the media folder."""
    return Path(help_dir).parent / "manifest.json"


# --- the clip (ffmpeg) ------------------------------------------------------------------------------
def tool_versions() -> str:
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    ff = first_line(["ffmpeg", "-hide_banner", "-version"]).split(" Copyright")[0]
    es = first_line([speech.espeak_binary(), "--version"]).split(" Data at")[0]
    return f"kiosk flows media; {es.strip()}; {ff.strip()}"


def video_codec() -> list[str]:
    """H.264 when this ffmpeg has libx264, else MPEG-4 part 2 (both play through ffpyplayer)."""
    try:
        enc = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        raise MediaError(en="ffmpeg is not installed (apt-get install ffmpeg)") from None
    if re.search(r"^\s*V\S*\s+libx264\s", enc, re.M):
        return ["-c:v", "libx264", "-preset", "medium", "-tune", "stillimage", "-crf", "32",
                "-profile:v", "main", "-pix_fmt", "yuv420p"]
    return ["-c:v", "mpeg4", "-q:v", "9", "-pix_fmt", "yuv420p"]


@dataclass
class Shot:
    """A step's screenshot and where its main button is (pixels, origin top-left), if anywhere."""
    step_id: str
    png: Path
    size: tuple[int, int]
    button: tuple[int, int, int, int] | None = None  # x, y, w, h


@dataclass
class Clip:
    step_id: str
    video: Path
    captions: Path
    duration: float
    cues: list = field(default_factory=list)


def fit_size(size: tuple[int, int], box: tuple[int, int] = OUT_SIZE) -> tuple[int, int]:
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return (max(2, int(size[0] * scale) // 2 * 2), max(2, int(size[1] * scale) // 2 * 2))


def clip_filter(shot: Shot, duration: float, out_size: tuple[int, int]) -> str:
    """A blinking frame on the main button and a slow pull-back from it to the whole screen."""
    w, h = shot.size
    chain = []
    if shot.button:
        bx, by, bw, bh = shot.button
        pad = max(6, w // 200)
        t = max(4, w // 240)
        chain.append(f"drawbox=x={max(0, bx - pad)}:y={max(0, by - pad)}:w={bw + 2 * pad}:h={bh + 2 * pad}"
                     f":color=0xFFC400@0.95:t={t}:enable='gte(t,{LEAD_IN})*lt(mod(t,1.2),0.8)'")
        cx, cy = (bx + bw / 2) / w, (by + bh / 2) / h
    else:
        cx, cy = 0.5, 0.45
    # start close on the button and pull back to the whole screen, which then stays for the rest
    # of the clip: still frames cost almost nothing, so clips stay small, and no edge stays cut off
    frames = max(1, int(min(duration, ZOOM_SECONDS) * FPS))
    zoom = f"max(1,{ZOOM:.3f}-{ZOOM - 1:.3f}*on/{frames})"
    # keep the button's point where it is on screen while zooming, clamped to the picture
    chain.append(f"zoompan=z='{zoom}':x='max(0,min(iw-iw/zoom,{cx:.4f}*(iw-iw/zoom)))'"
                 f":y='max(0,min(ih-ih/zoom,{cy:.4f}*(ih-ih/zoom)))':d=1:fps={FPS}:s={out_size[0]}x{out_size[1]}")
    chain.append("format=yuv420p")
    return ",".join(chain)


def build_clip(shot: Shot, text: str, video_out: Path, vtt_out: Path, work: Path,
               lang: str = "vi", rate: int = speech.DEFAULT_RATE, codec: list[str] | None = None) -> Clip:
    """Narrate ``text`` over the screenshot; write the mp4 and its captions."""
    chunks = chunk_text(text)
    if not chunks:
        raise MediaError(en=f"step {shot.step_id}: nothing to narrate")
    work.mkdir(parents=True, exist_ok=True)
    parts = [speech.render(c, work / f"{shot.step_id}-{i:02d}.wav", lang, rate) for i, c in enumerate(chunks)]
    voice = work / f"{shot.step_id}.wav"
    spans = join_wavs(parts, voice)
    duration = round(max(MIN_CLIP, spans[-1][1] + TAIL), 2)
    cues = [(s, e, c) for (s, e), c in zip(spans, chunks)]
    out_size = fit_size(shot.size)
    video_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = video_out.with_name(video_out.stem + ".part.mp4")
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
           "-loop", "1", "-framerate", str(FPS), "-t", f"{duration}", "-i", str(shot.png),
           "-i", str(voice),
           "-filter_complex", f"[0:v]{clip_filter(shot, duration, out_size)}[v];[1:a]apad=whole_dur={duration}[a]",
           "-map", "[v]", "-map", "[a]", *(codec or video_codec()), "-r", str(FPS), "-g", str(FPS * 20),
           "-c:a", "aac", "-b:a", "32k", "-ac", "1", "-ar", "22050",
           "-t", f"{duration}", "-movflags", "+faststart", "-metadata", f"title={chunks[0][:80]}",
           "-metadata:s:a:0", f"language={'vie' if lang == 'vi' else 'eng'}", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise MediaError(en=f"ffmpeg failed for step {shot.step_id}: {proc.stderr.strip()[-400:]}")
    os.replace(tmp, video_out)
    vtt_out.write_text(vtt_text(cues), encoding="utf-8")
    return Clip(shot.step_id, video_out, vtt_out, duration, cues)


# --- walking the real app ---------------------------------------------------------------------------
def _button_rect(d, label: str) -> tuple[int, int, int, int] | None:
    """The button's rectangle in screenshot pixels (Kivy's y grows upwards, images' downwards)."""
    from kivy.core.window import Window

    try:
        b = d.find_button(label, exact=False)
    except AssertionError:
        return None
    x0, y0 = b.to_window(b.x, b.y)
    x1, y1 = b.to_window(b.right, b.top)
    ww, wh = Window.size
    x0, x1 = max(0, min(x0, ww)), max(0, min(x1, ww))
    y0, y1 = max(0, min(y0, wh)), max(0, min(y1, wh))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None  # scrolled out of sight: no frame rather than a frame on nothing
    return int(x0), int(wh - y1), int(x1 - x0), int(y1 - y0)


def _shoot(d, flow_id: str, step) -> Shot:
    from kivy.core.window import Window
    from PIL import Image

    from kiosk.ui.i18n import tr

    png = d.screenshot(f"{flow_id}-{step.id}")
    with Image.open(png) as im:
        size = im.size
    key = button_key(step.kind)
    rect = _button_rect(d, tr(key, d.app.lang)) if key else None
    if rect and tuple(Window.size) != size:  # HiDPI: screenshot pixels differ from window units
        sx, sy = size[0] / Window.size[0], size[1] / Window.size[1]
        rect = (int(rect[0] * sx), int(rect[1] * sy), int(rect[2] * sx), int(rect[3] * sy))
    return Shot(step.id, png, size, rect)


class ClipWalk:
    """The help-clip walk on one step, as a step kind's ``clip`` handler sees it (kiosk/ui/steps)."""

    def __init__(self, d, app, step, choices: dict | None):
        self.d, self.app, self.step, self.choices = d, app, step, choices

    @property
    def engine(self):
        return self.app.session.engine

    def tap(self, key: str, **kw) -> None:
        from kiosk.ui.i18n import tr

        self.d.tap(tr(key, self.app.lang), **kw)


def _advance(d, app, flow_id: str, step, choices: dict | None = None) -> None:
    """Leave the step the quickest way: its kind's ``clip`` handler (the screens' own buttons for
    the card, consent, submit and receipt; form answers and document photos straight into the
    session, they are not filmed), then the screen's "Continue" unless the handler left already."""
    from kiosk.ui.i18n import tr
    from kiosk.ui.steps import ui_kinds

    engine = app.session.engine
    entry = ui_kinds().get(step.kind)
    if entry is not None and entry.clip is not None and entry.clip(ClipWalk(d, app, step, choices)):
        return
    before = engine.step
    d.tap(tr("nav.next", app.lang))
    if engine.step is before and not engine.done:
        app.next_step()  # a screen that keeps its own state: the engine decides
        d.pump(3)
    if engine.step is before and not engine.done:
        raise MediaError(en=f"{flow_id}: could not leave step {step.id}: {engine.errors()}")


def choices_reaching(flow, wanted: set[str], today: dt.date) -> dict | None:
    """One answer (field id → value) that takes a sample walk through a step of ``wanted`` that
    the default answers skip (a ``skip_to`` or ``visible_if`` step), or None."""
    from flows.sample import walk

    for f in flow.fields.values():
        values = [o.id for o in f.options] if f.type == "choice" else [True, False] if f.type == "yes_no" else []
        for v in values:
            try:
                engine = walk(flow, today, {f.id: v})
            except AssertionError:
                continue
            if wanted & {s.id for s in engine.history}:
                return {f.id: v}
    return None


def capture_flow(d, flow_id: str, problems: list[str] | None = None, choices: dict | None = None) -> dict[str, Shot]:
    """Walk ``flow_id`` from home to the end of the visit; one screenshot per step, taken when
    the step first appears (before anything is typed or chosen). ``choices`` forces answers
    (field id → value) to take the walk through steps the default answers skip. A step the walk cannot leave
    ends the walk: the steps shot so far are returned and the reason appended to ``problems``."""
    from kiosk.ui.i18n import tr

    app = d.app
    flow = app.services.registry.get(flow_id)
    if flow is None:
        raise MediaError(en=f"no flow {flow_id!r}", vi=f"Không có quy trình {flow_id!r}.")
    if d.screen != "home":
        app.end_session()
        d.wait_screen("home")
    d.tap(tr("home.procedure", app.lang))
    d.wait_screen("picker")
    d.tap(flow.name[app.lang])
    shots: dict[str, Shot] = {}
    for _ in range(len(flow.steps) * 3 + 5):
        d.pump(2)
        engine = app.session.engine
        if d.screen == "home" or engine is None or engine.done:
            break
        step = engine.step
        if step.id not in shots:
            shots[step.id] = _shoot(d, flow_id, step)
        try:
            _advance(d, app, flow_id, step, choices)
        except (AssertionError, MediaError) as exc:  # DriverError is an AssertionError
            log.warning("walk of %s stopped at step %s: %s", flow_id, step.id, exc)
            if problems is not None:
                problems.append(f"stopped at step {step.id}: {exc}")
            break
    if d.screen != "home":
        app.end_session()
        d.wait_screen("home")
    return shots


# --- the command ------------------------------------------------------------------------------------
@dataclass
class FlowReport:
    flow_id: str
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)      # recorded (or unknown) files left alone
    missing: list[str] = field(default_factory=list)   # steps the walk did not reach
    bytes: int = 0
    seconds: float = 0.0


def _protected(entries: dict, help_dir: Path, rel: str) -> str | None:
    """Why ``rel`` must not be overwritten, or None."""
    e = entries.get(rel)
    if e is not None and e.get("source") == "recorded":
        return "recorded"
    if e is None and media_file(help_dir, rel).exists():
        return "not in the manifest"
    return None


def generate(cfg, flow_ids: list[str], help_dir: Path, *, force: bool = False, rate: int = speech.DEFAULT_RATE,
             steps: set[str] | None = None, progress=None) -> list[FlowReport]:
    """Make the help clips of ``flow_ids`` under ``help_dir`` (``media/help``) and update the
    manifest next to it (``media/manifest.json``); ``steps`` limits it to those step ids. ``cfg`` is a self-contained demo config
    (``kiosk.tools.demo.demo_config``); Kivy must already be prepared (``kiosk.ui.display.prepare_kivy_env``)."""
    from kiosk.tools.demo import running_app
    from kiosk.tools.touch_robot import Driver

    say = progress or (lambda msg: None)
    help_dir = Path(help_dir)
    mpath = manifest_path(help_dir)
    mpath.parent.mkdir(parents=True, exist_ok=True)
    entries = manifest_entries(load_manifest(mpath))
    codec = video_codec()
    made_by = tool_versions() + f"; {codec[1]}"
    reports = []
    with tempfile.TemporaryDirectory(prefix="kiosk-media-") as tmp, running_app(cfg) as app:
        d = Driver(app, Path(tmp) / "shots")
        for fid in flow_ids:
            flow = app.services.registry.get(fid)
            if flow is None:
                raise MediaError(en=f"no flow {fid!r} in the registry", vi=f"Không có quy trình {fid!r}.")
            rep = FlowReport(fid)
            t0 = time.monotonic()
            say(f"{fid}: walking the screens")
            problems: list[str] = []
            shots = capture_flow(d, fid, problems)
            skipped = {s.id for s in flow.steps if s.help and s.id not in shots and (steps is None or s.id in steps)}
            while skipped and not problems:
                choices = choices_reaching(flow, skipped, clock.today())
                if choices is None:
                    break
                say(f"{fid}: walking again with {choices} for {', '.join(sorted(skipped))}")
                more = capture_flow(d, fid, problems, choices)
                if not skipped & set(more):
                    break
                shots.update({k: v for k, v in more.items() if k in skipped})
                skipped -= set(more)
            for p in problems:
                say(f"{fid}: {p}")
            for step in flow.steps:
                help_ = step.help
                if help_ is None or (steps is not None and step.id not in steps):
                    continue
                if step.id not in shots:
                    rep.missing.append(step.id)
                    say(f"{fid}/{step.id}: not reached in the walk, no clip")
                    continue
                targets = [help_.video] + ([help_.captions] if help_.captions else [])
                reasons = {rel: _protected(entries, help_dir, rel) for rel in targets}
                if not force and any(reasons.values()):
                    rep.kept += [rel for rel, why in reasons.items() if why]
                    say(f"{fid}/{step.id}: kept ({', '.join(filter(None, reasons.values()))}; --force replaces)")
                    continue
                video = media_file(help_dir, help_.video)
                vtt_rel = help_.captions or str(PurePosixPath(help_.video).with_suffix(".vtt"))
                clip = build_clip(shots[step.id], narration(step, "vi"), video, media_file(help_dir, vtt_rel),
                                  Path(tmp) / "audio" / fid, "vi", rate, codec)
                for rel, f, kind in ((help_.video, clip.video, "video"), (vtt_rel, clip.captions, "captions")):
                    e = file_entry(rel, f, "generated", made_by, flow=fid, step=step.id, kind=kind,
                                   duration=clip.duration)
                    entries[rel] = e
                    rep.written.append(rel)
                    rep.bytes += e["size"]
                save_manifest(mpath, entries)  # after every clip: an interrupted run loses nothing
                say(f"{fid}/{step.id}: {clip.duration:.1f} s, {clip.video.stat().st_size // 1024} kB")
            rep.seconds = time.monotonic() - t0
            reports.append(rep)
    save_manifest(mpath, entries)
    return reports


def _has_video_stream(path: Path) -> bool:
    try:
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=codec_type",
                              "-of", "csv=p=0", str(path)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "video" in out


def register_recorded(help_dir: Path, flow, step_id: str, video: Path, captions: Path | None = None) -> list[dict]:
    """Put a filmed clip (and its captions) in place of a step's help and mark it ``recorded`` in
    the manifest, so later generation leaves it alone."""
    step = next((s for s in flow.steps if s.id == step_id), None)
    if step is None or step.help is None:
        raise MediaError(en=f"{flow.id} has no step {step_id!r} with help", vi=f"Quy trình không có bước {step_id!r}.")
    pairs = [(Path(video), step.help.video, "video")]
    if captions is not None:
        pairs.append((Path(captions), step.help.captions
                      or str(PurePosixPath(step.help.video).with_suffix(".vtt")), "captions"))
    for src, _rel, kind in pairs:
        if not src.is_file():
            raise MediaError(en=f"{src}: no such file", vi=f"Không tìm thấy tệp {src}.")
        if kind == "video" and not _has_video_stream(src):
            raise MediaError(en=f"{src}: ffprobe finds no video stream in it", vi=f"Tệp {src.name} không phải là video.")
        if kind == "captions" and not src.read_bytes().lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
            raise MediaError(en=f"{src}: not WebVTT captions (no WEBVTT header)",
                                vi=f"Tệp {src.name} không phải là phụ đề WebVTT.")
    mpath = manifest_path(Path(help_dir))
    mpath.parent.mkdir(parents=True, exist_ok=True)
    entries = manifest_entries(load_manifest(mpath))
    out = []
    for src, rel, kind in pairs:
        target = media_file(Path(help_dir), rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        e = file_entry(rel, target, "recorded", None, flow=flow.id, step=step_id, kind=kind)
        entries[rel] = e
        out.append(e)
    save_manifest(mpath, entries)
    return out


# --- `kiosk flows media` ----------------------------------------------------------------------------
def add_parser(sub) -> None:
    """Register ``media`` under ``kiosk flows`` (called by kiosk/tools/cli/cmd_flows.py)."""
    m = sub.add_parser(
        "media", help="generate a narrated help clip (mp4 + captions) for every step of a flow",
        description="Walk FLOW in the real kiosk app, headless, on simulated devices with the embedded central "
                    "system, screenshot each step, and make OUT/<flow>/<step>.mp4 (the screen, a slow zoom out "
                    "from its main button, which a blinking frame marks; Vietnamese narration from espeak-ng of the step's title and "
                    "text) and OUT/<flow>/<step>.vtt (captions timed by the narration). Updates the media "
                    "manifest OUT/../manifest.json (path, sha256, size, source, generated_by). Entries with "
                    "source \"recorded\" and files the manifest does not list are left alone unless --force. "
                    "With --recorded STEP FILE, put a filmed clip in place of STEP's help instead of generating.")
    m.add_argument("flow", nargs="?", metavar="FLOW", help="flow id (omit with --all)")
    m.add_argument("--all", action="store_true", help="every flow in the flows folder")
    m.add_argument("--out-dir", metavar="DIR", help="the help folder (default: [paths].media_dir/help)")
    m.add_argument("--flows-dir", metavar="DIR", help="where to find FLOW (default: [paths].flows_dir); the console's "
                   "clip worker points it at a draft's YAML")
    m.add_argument("--step", action="append", metavar="STEP",
                   help="only this step (repeatable); the flow is still walked from the start")
    m.add_argument("--force", action="store_true", help="also replace recorded clips and files not in the manifest")
    m.add_argument("--rate", type=int, default=speech.DEFAULT_RATE, metavar="WPM",
                   help="narration speed in words a minute (default: %(default)s)")
    m.add_argument("--recorded", nargs=2, metavar=("STEP", "FILE"),
                   help="register a filmed mp4 for STEP of FLOW (source: recorded) instead of generating")
    m.add_argument("--captions", metavar="VTT", help="with --recorded: its WebVTT captions")
    m.set_defaults(func=run_cli)


def run_cli(args) -> int:
    import sys

    from kiosk.tools.cli import config_from

    def err(msg: str) -> int:
        print(f"kiosk flows media: {msg}", file=sys.stderr)
        return 1

    cfg = config_from(args)
    help_dir = Path(args.out_dir) if args.out_dir else Path(cfg["paths"]["media_dir"]) / "help"
    if args.recorded:
        from flows import load_registry

        flow = load_registry(cfg["paths"]["flows_dir"]).get(args.flow or "")
        if flow is None:
            return err(f"no flow {args.flow!r} in {cfg['paths']['flows_dir']}")
        try:
            for e in register_recorded(help_dir, flow, args.recorded[0], Path(args.recorded[1]),
                                       Path(args.captions) if args.captions else None):
                print(f"{e['path']}: recorded, {e['size']} bytes, sha256 {e['sha256'][:12]}…")
        except MediaError as exc:
            return err(str(exc))
        return 0
    if bool(args.flow) == bool(args.all):
        return err("name one FLOW or pass --all")
    with tempfile.TemporaryDirectory(prefix="kiosk-media-run-") as tmp:
        from kiosk.ui.display import prepare_kivy_env

        prepare_kivy_env(Path(tmp) / "kivy", want_xvfb=False)
        from kiosk.tools.demo import demo_config

        demo = demo_config(Path(tmp) / "kiosk", flows_dir=Path(args.flows_dir).resolve() if args.flows_dir else None)
        from flows import load_registry

        known = [f.id for f in load_registry(demo["paths"]["flows_dir"]).flows]
        if not args.all and args.flow not in known:
            return err(f"no flow {args.flow!r}; known: {', '.join(known)}")
        ids = known if args.all else [args.flow]
        try:
            reports = generate(demo, ids, help_dir, force=args.force, rate=args.rate,
                               steps=set(args.step) if args.step else None,
                               progress=lambda msg: print(msg, flush=True))
        except (MediaError, speech.SpeechError) as exc:
            return err(str(exc))
    total = sum(r.bytes for r in reports)
    for r in reports:
        print(f"{r.flow_id}: {len(r.written) // 2} clips, {r.bytes / 1e6:.2f} MB, {r.seconds:.0f} s"
              + (f"; kept {len(r.kept)} file(s)" if r.kept else "")
              + (f"; steps not reached: {', '.join(r.missing)}" if r.missing else ""))
    print(f"total {total / 1e6:.2f} MB written; manifest {manifest_path(help_dir)}")
    return 1 if any(r.missing for r in reports) else 0
