"""The condition language: parsed without eval, evaluated on answers and derived values."""
from __future__ import annotations

from datetime import date

import pytest

from flows.conditions import check_names, parse
from flows.errors import ConditionError

TODAY = date(2026, 11, 23)


def ev(text, **answers):
    return parse(text).evaluate(answers.get, TODAY)


def test_comparisons_and_logic():
    assert ev("a == 1 and b != 'x'", a=1, b="y")
    assert ev("not a == 1 or b in ['x', 'y']", a=1, b="y")
    assert not ev("a < 3", a=None)  # a missing answer never crashes
    assert ev("'x' in tags", tags=["x", "z"]) and ev("'q' not in tags", tags=["x"])


def test_age_and_dates():
    assert ev("age(dob) == 41", dob="1985-05-12")
    assert ev("age(dob) == 40", dob="1985-12-01")
    assert ev("dob < '2000-01-01'", dob="1985-05-12")
    assert ev("days_since(d) == 13", d="2026-11-10")
    assert ev("dob < today", dob="1985-05-12")
    assert ev("age(dob) == null", dob="not a date")


def test_functions():
    assert ev("first_word(n)", n="Nguyễn Văn Nam") == "Nguyễn"
    assert ev("last_words(n)", n="Nguyễn Văn Nam") == "Văn Nam"
    assert ev("choose(a == 1, 'x', 'y')", a=2) == "y"
    assert ev("is_set(a)", a="") is False and ev("len(a)", a="abc") == 3


@pytest.mark.parametrize("bad", ["", "a ==", "a === b", "import os", "a.b.c == 1", "f(a)", "age(a, b)",
                                 "[a]", "a and", "x" * 600, "'unterminated"])
def test_refused(bad):
    with pytest.raises(ConditionError):
        parse(bad)


def test_names_checked():
    e = parse("age(dob) > 14 and applicant.sex == 'Nam' and today > '2020-01-01' and ghost == 1")
    assert check_names(e, {"dob"}) == ["ghost"]
    assert check_names(parse("applicant.secret == 1"), set()) == ["applicant.secret"]
