"""documents: photographs of the papers the flow lists (option ``documents``: which of them this
step collects, default all); a flow that lists documents must have such a step."""
from __future__ import annotations

import hashlib

from flows.steps import Messages, StepKind


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
        if not engine.attachments.get(d.id):
            digest = hashlib.sha256(d.id.encode()).hexdigest()
            engine.set_attachment(d.id, digest, 1000 + len(d.id), "image/jpeg")


def preview(flow, step) -> list[str]:
    ids = step.options.get("documents")
    docs = [flow.document(i) for i in ids] if ids else flow.documents
    lines = [""]
    for d in docs:
        need = "bắt buộc" if d.required else (f"bắt buộc khi {d.required_if.source}" if d.required_if else "không bắt buộc")
        lines.append(f"  [{d.kind}] {d.name['vi']} / {d.name['en']} — {need}")
        if d.hint:
            lines.append(f"     {d.hint['vi']}")
    return lines


def check_flow(doc: dict, at: list[int]) -> list[tuple[tuple, str]]:
    if doc["documents"] and not at:
        return [(("steps",), "the flow lists documents but has no documents step")]
    return []


KIND = StepKind("documents", errors=errors, sample=sample, preview=preview, check_flow=check_flow)
