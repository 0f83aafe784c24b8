"""documents: photographs of the papers the flow lists (option ``documents``: which of them this
step collects, default all); a flow that lists documents must have such a step.

Also the one place that says how a paper is listed to the citizen (:func:`guide_papers` before
any answer, :func:`step_papers` on the papers step): "Phải mang" or the paper's own "Chỉ khi …",
from the paper's one ``need`` key, so the guide and the papers screen cannot disagree."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flows.model import Document, Flow
from flows.steps import Messages, StepKind

MUST = {"vi": "Phải mang", "en": "You must bring this"}
ORIGINAL = {"vi": "bản chính", "en": "the original"}


@dataclass(frozen=True)
class Paper:
    document: Document
    label: str              # "must" (Phải mang) or "only_if" (the paper's when_text)
    photo_required: bool    # the kiosk will not go on without its photo

    def title(self, lang: str) -> str:
        """The paper's name, with "(bản chính)" when the original goes to the counter."""
        d = self.document
        name = d.name.get(lang) or d.name["vi"]
        return name + (f" ({ORIGINAL[lang]})" if d.bring_original else "")

    def note(self, lang: str) -> str:
        """The paper's label in words: "Phải mang", or its own "Chỉ khi …"."""
        if self.label == "must":
            return MUST[lang]
        text = self.document.when_text or {}
        return text.get(lang) or text.get("vi") or ""


def _step_ids(flow: Flow, step) -> list[Document]:
    ids = step.options.get("documents") if step is not None else None
    return [flow.document(i) for i in ids] if ids else list(flow.documents)


def guide_papers(flow: Flow) -> list[Paper]:
    """Every paper of the flow as the guide lists it, before any answer: "Phải mang" for a paper
    every citizen needs, "Chỉ khi …" for the others."""
    return [Paper(d, d.label(None), False) for d in flow.documents]


def step_papers(engine, step=None) -> list[Paper]:
    """The papers this visit needs on a documents step, as the answers resolve them: papers the
    answers make unnecessary are left out; one the answers make necessary is "Phải mang"."""
    return [Paper(d, d.label(True), photo) for d, photo in engine.step_documents(step)]


def errors(engine, step) -> Messages:
    out: Messages = {}
    for d, required in engine.step_documents(step):
        if required and not engine.attachments.get(d.id):
            out[f"document:{d.id}"] = (f"Vui lòng chụp hoặc đính kèm {d.name['vi']}.",
                                       f"Please capture or attach: {d.name['en']}.")
    return out


def sample(engine, step, choices) -> None:
    """A stand-in file for every document of the step (its sha256 made from the document id)."""
    for d, _required in engine.step_documents(step):
        if not engine.attachments.get(d.id) and d.photo != "none":
            digest = hashlib.sha256(d.id.encode()).hexdigest()
            engine.set_attachment(d.id, digest, 1000 + len(d.id), "image/jpeg")


def preview(flow, step) -> list[str]:
    lines = [""]
    for d in _step_ids(flow, step):
        if d.need == "always":
            need = "phải mang"
        else:
            need = f"{d.when_text['vi']}" + (f"  [when: {d.when.source}]" if d.when else "  [cán bộ ở quầy xét]")
        extra = ", mang bản chính" if d.bring_original else ""
        lines.append(f"  {d.name['vi']} / {d.name['en']} — {need} (ảnh: {d.photo}{extra})")
        if d.hint:
            lines.append(f"     {d.hint['vi']}")
    return lines


def check_flow(doc: dict, at: list[int]) -> list[tuple[tuple, str]]:
    if doc["documents"] and not at:
        return [(("steps",), "the flow lists documents but has no documents step")]
    return []


KIND = StepKind("documents", errors=errors, sample=sample, preview=preview, check_flow=check_flow)
