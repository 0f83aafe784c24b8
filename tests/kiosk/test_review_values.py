"""How the review screen shows answers: dates and large amounts the way a Vietnamese reader expects."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

review = pytest.importorskip("kiosk.ui.screens.review")


@pytest.mark.parametrize(("ftype", "value", "lang", "shown"), [
    ("number", 50000000, "vi", "50.000.000"),
    ("number", "1250000", "en", "1,250,000"),
    ("number", 2, "vi", "2"),            # small counts stay plain
    ("number", 2.5, "vi", "2.5"),
    ("date", "2026-11-01", "vi", "01/11/2026"),
    ("text", "", "vi", "—"),
])
def test_show_value(ftype, value, lang, shown):
    assert review.show_value(SimpleNamespace(type=ftype), value, lang) == shown


def test_amounts_typed_on_a_form_are_echoed_grouped():
    form = pytest.importorskip("kiosk.ui.screens.form")
    assert form._echo("50000000", "vi") == "= 50.000.000"
    assert form._echo("1250000", "en") == "= 1,250,000"
    assert form._echo("12", "vi") == "" and form._echo("", "vi") == "" and form._echo("5x", "vi") == ""
