"""Issue #18, point 1: a paper's need is one key, read the same way by the guide and the papers
screen ("Phải mang" / "Chỉ khi …"), and papers the answers make unnecessary are hidden. Also the
loader's wording rules (step titles, fee notes) and the fee said as an amount."""
from __future__ import annotations

from datetime import date

import pytest

import flows
from common.money import fee_text
from flows.errors import FlowLoadError
from flows.loader import load_flow_bytes
from flows.steps.documents import guide_papers, step_papers

from flows_testdata import DEFINITIONS, dump

TODAY = date(2026, 11, 23)
REG = flows.load_registry(DEFINITIONS)
KIOSK_UNIT = {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"}


def refused(doc) -> FlowLoadError:
    with pytest.raises(FlowLoadError) as info:
        load_flow_bytes(dump(doc), "bad.yaml")
    return info.value


# --- the model cannot say two things about one paper ---------------------------------------------

def test_the_old_two_flag_paper_cannot_be_expressed(minimal):
    # required: false on the guide, required_if on the papers screen: issue #18's "optional"
    # Giấy chứng sinh. Refused, and the message says what to write instead.
    minimal["documents"][0] = {"id": "giay-to", "name": {"vi": "Giấy tờ", "en": "A paper"},
                               "required": False, "required_if": "need_paper == true"}
    text = str(refused(minimal))
    assert "bad.yaml" in text and "documents[0]" in text and "need: always | if" in text


@pytest.mark.parametrize("paper,missing", [
    ({"need": "always", "when": "need_paper == true"}, None),                       # always, but only when?
    ({"need": "if", "when_text": {"vi": "Chỉ khi có", "en": "Only if so"}}, "when"),  # if without a condition
    ({"need": "if", "when": "need_paper == true"}, "when_text"),                     # a condition the citizen cannot read
    ({"need": "maybe"}, "when_text"),
])
def test_a_need_says_exactly_what_it_needs(minimal, paper, missing):
    minimal["documents"][0] = {"id": "giay-to", "name": {"vi": "Giấy tờ", "en": "A paper"}, **paper}
    text = str(refused(minimal))
    assert "documents[0]" in text
    if missing:
        assert f"missing key: '{missing}'" in text


def test_a_broken_when_names_the_flow_the_document_and_the_line(minimal):
    minimal["documents"][0]["when"] = "need_papr == true"
    data = dump(minimal)
    line = next(i for i, t in enumerate(data.decode().splitlines(), 1) if "need_papr" in t)
    err = refused(minimal)
    (p,) = err.problems
    assert p.line == line and p.file == "bad.yaml" and p.path == "documents[0].when"
    assert "flow 'thu-nghiem'" in p.message and "document 'giay-to'" in p.message and "need_papr" in p.message


def test_when_text_is_shown_as_it_is(minimal):
    minimal["documents"][0]["when_text"] = {"vi": "có giấy tờ", "en": "if you have one"}
    assert "start it with 'Chỉ khi'" in str(refused(minimal))


def test_the_kiosk_cannot_demand_what_only_the_counter_can_tell(minimal):
    minimal["documents"][0] = {"id": "giay-to", "name": {"vi": "Giấy tờ", "en": "A paper"}, "need": "maybe",
                               "when_text": {"vi": "Chỉ khi cán bộ hỏi", "en": "Only if the officer asks"}}
    assert "photo: optional or none" in str(refused(minimal))


# --- the guide and the papers screen say the same ------------------------------------------------

@pytest.mark.parametrize("flow_id", [f.id for f in REG.flows])
def test_guide_and_papers_screen_agree_for_every_shipped_flow(flow_id):
    from flows.sample import walk

    flow = REG.get(flow_id)
    guide = {p.document.id: p for p in guide_papers(flow)}
    assert set(guide) == {d.id for d in flow.documents}
    for d in flow.documents:
        # never "optional" for a paper every citizen must bring, never "must" for one that depends
        assert (guide[d.id].label == "must") == (d.need == "always")
        if d.need != "always":
            assert guide[d.id].note("vi").startswith("Chỉ khi") and guide[d.id].note("en").startswith("Only")
    engine = walk(flow, TODAY)
    for step in flow.steps:
        if step.kind != "documents":
            continue
        for p in step_papers(engine, step):
            # a paper the guide says every citizen brings is "Phải mang" here too
            if guide[p.document.id].label == "must":
                assert p.label == "must"
            # the kiosk demands a photo only of a paper it calls "Phải mang"
            if p.photo_required:
                assert p.label == "must" and p.note("vi").startswith("Phải mang")


def _tam_tru(**answers):
    e = flows.FlowEngine(REG.get("tam-tru"), today=TODAY, kiosk_unit=KIOSK_UNIT)
    for k, v in answers.items():
        e.set(k, v)
    step = next(s for s in e.flow.steps if s.kind == "documents")
    return {p.document.id: p for p in step_papers(e, step)}


def test_tam_tru_owner_consent_hidden_for_the_owner_or_the_household_head():
    # issue #18 (37 vs 41; point 9): "Là chủ hộ" and still asked for the owner's consent
    assert "y-kien-chu-ho" not in _tam_tru(accommodation_type="thue", is_owner=False, relation_to_head="chu-ho")
    assert "y-kien-chu-ho" not in _tam_tru(accommodation_type="so-huu", is_owner=True, relation_to_head="con")
    tenant = _tam_tru(accommodation_type="thue", is_owner=False, relation_to_head="nguoi-thue")
    assert tenant["y-kien-chu-ho"].label == "must" and tenant["y-kien-chu-ho"].photo_required
    assert tenant["cho-o-hop-phap"].label == "must"


def _khai_sinh_papers(**answers):
    e = flows.FlowEngine(REG.get("khai-sinh"), today=TODAY, kiosk_unit=KIOSK_UNIT)
    for k, v in answers.items():
        e.set(k, v)
    return {p.document.id: p for p in step_papers(e, e.flow.steps[e.flow.step_index("giay-to")])}


def test_khai_sinh_papers_follow_the_answers():
    born_in_hospital = _khai_sinh_papers(birth_place_kind="co_so_y_te", parents_married=True, has_father=True,
                                         relationship="me")
    assert born_in_hospital["giay-chung-sinh"].label == "must" and born_in_hospital["giay-chung-sinh"].photo_required
    assert "van-ban-lam-chung" not in born_in_hospital and "van-ban-uy-quyen" not in born_in_hospital
    # the marriage certificate: only if the counter cannot find the marriage on the system
    married = born_in_hospital["giay-chung-nhan-ket-hon"]
    assert married.label == "only_if" and not married.photo_required and married.note("vi").startswith("Chỉ khi")
    at_home = _khai_sinh_papers(birth_place_kind="ngoai_co_so_y_te", parents_married=False, has_father=True,
                                relationship="me")
    assert "giay-chung-sinh" not in at_home and "giay-chung-nhan-ket-hon" not in at_home
    assert at_home["van-ban-lam-chung"].label == "must"
    guide = {p.document.id: p for p in guide_papers(REG.get("khai-sinh"))}
    assert guide["giay-chung-sinh"].note("vi") == "Chỉ khi cháu bé sinh ở bệnh viện hoặc trạm y tế"
    assert guide["giay-chung-sinh"].title("vi") == "Giấy chứng sinh (bản chính)"


def test_chung_thuc_original_is_a_must_on_both_screens():
    # issue #18 (22, 26): the original was "(không bắt buộc)" on both
    flow = REG.get("chung-thuc-ban-sao")
    (guide,) = guide_papers(flow)
    assert guide.label == "must" and guide.note("vi") == "Phải mang"
    assert guide.title("vi") == "Giấy tờ cần sao (bản chính)"
    e = flows.FlowEngine(flow, today=TODAY, kiosk_unit=KIOSK_UNIT)
    (paper,) = step_papers(e, next(s for s in flow.steps if s.kind == "documents"))
    assert paper.label == "must" and not paper.photo_required  # the photo helps; it is not demanded


# --- wording rules the loader keeps --------------------------------------------------------------

def test_a_step_title_may_not_repeat_the_procedure_name(minimal):
    minimal["steps"][0]["title"] = {"vi": "Thủ tục thử nghiệm", "en": "Guide"}
    err = refused(minimal)
    assert any(p.path == "steps[0].title.vi" and "repeats the procedure's name" in p.message for p in err.problems)


def test_no_shipped_step_title_repeats_its_flow_name():
    from flows.text import fold

    for f in REG.flows:
        for s in f.steps:
            assert fold(f.name["vi"]) not in fold(s.title["vi"]), (f.id, s.id)


def test_a_fee_note_may_not_say_le_phi_again(minimal):
    minimal["fee"]["note"] = {"vi": "Lệ phí 15.000 đồng", "en": "15,000 VND"}
    assert "do not start it with that word again" in str(refused(minimal))


def test_a_fee_that_depends_on_answers_needs_guide_text(minimal):
    minimal["fee"] = {"amount": 8000, "currency": "VND", "per_unit": {"field": "copies", "rate": 8000}}
    minimal["steps"][2]["fields"].append({"id": "copies", "type": "number", "label": {"vi": "Số bản", "en": "Copies"}})
    assert "add guide_text" in str(refused(minimal))


# --- the fee as an amount ------------------------------------------------------------------------

def test_the_fee_is_an_amount_where_the_flow_knows_it():
    from flows.sample import walk

    tam_tru = REG.get("tam-tru")
    # tạm trú's amount is not confirmed yet (unconfirmed: true): an estimate, paid at the counter
    assert fee_text(tam_tru.fee, "vi") == "khoảng 15.000 đồng — cán bộ sẽ xác nhận, nộp tại quầy"
    assert fee_text(tam_tru.fee, "en") == "about 15,000 VND — the staff will confirm it; pay at the desk"
    assert fee_text(walk(tam_tru, TODAY).fee(), "vi") == "khoảng 15.000 đồng — cán bộ sẽ xác nhận, nộp tại quầy"
    assert fee_text(REG.get("ket-hon").fee, "vi") == "Miễn phí"
    # per page: the rule before the answers, the amount after them
    ct = REG.get("chung-thuc-ban-sao")
    assert fee_text(ct.fee, "vi").startswith("2.000 đồng mỗi trang")
    e = walk(ct, TODAY, {"pages": 3, "copies": 2})
    assert fee_text(e.fee(), "vi") == "10.000 đồng"
    # khai sinh: free on time; late, the amount is not known and the note says who tells it
    ks = REG.get("khai-sinh")
    assert fee_text(walk(ks, TODAY).fee(), "vi") == "Miễn phí"
    late = walk(ks, TODAY, {"child_birth_date": "2026-01-02"}).fee()
    assert fee_text(late, "vi").startswith("Đăng ký muộn") and "cán bộ ở quầy" in fee_text(late, "vi")
    # nobody's fee note starts with the word the screen already wrote
    for f in REG.flows:
        for lang in ("vi", "en"):
            assert not fee_text(f.fee, lang).casefold().startswith(("lệ phí", "fee")), f.id


def test_an_old_dossier_note_is_not_said_twice():
    assert fee_text({"amount": 15000, "note_vi": "Lệ phí 15.000 đồng (nộp trực tuyến: 7.000 đồng)"}) == \
        "15.000 đồng (nộp trực tuyến: 7.000 đồng)"


# --- question labels make sense in messages ------------------------------------------------------

def test_a_question_label_is_repeated_and_the_message_speaks_of_the_answer():
    from flows.validation import check

    field = REG.get("khai-sinh").fields["relationship"]
    assert check(field, None, TODAY, lambda name: None) == (
        "Quý khách là gì của cháu bé? Vui lòng chọn câu trả lời.", "How are you related to the baby? Please choose the answer.")
    months = REG.get("tam-tru").fields["stay_months"]
    assert check(months, 30, TODAY, lambda name: None)[0] == "Quý khách ở đây mấy tháng? Câu trả lời không được lớn hơn 24."


def test_no_bureaucratic_words_in_the_shipped_flows():
    words = ("cơ sở dữ liệu", "cán bộ một cửa", "người được khai sinh", "số định danh cá nhân", "ủy ban nhân dân cấp xã nơi",
             "năng lực hành vi")
    for path in sorted(DEFINITIONS.glob("*.yaml")):
        text = "\n".join(t for t in path.read_text(encoding="utf-8").splitlines() if not t.lstrip().startswith("#"))
        # the authority's formal name stays (it is printed on the receipt): only what a citizen reads is checked
        text = "\n".join(t for t in text.splitlines() if not t.startswith(("authority:", "legal_basis", "  - Luật", "  - Nghị")))
        for w in words:
            assert w not in text.casefold(), (path.name, w)
