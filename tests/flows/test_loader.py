"""Loading flow files: the shipped set loads; every kind of hostile file is refused with a
message that names the file, the line and the path."""
from __future__ import annotations

import pytest

import flows
from flows.errors import FlowLoadError
from flows.loader import load_flow_bytes

from flows_testdata import DEFINITIONS, dump


def refuse(data: bytes, *needles: str, name="bad.yaml"):
    with pytest.raises(FlowLoadError) as info:
        load_flow_bytes(data, name)
    text = str(info.value)
    for n in needles:
        assert n in text, f"{n!r} not in {text!r}"
    assert info.value.message_vi.startswith("Định nghĩa thủ tục không hợp lệ")
    return info.value


def test_shipped_definitions_all_load(shipped_paths):
    reg = flows.load_registry(DEFINITIONS)
    assert reg.errors == []
    assert len(reg.flows) == len(shipped_paths) >= 3
    codes = {f.procedure_code for f in reg.flows}
    assert {"1.001193", "2.000815", "1.004194"} <= codes
    for f in reg.flows:
        kinds = [s.kind for s in f.steps]
        assert kinds[:2] == ["guide", "identify"]
        assert kinds[-3:-1] == ["review", "submit"] and kinds[-1] in ("receipt", "ticket")
        for s in f.steps:
            assert s.help.video == f"media/help/{f.id}/{s.id}.mp4"
            assert s.help.captions == f"media/help/{f.id}/{s.id}.vtt"
        assert len(f.sha256) == 64


def test_minimal_flow_loads(minimal):
    f = load_flow_bytes(dump(minimal), "ok.yaml")
    assert f.id == "thu-nghiem" and f.fields["guardian"].visible_if is not None


