"""form: questions, one widget per visible field (the only kind with ``fields``)."""
from __future__ import annotations

import json

from flows.steps import Messages, StepKind, options_lines
from flows.validation import check


def errors(engine, step) -> Messages:
    out: Messages = {}
    for f in engine.visible_fields(step):
        msg = check(f, engine.answers.get(f.id), engine.today, engine.resolve)
        if msg:
            out[f.id] = msg
    return out


def sample(engine, step, choices) -> None:
    """``choices`` first, then for each refused field the first plausible value it accepts
    (flows.sample.candidates)."""
    from flows.sample import candidates

    for f in step.fields:
        if f.id in choices:
            engine.set(f.id, choices[f.id])
    for _round in range(4):
        errs = engine.errors()
        if not errs:
            return
        if _round == 2:
            # a cross-field rule on a forced answer: fill the other, optional fields too
            errs = {f.id: "" for f in engine.visible_fields(step) if f.id not in engine.answers}
        for fid in errs:
            f = engine.flow.fields.get(fid)
            if f is None or fid in choices:
                continue
            for value in candidates(f, engine):
                engine.set(fid, value)
                if fid not in engine.errors():
                    break


def field_lines(step) -> list[str]:
    """The fields of a step as the preview lists them: label, type, id, then every rule."""
    if not step.fields:
        return []
    lines = [""]
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
    return lines


def preview(flow, step) -> list[str]:
    return field_lines(step) + options_lines(flow, step)


KIND = StepKind("form", errors=errors, sample=sample, preview=preview)
