"""`make demo` names a real counter on its receipts ([kiosk] result_counter, issue 18): demo_config's
``result_counter`` goes into the configuration, merged into a caller's own [kiosk] table."""
from __future__ import annotations

from kiosk.tools.demo import DEMO_RESULT_COUNTER, demo_config


def test_the_demo_names_a_counter_and_tests_keep_the_general_wording(tmp_path):
    assert DEMO_RESULT_COUNTER == "Quầy số 2"
    assert demo_config(tmp_path / "a", result_counter=DEMO_RESULT_COUNTER)["kiosk"]["result_counter"] == "Quầy số 2"
    assert demo_config(tmp_path / "b")["kiosk"]["result_counter"] == ""


def test_the_counter_joins_the_callers_kiosk_table(tmp_path):
    cfg = demo_config(tmp_path, result_counter="Quầy số 2", extra='[kiosk]\nidle_timeout_s = 60\nidle_warning_s = 20\n')
    assert (cfg["kiosk"]["result_counter"], cfg["kiosk"]["idle_timeout_s"]) == ("Quầy số 2", 60)
