"""Text renderings of a flow, one per step, for `kiosk flows preview` (until the kiosk screens
render real PNGs). Shows what a citizen would see and what an admin must check: labels, rules,
conditions, prefills, documents, help media."""
from __future__ import annotations

import json
from datetime import date, datetime

from common import clock
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
    if step.fields:
        lines.append("")
        for f in step.fields:
            req = "*" if f.required else " "
            lines.append(f" {req} {f.label['vi']} / {f.label['en']}  [{f.type}] ({f.id})")
            if f.hint:
                lines.append(f"     gợi ý: {f.hint['vi']}")
            for o in f.options:
                lines.append(f"     ( ) {o.label['vi']} / {o.label['en']}  = {o.id}")
            if f.default is not None:
                lines.append(f"     mặc định: {f.default!r}")
            if f.prefill:
                lines.append(f"     điền sẵn: {f.prefill.source}")
            if f.visible_if:
                lines.append(f"     hiện khi: {f.visible_if.source}")
            if f.validation:
                lines.append(f"     kiểm tra: {json.dumps(f.validation, ensure_ascii=False)}")
            for expr, name in ((f.min_date, "min_date"), (f.max_date, "max_date")):
                if expr:
                    lines.append(f"     {name}: {expr.source}")
            for r in f.rules:
                lines.append(f"     quy tắc: {r.check.source} → {r.message['vi']}")
    if step.kind == "documents":
        ids = step.options.get("documents")
        docs = [flow.document(i) for i in ids] if ids else flow.documents
        lines.append("")
        for d in docs:
            need = "bắt buộc" if d.required else (f"bắt buộc khi {d.required_if.source}" if d.required_if else "không bắt buộc")
            lines.append(f"  [{d.kind}] {d.name['vi']} / {d.name['en']} — {need}")
            if d.hint:
                lines.append(f"     {d.hint['vi']}")
    if step.kind == "consent":
        from flows.engine import consent_text

        lines += ["", consent_text(step)["vi"]]
    if step.options and step.kind != "documents":
        lines.append(f"options: {json.dumps(step.options, ensure_ascii=False, default=str)}")
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
    steps = " → ".join(s.id for s in engine.history + [engine.step])
    doc = engine.dossier("00000000-0000-4000-8000-000000000000", "PREVIEW", datetime.combine(today, datetime.min.time()))
    due = engine.appointment_date(datetime.combine(today, datetime.min.time()).replace(hour=9))
    return (f"steps walked: {steps}\nfee: {engine.fee()}\nappointment if received today 09:00: {due:%d/%m/%Y}\n\n"
            + json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
