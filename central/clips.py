"""Help clips for the steps a draft changes (issue 20, Deliver 4): which steps, and what a submit ships.

A step's help clip (``media/help/<flow>/<step>.mp4`` and its ``.vtt``) is the kiosk's screen of that
step with espeak-ng reading its title and text (kiosk/tools/media_gen.py). When a draft changes what
that screen shows or says — the title, the text, a field's label, the kind — the old clip would
show and say the old words, so the clip worker (central/console/clips.py, a ``kiosk flows media``
process like the preview's) makes new ones for exactly those steps, and :func:`media_for_submit`
hands them to the bundle (``central.drafts.rebuild(..., media=...)``).

``changed_steps`` is pure; ``media_for_submit`` is the policy ``Drafts.submit`` follows:

- no changed step: nothing to add;
- clips done for exactly this YAML: they replace the old ones in the bundle;
- being made (or just asked for, by this very submit): the submit is refused, in words;
- the worker is unavailable here (no Kivy, espeak-ng or ffmpeg) or failed: the bundle keeps the
  old clips and the draft page says so, so a fee correction is never held up by a video.
"""
from __future__ import annotations

from typing import Any

RUNNING_VI = "Video hướng dẫn của các bước đã sửa đang được làm; chờ xong rồi trình."
RUNNING_EN = "The help clips of the changed steps are being made; submit when they are done."


def steps_of(text: str) -> list[dict]:
    """The steps as the kiosk's own YAML parser reads them (libyaml's, which takes a plain "?" in a
    flow mapping where PyYAML's pure-Python parser does not); [] for what it refuses."""
    from flows.loader import read_document  # noqa: PLC0415  (the one parser: size, depth and alias limits included)

    if not (text or "").strip():
        return []
    doc = read_document(text, "flow.yaml")
    steps = doc.get("steps") if isinstance(doc, dict) else None
    return [s for s in steps or [] if isinstance(s, dict) and isinstance(s.get("id"), str)]


def _seen(step: dict, doc: dict) -> tuple[Any, ...]:
    """What a step's clip shows and says: its kind, title and text, and its fields' labels (in order);
    a guide step also shows the flow's fee, papers and processing time (the guide screen lists them)."""
    fields = step.get("fields") if isinstance(step.get("fields"), list) else []
    labels = [(f.get("id"), f.get("label")) for f in fields if isinstance(f, dict)]
    shown = (step.get("kind"), step.get("title"), step.get("text"), labels)
    if step.get("kind") == "guide":
        shown += tuple(doc.get(k) for k in ("fee", "documents", "processing_days", "receipt_cutoff"))
    return shown


def changed_steps(old_yaml: str, new_yaml: str) -> list[str]:
    """The ids of ``new_yaml``'s steps (every step has a help clip, flows.loader) whose title, text,
    fields' labels or kind differ from ``old_yaml``'s step of the same id — for a guide step also
    the fee, papers and processing time it lists — and of its new steps, in the new flow's order (""
    as the old YAML: every step is new). A removed step needs no clip; a step that only moved keeps its own."""
    old_doc, new_doc = _doc(old_yaml), _doc(new_yaml)
    old = {s["id"]: _seen(s, old_doc) for s in steps_of(old_yaml)}
    out: list[str] = []
    for s in steps_of(new_yaml):
        if s["id"] not in out and old.get(s["id"]) != _seen(s, new_doc):
            out.append(s["id"])
    return out


def _doc(text: str) -> dict:
    from flows.loader import read_document  # noqa: PLC0415

    doc = read_document(text, "flow.yaml") if (text or "").strip() else None
    return doc if isinstance(doc, dict) else {}


def media_for_submit(central, flow_id: str, old_yaml: str, new_yaml: str) -> dict[str, bytes]:
    """The help clips ``Drafts.submit`` puts in the bundle (bundle path → bytes). Asks the worker for
    them when nobody has yet (the same YAML asked again is answered from its cache), and raises a
    ``CentralError`` (409 ``clips_running``) while they are being made."""
    from central.console import clips as worker  # noqa: PLC0415  (the worker process lives with the preview's)
    from central.service import CentralError  # noqa: PLC0415

    steps = changed_steps(old_yaml, new_yaml)
    if not steps:
        return {}
    data = new_yaml.encode("utf-8")
    st = worker.current_status(central, data, steps)
    if st is None:   # nobody asked yet: this submit starts them (a failed run is not retried here, only by the button)
        st = worker.clips_status(central, worker.start_clips(central, data, steps))
    if st is None or st["state"] in ("unavailable", "failed"):
        return {}   # the old clips stay; the draft page says why
    if st["state"] == "running":
        raise CentralError(status=409, code="clips_running", vi=RUNNING_VI, en=RUNNING_EN)
    return worker.clip_media(central, st["key"], data)
