"""Form fields that save the citizen typing (issue #18, effort): ``presets`` (common numbers as big
buttons) and ``scan`` (a field filled from a paper's QR). The loader refuses what the kiosk could
not honour, and the loaded field carries both."""
from __future__ import annotations

import copy

import pytest

from flows.errors import FlowLoadError
from flows.loader import load_flow_bytes
from flows.steps.form import check_flow, scan_papers
from flows_testdata import DEFINITIONS, MINIMAL, dump


def _flow(extra_fields):
    doc = copy.deepcopy(MINIMAL)
    doc["documents"] = []  # the papers' format is another part's business: keep it out of these tests
    doc["steps"][2]["fields"] = doc["steps"][2]["fields"] + extra_fields
    return doc


MONTHS = {"id": "months", "type": "number", "label": {"vi": "Số tháng", "en": "Months"}, "required": True,
          "validation": {"min": 1, "max": 24}, "presets": [1, 3, 6, 12, 24]}
SEX = {"id": "child_sex", "type": "choice", "label": {"vi": "Giới tính", "en": "Sex"}, "scan": "birth_certificate.sex",
       "options": [{"id": "nam", "label": {"vi": "Nam", "en": "Male"}}, {"id": "nu", "label": {"vi": "Nữ", "en": "Female"}}]}
NAME = {"id": "child_given_names", "type": "text", "label": {"vi": "Tên", "en": "Names"}, "scan": "birth_certificate.given_names"}


def test_a_loaded_field_carries_its_presets_and_scan_source():
    f = load_flow_bytes(dump(_flow([MONTHS, SEX, NAME])), "ok.yaml")
    assert f.fields["months"].presets == [1, 3, 6, 12, 24]
    assert f.fields["child_sex"].scan == "birth_certificate.sex"
    assert f.fields["dob"].presets == [] and f.fields["dob"].scan is None
    assert scan_papers(f.steps[2]) == ["birth_certificate"]


@pytest.mark.parametrize("field,words", [
    ({**MONTHS, "presets": [0, 3]}, "min/max"),
    ({**MONTHS, "presets": [12, 36]}, "min/max"),
    ({**MONTHS, "type": "text", "validation": {}}, "number fields"),
    ({**NAME, "scan": "birth_certificate.weight"}, "birth_certificate"),  # the schema's pattern refuses it
    ({**NAME, "scan": "birth_certificate.birth_date"}, "date"),    # a date into a text field
    ({**SEX, "options": [{"id": "m", "label": {"vi": "Nam", "en": "Male"}}, {"id": "f", "label": {"vi": "Nữ", "en": "Female"}}]}, "nam"),
])
def test_the_loader_refuses_what_the_kiosk_could_not_honour(field, words):
    with pytest.raises(FlowLoadError) as e:
        load_flow_bytes(dump(_flow([field])), "bad.yaml")
    assert any(words in p.message for p in e.value.problems), e.value.problems


def test_check_flow_reads_the_raw_document():
    doc = _flow([{**MONTHS, "presets": [0, 1]}])
    problems = check_flow(doc, [2])
    assert problems and problems[0][0] == ("steps", 2, "fields", 3, "presets")


def test_the_shipped_effort_options():
    """The stay in months is a pick-list; the child's data may come from the Giấy chứng sinh's QR."""
    import yaml

    def field(flow, fid):
        doc = yaml.safe_load((DEFINITIONS / f"{flow}.yaml").read_text())
        return next(f for s in doc["steps"] for f in s.get("fields", []) if f["id"] == fid)

    assert field("tam-tru", "stay_months")["presets"] == [1, 3, 6, 12, 24]
    assert field("gia-han-tam-tru", "extension_months")["presets"] == [1, 3, 6, 12, 24]
    assert {field("khai-sinh", f)["scan"] for f in ("child_surname", "child_given_names", "child_birth_date", "child_sex")} == {
        "birth_certificate.surname", "birth_certificate.given_names", "birth_certificate.birth_date", "birth_certificate.sex"}
