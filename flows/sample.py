"""Generated valid answers: walk a flow from guide to receipt the way a patient citizen would.

Used by the tests (every shipped flow must reach a schema-valid dossier), the benchmark and
`kiosk flows preview`. It only ever uses the engine's public calls, so a flow it cannot finish
is a flow a citizen could not finish either.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flows import steps
from flows.engine import FlowEngine
from flows.model import Field, Flow
from flows.validation import to_date

# The simulated citizen of docs/architecture.md (a Person from the virtual card, as a dict).
SIM_CITIZEN = {
    "id_number": "001185012345", "full_name": "Trần Thị Ngọc Ánh", "date_of_birth": date(1985, 5, 12),
    "sex": "Nữ", "nationality": "Việt Nam", "ethnicity": "Kinh", "religion": "Không",
    "home_town": "Xã Đông Anh, Thành phố Hà Nội",
    "residence": "Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
    "issue_date": date(2023, 6, 15), "expiry_date": date(2045, 5, 12), "father_name": "Trần Văn Bình",
    "mother_name": "Lê Thị Hoa", "old_id_number": "012345678",
}
SIM_AUTH = {"access_control": "PACE", "checks": {"hashes": "ok", "signature": "ok", "chain": "ok"}}
KIOSK_UNIT = {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"}


def candidates(field: Field, engine: FlowEngine) -> list[Any]:
    """Plausible valid values for a field, best first."""
    t, v, today = field.type, field.validation, engine.today
    if t == "text":
        return ["Nguyễn Văn Nam", "Minh An", "Hộ kinh doanh Ánh Hoa", "8012345678"]
    if t == "number":
        lo = v.get("min", 1)
        return [max(1, lo) if v.get("max", 2) >= max(1, lo) else lo]
    if t == "date":
        out = []
        for days in (10, 400, 365 * 30, 1, -5, -30, -400):
            d = today - timedelta(days=days)
            out.append(d.isoformat())
        lo = field.min_date and to_date(field.min_date.evaluate(engine.resolve, today))
        hi = field.max_date and to_date(field.max_date.evaluate(engine.resolve, today))
        if lo:
            out.insert(0, (lo + timedelta(days=1)).isoformat())
        if hi and lo and hi > lo:
            out.insert(0, (lo + (hi - lo) / 2).isoformat())
        return out
    if t == "choice":
        return [o.id for o in field.options]
    if t == "multi_choice":
        return [[o.id] for o in field.options]
    if t == "yes_no":
        return [True, False]
    if t == "phone":
        return ["0912345678"]
    if t == "email":
        return ["cong.dan@example.vn"]
    if t == "id_number":
        # a number whose sex/century digit and birth year agree with a date already answered
        # (flows.id_number), else a plain well-formed one
        from flows.id_number import sample_id

        years = []
        for fid, value in engine.answers.items():
            other = engine.flow.fields.get(fid)
            if other is not None and other.type == "date" and value:
                year = int(str(value)[:4])
                if year not in years:
                    years.append(year)
        return [sample_id(y, sex) for y in years for sex in ("male", "female")] + ["001190000001"]
    if t == "address":
        return [{"province_code": "01", "commune_code": "00004", "street": "Số 1 phố Kim Mã"}]
    return []


def fill_step(engine: FlowEngine, choices: dict[str, Any]) -> None:
    """Answer the current step the way its kind's ``sample`` hook (flows/steps) says."""
    hook = steps.kind(engine.step.kind).sample
    if hook:
        hook(engine, engine.step, choices)


def walk(flow: Flow, today: date, choices: dict[str, Any] | None = None, max_steps: int = 200,
         kiosk_unit: dict | None = None) -> FlowEngine:
    """Walk ``flow`` to its end; ``choices`` forces answers (field id → value). Returns the engine
    (``engine.done`` is True) or raises AssertionError naming the step that could not be left."""
    engine = FlowEngine(flow, today=today, kiosk_unit=kiosk_unit or KIOSK_UNIT)
    choices = choices or {}
    for _ in range(max_steps):
        if engine.done:
            return engine
        for f in engine.step.fields:
            if f.id in choices and engine.answers.get(f.id) != choices[f.id]:
                engine.set(f.id, choices[f.id])
        if engine.next():
            continue
        fill_step(engine, choices)
        if not engine.next():
            raise AssertionError(f"{flow.id}: cannot leave step {engine.step.id}: {engine.errors_en()}")
    raise AssertionError(f"{flow.id}: not finished after {max_steps} steps")
