"""Text renderings of a flow, one per step, for `kiosk flows preview` (until the kiosk screens
render real PNGs). Shows what a citizen would see and what an admin must check: labels, rules,
conditions, prefills, documents, help media. What a step shows beyond its title, text and
conditions is its kind's ``preview`` hook (flows/steps)."""
from __future__ import annotations

import json
from datetime import date, datetime

from common import clock
from flows import steps
from flows.model import Flow, Step


def _t(text) -> str:
    return f"{text['vi']}  /  {text['en']}" if text else ""


def render_step(flow: Flow, step: Step, number: int) -> str:
    lines = [f"{flow.name['vi']} ({flow.procedure_code}) — bước {number}/{len(flow.steps)}: {step.id} [{step.kind}]",
             "=" * 78, _t(step.title)]
    if step.text:
        lines += ["", step.text["vi"], step.text["en"]]
    if step.visible_if:
        lines.append(f"(shown only if: {step.visible_if.source})")
    for sk in step.skip_to:
        lines.append(f"(after this step, if {sk.condition.source}: go to {sk.to})")
    lines += steps.kind(step.kind).preview(flow, step)  # fields, documents, consent text, options
    if step.help:
        lines.append(f"help: {step.help.video} (captions {step.help.captions}{', optional' if step.help.optional else ''})")
    return "\n".join(lines) + "\n"


def render_steps(flow: Flow) -> list[tuple[str, str]]:
    """[(file name, text)] — one ``NN-<step id>.txt`` per step."""
    return [(f"{i:02d}-{s.id}.txt", render_step(flow, s, i)) for i, s in enumerate(flow.steps, 1)]


def render_walk(flow: Flow, today: date | None = None) -> str:
    """A sample walk with generated answers and the dossier it produces."""
    from flows.sample import walk

    today = today or clock.today()
    engine = walk(flow, today)
    walked = " → ".join(s.id for s in engine.history + [engine.step])
    doc = engine.dossier("00000000-0000-4000-8000-000000000000", "PREVIEW", datetime.combine(today, datetime.min.time()))
    due = engine.appointment_date(datetime.combine(today, datetime.min.time()).replace(hour=9))
    return (f"steps walked: {walked}\nfee: {engine.fee()}\nappointment if received today 09:00: {due:%d/%m/%Y}\n\n"
            + json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