def test_registry_search_is_diacritic_insensitive():
    reg = flows.load_registry(DEFINITIONS)
    for q in ("khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "1.001193", "Birth"):
        assert [f.id for f in reg.search(q)][:1] == ["khai-sinh"], q
    assert reg.search("sao y")[0].id == "chung-thuc-ban-sao"
    assert reg.search("khong co thu tuc nay") == []
    fields = reg.by_field()
    assert "Hộ tịch" in fields and reg.get("khai-sinh") in fields["Hộ tịch"]
    assert reg.get("khong-co") is None


def test_missing_key(minimal):
    del minimal["procedure_code"]
    refuse(dump(minimal), "bad.yaml:1", "missing key: 'procedure_code'")


def test_missing_key_in_step_names_line_and_path(minimal):
    del minimal["steps"][2]["title"]
    e = refuse(dump(minimal), "steps[2]", "missing key: 'title'")
    assert e.problems[0].line is not None and e.problems[0].line > 10


def test_unknown_step_kind(minimal):
    minimal["steps"][2]["kind"] = "payment"
    refuse(dump(minimal), "steps[2].kind", "'payment' is not one of")


def test_unknown_field_type(minimal):
    minimal["steps"][2]["fields"][0]["type"] = "signature"
    refuse(dump(minimal), "steps[2].fields[0].type", "'signature' is not one of")


def test_unknown_key(minimal):
    minimal["steps"][0]["colour"] = "red"
    refuse(dump(minimal), "steps[0]", "unknown key", "colour")


def test_skip_to_cycle(minimal):
    minimal["steps"][3]["skip_to"] = [{"if": "need_paper == true", "to": "mot"}]
    refuse(dump(minimal), "steps[3].skip_to[0].to", "cycle")


def test_skip_to_self(minimal):
    minimal["steps"][2]["skip_to"] = [{"if": "need_paper == true", "to": "mot"}]
    refuse(dump(minimal), "cycle")


def test_skip_to_unknown_step(minimal):
    minimal["steps"][2]["skip_to"] = [{"if": "need_paper == true", "to": "khong-co"}]
    refuse(dump(minimal), "unknown step 'khong-co'")


def test_skip_past_review_refused(minimal):
    minimal["steps"][2]["skip_to"] = [{"if": "need_paper == true", "to": "nop"}]
    refuse(dump(minimal), "past the review")


@pytest.mark.parametrize("cond, needle", [
    ("need_paper ==", "expected a value"),
    ("need_paper = true", "unexpected character '='"),
    ("__import__('os')", "unknown function '__import__'"),
    ("nobody == 1", "unknown field(s): nobody"),
    ("applicant.password == 'x'", "unknown field(s): applicant.password"),
    ("need_paper == 'yes'", "use true or false"),
    ("(" * 30 + "need_paper" + ")" * 30, "nested more than"),
])
def test_bad_conditions(minimal, cond, needle):
    minimal["steps"][2]["fields"][2]["visible_if"] = cond
    refuse(dump(minimal), "steps[2].fields[2].visible_if", needle)


def test_choice_literal_must_be_an_option(minimal):
    minimal["steps"][2]["fields"].append({"id": "kind", "type": "choice", "label": {"vi": "Loại", "en": "Kind"},
                                          "options": [{"id": "a", "label": {"vi": "A", "en": "A"}}]})
    minimal["steps"][2]["fields"][2]["visible_if"] = "kind == 'b'"
    refuse(dump(minimal), "not one of its options")


def test_duplicate_ids(minimal):
    minimal["steps"][3]["id"] = "mot"
    refuse(dump(minimal), "step id 'mot' is used twice")


def test_duplicate_yaml_key():
    text = b"schema: kiosk-flow/1\nid: a\nid: b\n"
    refuse(text, "bad.yaml:3", "appears twice")


def test_huge_file(minimal):
    minimal["legal_basis"] = ["x" * 200] * 2000
    refuse(dump(minimal), "at most 262144 bytes")


def refused_at(data: bytes, line: int, name="bad.yaml"):
    """Refused, naming the file and the line. The wording may come from PyYAML (a newer PyYAML
    refuses deep nesting itself, "exceeded maximum nesting depth"), so it is not asserted."""
    err = refuse(data, name=name)
    assert [(p.file, p.line) for p in err.problems][:1] == [(name, line)], err.problems
    return err


def test_deep_nesting():
    refused_at(b"a: " + b"[" * 5000 + b"]" * 5000, 1)


def test_deep_nesting_on_a_later_line():
    refused_at(b"id: x\nname: y\nsteps: " + b"[" * 40 + b"]" * 40, 3)


def test_deep_block_nesting():
    text = "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n"
    refuse(text.encode(), "nested more than")


def test_alias_bomb():
    text = b'a: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b,*b,*b]\n'
    refuse(text, "anchors and aliases")


def test_not_yaml():
    refuse(b"steps: [unclosed\n", "not valid YAML")


def test_not_utf8():
    refuse(b"name: \xff\xfe\n", "not UTF-8")


def test_not_a_mapping():
    refuse(b"- 1\n- 2\n", "must be a mapping")


@pytest.mark.parametrize("path", [
    "media/help/thu-nghiem/../../../etc/passwd",
    "media/help/thu-nghiem//x.mp4",
    "/etc/passwd",
    "media/help/other-flow/x.mp4",
    "media/help/thu-nghiem/./x.mp4",
])
def test_media_path_traversal(minimal, path):
    minimal["steps"][0]["help"] = {"video": path}
    refuse(dump(minimal), "steps[0].help.video")


def test_flow_must_start_and_end_properly(minimal):
    minimal["steps"] = minimal["steps"][1:] + minimal["steps"][:1]
    refuse(dump(minimal), "start with a guide step", "must end with review")


def test_mandatory_step_cannot_be_hidden(minimal):
    minimal["steps"][6]["visible_if"] = "need_paper == true"
    refuse(dump(minimal), "submit step cannot be hidden")


def test_registry_reports_refused_files_and_keeps_the_rest(tmp_path, minimal):
    (tmp_path / "ok.yaml").write_bytes(dump(minimal))
    minimal["id"] = "hong"
    minimal["steps"][2]["kind"] = "bogus"
    (tmp_path / "bad.yaml").write_bytes(dump(minimal))
    (tmp_path / "dup.yaml").write_bytes((tmp_path / "ok.yaml").read_bytes())
    reg = flows.load_registry(tmp_path)
    assert [f.id for f in reg.flows] == ["thu-nghiem"]
    text = " ".join(map(str, reg.errors))
    assert "bad.yaml" in text and "bogus" in text and "already defined" in text


@pytest.mark.parametrize("pattern, needle", [("(a+)+$", "nested repetition"), ("((a|b)+)*", "nested repetition"),
                                             ("([0-9]", "bad regular expression")])
def test_dangerous_or_bad_patterns(minimal, pattern, needle):
    minimal["steps"][2]["fields"][2]["validation"] = {"pattern": pattern}
    refuse(dump(minimal), "steps[2].fields[2].validation.pattern", needle)
