"""'Bước x trên n' (issue #18 point 5): the number the screen shows for each step and the total it
announces agree with the steps the citizen is then really shown."""
from __future__ import annotations

from datetime import date

import pytest

from flows import FlowEngine, load_registry
from flows.sample import KIOSK_UNIT, fill_step

REGISTRY = load_registry("flows/definitions")


def _walk_recording(flow) -> list[tuple[int, int]]:
    engine = FlowEngine(flow, today=date(2027, 3, 1), kiosk_unit=KIOSK_UNIT)
    seen = []
    for _ in range(100):
        if engine.done:
            return seen
        seen.append(engine.progress())
        if not engine.next():
            fill_step(engine, {})
            assert engine.next(), engine.errors_en()
    raise AssertionError("not finished")


@pytest.mark.parametrize("flow_id", [f.id for f in REGISTRY.flows])
def test_step_numbers_count_up_by_one_and_the_last_step_is_the_total(flow_id):
    seen = _walk_recording(REGISTRY.get(flow_id))
    assert [n for n, _ in seen] == list(range(1, len(seen) + 1))
    # once the answers are in (the last forms), the total said is the number of steps shown
    assert seen[-1] == (len(seen), len(seen))
    assert all(n <= total for n, total in seen)


def test_a_step_hidden_by_an_answer_leaves_the_total():
    flow = next(f for f in REGISTRY.flows if any(s.visible_if is not None or s.skip_to for s in f.steps))
    engine = FlowEngine(flow, today=date(2027, 3, 1), kiosk_unit=KIOSK_UNIT)
    everything = len(flow.steps)
    _, total = engine.progress()
    assert total <= everything
    # the walk itself never shows more steps than announced at the end
    seen = _walk_recording(flow)
    assert len(seen) <= everything
