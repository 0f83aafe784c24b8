"""handling_unit: the commune that resolves the dossier (options ``default``, ``scope``,
``default_from``; the engine's ``allowed_communes`` / ``default_handling_unit`` read them)."""
from __future__ import annotations

from flows.steps import Messages, StepKind


def errors(engine, step) -> Messages:
    if not engine.handling_unit:
        return {"handling_unit": ("Vui lòng chọn nơi giải quyết hồ sơ.", "Please choose where the dossier is handled.")}
    return {}


def enter(engine, step) -> None:
    if engine.handling_unit is None:
        engine.handling_unit = engine.default_handling_unit()


KIND = StepKind("handling_unit", errors=errors, enter=enter)
