"""The face_check step kind (issue 21): loader rules, what leaving it needs, what the dossier keeps."""
from __future__ import annotations

import copy
from datetime import date, datetime

import pytest

import flows
from flows.dossier import dossier_problems
from flows.errors import FlowError
from flows.loader import load_flow_bytes
from flows.sample import KIOSK_UNIT, SIM_AUTH, SIM_CITIZEN
from flows.steps import face_check

from flows_testdata import DEFINITIONS, dump

TODAY = date(2026, 11, 23)


def _with_face(minimal, photo=True, where=2):
    doc = copy.deepcopy(minimal)
    if photo:
        doc["steps"][1]["options"] = {"photo": True}
    doc["steps"].insert(where, {"id": "khuon-mat", "kind": "face_check", "title": {"vi": "Khuôn mặt", "en": "Face"}})
    return doc


def test_loader_wants_an_identify_step_that_reads_the_photo_before_it(minimal):
    assert load_flow_bytes(dump(_with_face(minimal)), "t.yaml").steps[2].kind == "face_check"
    with pytest.raises(FlowError) as info:
        load_flow_bytes(dump(_with_face(minimal, photo=False)), "t.yaml")
    assert "photo" in str(info.value.detail or info.value)
    with pytest.raises(FlowError) as info:
        load_flow_bytes(dump(_with_face(minimal, where=1)), "t.yaml")
    assert "identify step before it" in str(info.value.detail or info.value)


def test_leaving_needs_passed_or_staff_and_a_new_card_asks_again():
    e = flows.FlowEngine(flows.load_registry(DEFINITIONS).get("khai-sinh"), today=TODAY, kiosk_unit=KIOSK_UNIT)
    assert e.next()
    e.set_applicant(SIM_CITIZEN, "chip", SIM_AUTH)
    assert e.next() and e.step.kind == "face_check"
    assert "face" in e.errors() and not e.next()
    face_check.record(e, "failed", distance=0.71, threshold=0.6, model=face_check.MODEL, liveness="not_checked", tries=1)
    assert not e.next()
    face_check.record(e, "fallback_staff", confirmed_by="staff_pin", tries=3, liveness="failed")
    assert e.next() and e.step.kind == "form"
    assert e.back() and e.back() and e.step.kind == "identify"
    e.set_applicant(SIM_CITIZEN, "chip", SIM_AUTH)          # another card laid: the check starts again
    assert face_check.outcome(e) is None


def test_record_keeps_numbers_only():
    e = flows.FlowEngine(flows.load_registry(DEFINITIONS).get("khai-sinh"), today=TODAY, applicant=SIM_CITIZEN)
    with pytest.raises(ValueError):
        face_check.record(e, "maybe")
    with pytest.raises(ValueError):
        face_check.record(e, "passed", photo=b"\xff\xd8")          # an image is never recorded
    face_check.record(e, "passed", distance=0.123456, threshold=0.6, model=face_check.MODEL, liveness="passed",
                      tries=1)
    assert e.applicant["authentication"]["face"] == {"distance": 0.1235, "threshold": 0.6, "model": face_check.MODEL,
                                                     "liveness": "passed", "tries": 1}


def test_the_walked_dossier_carries_the_outcome_and_the_schema_takes_it():
    from flows.sample import walk

    engine = walk(flows.load_registry(DEFINITIONS).get("khai-sinh"), TODAY)
    doc = engine.dossier("0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "KIOSK-HN-BADINH-01", datetime(2026, 11, 23, 8, 15))
    auth = doc["applicant"]["authentication"]
    assert auth["face_match"] == "passed" and auth["face"]["model"] == face_check.MODEL
    assert dossier_problems(doc) == []
    bad = copy.deepcopy(doc)
    bad["applicant"]["authentication"]["face"]["image"] = "…"
    bad["applicant"]["authentication"]["face_match"] = "probably"
    assert len(dossier_problems(bad)) >= 2


def test_a_procedure_without_the_step_says_not_required_and_an_officers_name_fits():
    """Every dossier says where the face check stands: not_required when the flow has no such step
    (typed applicant or chip alike), and a staff confirmation names the officer's account."""
    from flows.sample import walk

    registry = flows.load_registry(DEFINITIONS)
    without = [f for f in registry.flows if not any(s.kind == "face_check" for s in f.steps)]
    assert without, "some shipped procedures ask no face check"
    for flow in without:
        doc = walk(flow, TODAY).dossier("0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "KIOSK-HN-BADINH-01",
                                         datetime(2026, 11, 23, 8, 15))
        assert doc["applicant"]["authentication"]["face_match"] == "not_required", flow.id
        assert dossier_problems(doc) == [], flow.id
    engine = walk(registry.get("khai-sinh"), TODAY)
    face_check.record(engine, "fallback_staff", confirmed_by="officer:" + "n" * 100, tries=3, liveness="failed")
    doc = engine.dossier("0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "KIOSK-HN-BADINH-01", datetime(2026, 11, 23, 8, 15))
    assert doc["applicant"]["authentication"]["face_match"] == "fallback_staff" and dossier_problems(doc) == []


def test_skip_to_cannot_jump_over_the_face_check(minimal):
    doc = _with_face(minimal, where=3)           # after the form step that skips to the handling unit
    with pytest.raises(FlowError) as info:
        load_flow_bytes(dump(doc), "t.yaml")
    assert "cannot jump past the face_check step" in str(info.value.detail or info.value)
