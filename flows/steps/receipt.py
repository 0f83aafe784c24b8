"""receipt: the printed receipt of the filed dossier. Last (or a ticket is); no way back from it.

Its "Việc cần làm" (what to do next) block, on the screen and on paper, names the originals the
citizen must bring to the counter: :func:`originals_to_bring`, read from the flow's documents."""
from __future__ import annotations

from flows.steps import StepKind


def _brings_original(doc) -> bool:
    # ``bring_original`` is the documents' own flag; flows written before it said it with the
    # document's kind (an original handed in, or one shown at the counter)
    flag = getattr(doc, "bring_original", None)
    if flag is None:
        return getattr(doc, "kind", "") in ("original", "present")
    return bool(flag)


def originals_to_bring(engine) -> list:
    """The flow's documents whose original this citizen must bring to the counter, in the flow's
    order: those that must be brought and apply to this visit's answers (needed, or photographed
    at the kiosk). A paper only the officer can say is needed ("Chỉ khi …") is not demanded here."""
    out = []
    for d in engine.flow.documents:
        if not _brings_original(d):
            continue
        if d.visible_if is not None and not d.visible_if.test(engine.resolve, engine.today):
            continue
        needed = d.required or (d.required_if is not None and d.required_if.test(engine.resolve, engine.today))
        if needed or engine.attachments.get(d.id):
            out.append(d)
    return out


KIND = StepKind("receipt", slot=-1, can_hide=False, terminal=True)
