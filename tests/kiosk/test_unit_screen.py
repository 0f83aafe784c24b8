"""The handling-unit screen names the kiosk's own kind of province (issue #18 point 8): "trong thành
phố" for Hà Nội (a centrally-run city), never "trong tỉnh" there. The real app, offscreen."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens" / "unit"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    with kiosk_app(tmp_path_factory, ARTEFACTS, extra="[kiosk]\nidle_timeout_s = 600\nidle_warning_s = 60\n",
                   central=False) as (app, d, _cfg):
        yield app, d


def test_the_hint_says_the_city_for_ha_noi(kiosk):
    from flows.sample import fill_step

    app, d = kiosk
    assert app.cfg["kiosk"]["province_code"] == "01"   # Thành phố Hà Nội
    app.start_flow(app.services.registry.get("chung-thuc-ban-sao"))
    engine = app.session.engine
    while engine.step.kind != "handling_unit":          # the steps before, answered as the sample citizen
        if not engine.next():
            fill_step(engine, {})
            assert engine.next(), engine.errors_en()
    app.show_step()
    d.wait_screen("step-unit")
    d.pump(3)
    assert d.has_text("bất kỳ xã, phường nào trong thành phố.") and not d.has_text("trong tỉnh")
    d.screenshot("unit-hint-vi")
    app.toggle_language()
    d.pump(3)
    try:
        assert d.has_text("any commune or ward in the city.")
    finally:
        app.toggle_language()
