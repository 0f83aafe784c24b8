"""One dossier validator (flows.dossier) for the kiosk and the central system: the same schema,
paths only (never values) in what goes over HTTP."""
from __future__ import annotations

import copy
import json

import pytest

from central.service import validate_dossier as central_validate
from flows.dossier import openapi_schema, problem_paths
from testkit.central import CITIZEN, sample_dossier


@pytest.fixture
def good():
    d, _ = sample_dossier()
    assert problem_paths(d) == []
    return d


@pytest.mark.parametrize("change,paths", [
    (lambda d: d["handling_unit"].pop("commune_code"), ["handling_unit.commune_code"]),
    (lambda d: d.update(uuid="not-a-uuid"), ["uuid"]),
    (lambda d: d["applicant"].update(full_name=12), ["applicant.full_name"]),
    (lambda d: d.update(hacker_field={"x": 1}), ["hacker_field"]),
    (lambda d: d.update(receipt_cutoff="25:99"), ["receipt_cutoff"]),
    (lambda d: d["attachments"][0].update(sha256="z" * 64), ["attachments.0.sha256"]),
    (lambda d: d.update(processing_days=-1), ["processing_days"]),
])
def test_kiosk_and_central_name_the_same_paths(good, change, paths):
    bad = copy.deepcopy(good)
    change(bad)
    assert problem_paths(bad) == paths
    assert central_validate(bad) == paths


def test_paths_never_carry_the_values(good):
    bad = copy.deepcopy(good)
    bad["applicant"]["full_name"] = ["not", "a", "string"]
    bad["applicant"]["id_number"] = {"nested": CITIZEN["id_number"]}
    out = json.dumps(problem_paths(bad), ensure_ascii=False)
    assert CITIZEN["id_number"] not in out and "not" not in out


def test_not_a_mapping():
    assert central_validate(["x"]) == ["body"]


def test_the_openapi_copy_has_no_dangling_references():
    text = json.dumps(openapi_schema())
    assert "$defs" not in text and "#/" not in text
