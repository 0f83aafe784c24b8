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
        if f.presets:
            lines.append(f"     chọn nhanh: {', '.join(str(x) for x in f.presets)} (Khác: gõ số)")
        if f.scan:
            lines.append(f"     quét mã QR: {f.scan}")
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


# What a form field may be filled from with ``scan: <paper>.<what>``, and the field types each
# answer fits. The kiosk's form screen listens for the paper's QR (its parser is the kiosk's:
# flows never imports devices) and sets every visible field of the step that names it.
SCAN_SOURCES = {
    "birth_certificate": {
        "surname": ("text",), "given_names": ("text",), "full_name": ("text",), "birth_place": ("text",),
        "birth_date": ("date",), "sex": ("choice",),
    },
}
SCAN_SEX_OPTIONS = ("nam", "nu")  # the ids a choice filled by "sex" must offer (the parser's values)


def scan_papers(step) -> list[str]:
    """The papers whose QR this form step can read (``scan`` of its fields), in field order."""
    out: list[str] = []
    for f in step.fields:
        if f.scan and f.scan.split(".", 1)[0] not in out:
            out.append(f.scan.split(".", 1)[0])
    return out


def check_flow(doc: dict, at: list[int]) -> list[tuple[tuple, str]]:
    """presets only on number fields and inside their min/max; scan names a known paper and
    answer, on a field of a type that answer fits."""
    problems: list[tuple[tuple, str]] = []
    for si in at:
        for fi, f in enumerate(doc["steps"][si].get("fields", [])):
            fp = ("steps", si, "fields", fi)
            presets = f.get("presets")
            if presets is not None:
                v = f.get("validation", {})
                if f["type"] != "number":
                    problems.append((fp + ("presets",), "presets are for number fields (a choice field already shows its options as buttons)"))
                elif any(("min" in v and x < v["min"]) or ("max" in v and x > v["max"]) for x in presets):
                    problems.append((fp + ("presets",), f"every preset must lie within the field's min/max ({v.get('min')}–{v.get('max')})"))
            scan = f.get("scan")
            if scan is not None:
                paper, _, what = scan.partition(".")
                fits = SCAN_SOURCES.get(paper, {}).get(what)
                if fits is None:
                    problems.append((fp + ("scan",), f"unknown scan source {scan!r}; known: "
                                     + ", ".join(f"{p}.{w}" for p, ws in SCAN_SOURCES.items() for w in ws)))
                elif f["type"] not in fits:
                    problems.append((fp + ("scan",), f"{scan} fills a {' or '.join(fits)} field, not a {f['type']} field"))
                elif what == "sex" and not set(SCAN_SEX_OPTIONS) <= {o["id"] for o in f.get("options", [])}:
                    problems.append((fp + ("scan",), f"{scan} needs the options {', '.join(SCAN_SEX_OPTIONS)}"))
    return problems


KIND = StepKind("form", errors=errors, sample=sample, preview=preview, check_flow=check_flow)
