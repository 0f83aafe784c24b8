"""The review's "Sửa" buttons (issue #18, point 8): a change made from the review goes straight
back to the review after "Tiếp tục", through the steps in between that still hold, and stops
on a step the change newly put on the path."""
from __future__ import annotations

from datetime import date, datetime

from flows_testdata import MINIMAL, dump

import flows
from flows.dossier import dossier_problems
from flows.loader import load_flow_bytes
from flows.sample import KIOSK_UNIT, SIM_CITIZEN

TODAY = date(2026, 11, 23)
SHA = "ab" * 32


def _at_review():
    flow = load_flow_bytes(dump(MINIMAL), "thu-nghiem.yaml")
    e = flows.FlowEngine(flow, today=TODAY, kiosk_unit=KIOSK_UNIT)
    assert e.next()  # guide
    e.set_applicant(SIM_CITIZEN)
    assert e.next() and e.step.id == "mot"
    e.set("need_paper", True)
    e.set("dob", "1985-05-12")
    assert e.next() and e.step.id == "giay"
    e.set_attachment("giay-to", SHA, 1000, "image/jpeg")
    assert e.next() and e.step.id == "noi"
    assert e.next() and e.step.kind == "review"
    return e


def _walked(e):
    return [s.id for s in e.history]


def test_continue_after_a_change_goes_straight_back_to_the_review():
    e = _at_review()
    before = _walked(e)
    assert e.edit("mot", back_to_review=True) and e.step.id == "mot"
    assert e.editing_from_review
    e.set("dob", "1986-01-02")
    assert e.next()
    assert e.step.kind == "review" and not e.editing_from_review
    # the steps in between count as walked: the submit step checks them, the dossier has them
    assert _walked(e) == before
    assert e.answers["dob"] == "1986-01-02"
    assert e.next() and e.step.kind == "submit"
    e.set_consent(True, flows.consent_sha256(e.step))
    doc = e.dossier("0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "KIOSK-HN-BADINH-01", datetime(2026, 11, 23, 9, 0))
    assert dossier_problems(doc) == [] and doc["answers"]["dob"] == "1986-01-02"


def test_a_step_the_change_puts_on_the_path_is_shown_then_the_review():
    e = _at_review()
    # "no paper" skips the papers step: back at the review without it
    assert e.edit("mot", back_to_review=True)
    e.set("need_paper", False)
    assert e.next() and e.step.kind == "review"
    assert "giay" not in _walked(e)
    # "a paper" again: the papers step was not on the path this citizen last walked, so it is
    # shown (the change made it needed), and its "Tiếp tục" goes on to the review
    assert e.edit("mot", back_to_review=True)
    e.set("need_paper", True)
    assert e.next() and e.step.id == "giay" and e.editing_from_review
    assert e.next() and e.step.kind == "review"
    assert _walked(e)[-3:] == ["mot", "giay", "noi"]


def test_a_step_left_wanting_an_answer_stops_the_way_back():
    e = _at_review()
    e.remove_attachment("giay-to")  # as if the photo had been taken away
    assert e.edit("mot", back_to_review=True)
    e.set("dob", "1986-01-02")
    assert e.next() and e.step.id == "giay"  # it needs its paper again: shown, not passed
    assert "document:giay-to" in e.errors()
    e.set_attachment("giay-to", SHA, 1000, "image/jpeg")
    assert e.next() and e.step.kind == "review"


def test_without_the_mark_or_after_back_the_walk_is_step_by_step():
    e = _at_review()
    assert e.edit("mot") and not e.editing_from_review
    assert e.next() and e.step.id == "giay"
    e = _at_review()
    assert e.edit("mot", back_to_review=True)
    assert e.back() and e.step.kind == "identify" and not e.editing_from_review
    assert e.next() and e.step.id == "mot"
    assert e.next() and e.step.id == "giay"


def test_an_edit_cannot_reach_a_step_not_walked_or_leave_a_receipt():
    e = _at_review()
    assert not e.edit("nop", back_to_review=True)  # the submit step lies ahead
    assert e.step.kind == "review"
