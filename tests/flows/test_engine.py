"""The engine: walking, validation in Vietnamese, prefill from the chip, conditions, skip_to,
documents, handling unit, fee and the dossier (checked against the published JSON Schema)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

import flows
from flows.dossier import dossier_problems
from flows.errors import FlowError
from flows.loader import load_flow_bytes
from flows.sample import KIOSK_UNIT, SIM_AUTH, SIM_CITIZEN, walk

from flows_testdata import DEFINITIONS, dump

TODAY = date(2026, 11, 23)
UUID = "0b8a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
REG = flows.load_registry(DEFINITIONS)


def dossier_of(engine):
    return engine.dossier(UUID, "KIOSK-HN-BADINH-01", datetime(2026, 11, 23, 8, 15, 3))


@pytest.mark.parametrize("flow_id", [f.id for f in REG.flows])
def test_every_shipped_flow_walks_to_a_valid_dossier(flow_id):
    flow = REG.get(flow_id)
    engine = walk(flow, TODAY)
    assert engine.done
    doc = dossier_of(engine)
    assert dossier_problems(doc) == []
    assert doc["procedure"]["code"] == flow.procedure_code
    assert doc["flow"] == {"id": flow.id, "version": flow.version, "sha256": flow.sha256}
    assert doc["applicant"]["id_number"] == "001185012345" and doc["applicant"]["source"] == "chip"


@pytest.mark.parametrize("flow_id", [f.id for f in REG.flows])
def test_every_choice_of_every_shipped_flow_reaches_a_valid_dossier(flow_id):
    flow = REG.get(flow_id)
    for field in flow.fields.values():
        values = [o.id for o in field.options] if field.type == "choice" else [True, False] if field.type == "yes_no" else []
        for v in values:
            try:
                engine = walk(flow, TODAY, {field.id: v})
            except AssertionError as exc:
                # a flow may refuse a choice by a rule on that very field (e.g. same-sex partner for
                # the simulated citizen): then the refusal must name that field, nothing else
                assert f"'{field.id}'" in str(exc) and str(exc).count(": '") == 1, str(exc)
                continue
            doc = dossier_of(engine)
            assert dossier_problems(doc) == [], (field.id, v)
            if field.id in doc["answers"]:
                assert doc["answers"][field.id] == v


def _khai_sinh(**kw):
    e = flows.FlowEngine(REG.get("khai-sinh"), today=TODAY, kiosk_unit=KIOSK_UNIT, **kw)
    return e


def _pass_face(engine):
    """The kiosk's face check passed (kiosk.ui.screens.face_check records it; the sample's numbers)."""
    from flows.steps import face_check

    face_check.sample(engine, engine.step, {})


def _advance_to(engine, step_id):
    while engine.step.id != step_id:
        if engine.step.kind == "face_check":
            _pass_face(engine)
        assert engine.next(), (engine.step.id, engine.errors_en())


def test_khai_sinh_common_case_types_few_characters():
    e = _khai_sinh()
    assert e.step.kind == "guide" and e.next()
    assert not e.next()
    assert "thẻ căn cước" in e.errors()["applicant"]
    e.set_applicant(SIM_CITIZEN, "chip", SIM_AUTH)
    _advance_to(e, "cha-me")
    assert e.answers["relationship"] == "me"
    assert e.answers["mother_full_name"] == "Trần Thị Ngọc Ánh"
    assert e.answers["mother_birth_date"] == "1985-05-12"
    assert e.answers["mother_residence"]["commune_code"] == "00004"
    # the card of this citizen has no spouse: the father's name is the one thing to type here
    assert not e.next()
    assert e.errors() == {"father_full_name": "Vui lòng nhập họ, chữ đệm và tên người cha."}
    typed = "Nguyễn Văn Nam"
    e.set("father_full_name", typed)
    assert e.next() and e.step.id == "tre"
    assert e.answers["child_surname"] == "Nguyễn"
    e.set("child_given_names", "Minh An")
    e.set("child_birth_date", date(2026, 11, 10))
    e.set("child_sex", "nu")
    assert e.next(), e.errors()
    typed_chars = len(typed) + len("Minh An")
    assert typed_chars <= 25
    assert e.step.kind == "documents"
    assert "document:giay-chung-sinh" in e.errors()
    e.set_attachment("giay-chung-sinh", "ab" * 32, 52000, "image/jpeg")
    assert e.next() and e.step.kind == "handling_unit"
    assert e.handling_unit == {"province_code": "01", "commune_code": "00004", "name": "Phường Ba Đình"}
    assert e.next() and e.step.kind == "review"
    assert e.next() and e.step.kind == "submit"
    # one screen agrees and files: without the consent it can be neither left nor filed
    assert "consent" in e.errors() and not e.next()
    with pytest.raises(flows.FlowError):
        dossier_of(e)
    e.set_consent(True, flows.consent_sha256(e.step))
    assert e.errors() == {}
    doc = dossier_of(e)
    assert dossier_problems(doc) == []
    assert doc["answers"]["child_given_names"] == "Minh An"
    # khai sinh's fee is marked unconfirmed in its definition (a late registration's fee varies by
    # province): the dossier carries the mark, so central never takes a transfer as that fee
    assert doc["fee"] == {"amount": 0, "currency": "VND", "note_vi": REG.get("khai-sinh").fee.note["vi"], "unconfirmed": True}
    assert e.next() and e.step.kind == "receipt"
    assert e.next() and e.done
    assert not e.back()  # nothing goes back once submitted


def test_validation_messages_are_vietnamese_with_english():
    e = _khai_sinh(applicant=SIM_CITIZEN)
    _advance_to(e, "cha-me")
    e.set("father_full_name", "Nguyễn Văn Nam")
    _advance_to(e, "tre")
    e.set("child_birth_date", "2099-01-01")
    e.set("child_given_names", "An 2")
    errs, en = e.errors(), e.errors_en()
    assert errs["child_birth_date"].startswith("Ngày sinh của cháu bé không được sau ngày 23/11/2026")
    assert en["child_birth_date"].startswith("Baby's date of birth cannot be after")
    assert errs["child_given_names"] == "Tên không được có chữ số"
    assert errs["child_sex"] == "Vui lòng chọn giới tính."
    e.set("child_birth_date", "1980-01-01")
    assert e.errors()["child_birth_date"] == "Ngày sinh của cháu bé phải sau ngày sinh của mẹ"
    e.set("child_birth_date", "31/02/2026")
    assert "không phải là một ngày hợp lệ" in e.errors()["child_birth_date"]


def test_a_typed_answer_is_not_overwritten_by_prefill():
    e = _khai_sinh()
    e.next()
    e.set_applicant(SIM_CITIZEN)
    e.next()
    assert e.step.kind == "face_check" and not e.next()   # nobody passes the face check without it
    _pass_face(e)
    e.next()
    e.set("relationship", "ong-ba")
    assert e.next()
    assert "mother_full_name" not in e.answers  # grandparent: the card is not the mother's
    e.set("mother_full_name", "Lê Thị Mai")
    e.set_applicant(SIM_CITIZEN)
    assert e.answers["mother_full_name"] == "Lê Thị Mai"


def test_back_and_edit_keep_answers():
    e = _khai_sinh(applicant=SIM_CITIZEN)
    _advance_to(e, "cha-me")
    e.set("father_full_name", "Nguyễn Văn Nam")
    assert e.next() and e.step.id == "tre"
    assert e.back() and e.step.id == "cha-me"
    assert e.answers["father_full_name"] == "Nguyễn Văn Nam"
    assert e.next() and e.edit("nguoi-yeu-cau") and e.step.id == "nguoi-yeu-cau"
    assert not e.edit("giay-to")  # never visited


def test_visible_if_hides_and_drops_answers():
    e = _khai_sinh(applicant=SIM_CITIZEN)
    _advance_to(e, "cha-me")
    ids = [f.id for f in e.visible_fields()]
    assert "father_full_name" in ids and "father_residence" not in ids
    e.set("father_same_residence", False)
    assert "father_residence" in [f.id for f in e.visible_fields()]
    e.set("has_father", False)
    assert "father_full_name" not in [f.id for f in e.visible_fields()]
    assert e.next(), e.errors()  # hidden required fields do not block


def test_skip_to_and_derived_age(minimal):
    flow = load_flow_bytes(dump(minimal), "t.yaml")
    e = flows.FlowEngine(flow, today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    _advance_to(e, "mot")
    e.set("need_paper", False)
    e.set("dob", "2015-01-01")
    assert e.errors() == {"guardian": "Vui lòng nhập người giám hộ."}
    e.set("dob", "2000-01-01")
    assert e.next() and e.step.id == "noi"  # skipped the documents step
    assert not e.step_visible(flow.steps[3]) and e.step_visible(flow.steps[2])
    assert e.back() and e.step.id == "mot"
    e.set("need_paper", True)
    assert e.next() and e.step.id == "giay"
    assert e.errors() == {"document:giay-to": "Vui lòng chụp hoặc đính kèm Giấy tờ."}


def test_handling_unit_must_be_in_the_province():
    e = _khai_sinh(applicant=SIM_CITIZEN)
    with pytest.raises(FlowError) as info:
        e.set_handling_unit("01", "26734")  # a commune of Hồ Chí Minh City
    assert "không thuộc" in info.value.message_vi or "ngoài phạm vi" in info.value.message_vi
    with pytest.raises(FlowError):
        e.set_handling_unit("79", "00004")
    e.set_handling_unit("01", "00097")
    assert e.handling_unit["name"] == "Phường Hồng Hà"


def test_chung_thuc_fee_per_page():
    flow = REG.get("chung-thuc-ban-sao")
    e = flows.FlowEngine(flow, today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    for pages, copies, fee in [(1, 1, 2000), (2, 1, 4000), (5, 2, 14000), (300, 1, 200000), (300, 3, 600000)]:
        e.set("pages", pages)
        e.set("copies", copies)
        assert e.fee()["amount"] == fee, (pages, copies)


def test_appointment_date_uses_working_days_and_cutoff():
    ks = _khai_sinh()
    # same-day procedure, received Friday 16:00 → next working day Monday
    assert ks.appointment_date(datetime(2026, 11, 27, 16, 0)) == date(2026, 11, 30)
    assert ks.appointment_date(datetime(2026, 11, 27, 10, 0)) == date(2026, 11, 27)
    tt = flows.FlowEngine(REG.get("tam-tru"), today=TODAY)
    assert tt.appointment_date(datetime(2026, 11, 26, 9, 0)) == date(2026, 12, 1)


def test_dossier_refused_while_incomplete():
    e = _khai_sinh(applicant=SIM_CITIZEN)
    _advance_to(e, "cha-me")
    with pytest.raises(FlowError) as info:
        dossier_of(e)
    assert info.value.message_vi


def test_bad_values_are_reported_not_raised():
    e = flows.FlowEngine(REG.get("tam-tru"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    _advance_to(e, "noi-tam-tru")
    e.set("stay_months", "mười hai")
    e.set("applicant_phone", "12345")
    e.set("applicant_email", "not-an-email")
    e.set("temporary_address", {"province_code": "79", "commune_code": "00004", "street": "x"})
    errs = e.errors()
    # a question label is repeated, and the message speaks of the answer (never "Quý khách … phải là một số")
    assert errs["stay_months"] == "Quý khách ở đây mấy tháng? Câu trả lời phải là một số."
    assert e.errors_en()["stay_months"] == "How many months will you stay? The answer must be a number."
    assert errs["applicant_phone"].startswith("Số điện thoại không hợp lệ")
    assert errs["applicant_email"] == "Địa chỉ email không hợp lệ."
    assert "không thuộc" in errs["temporary_address"]
    e.set("applicant_phone", "+84 912 345 678")
    assert e.answers["applicant_phone"] == "0912345678"
    with pytest.raises(FlowError):
        e.set("no_such_field", 1)


def test_old_address_is_converted_for_address_fields():
    e = flows.FlowEngine(REG.get("tam-tru"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    _advance_to(e, "noi-tam-tru")
    e.set("temporary_address", "Số 5 Hàng Bún, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    a = e.answers["temporary_address"]
    assert a["province_code"] == "01" and a["commune_code"] == "00097" and a["street"] == "Số 5 Hàng Bún"


def test_tam_tru_handling_unit_follows_the_temporary_address():
    e = walk(REG.get("tam-tru"), TODAY, {"temporary_address": {"province_code": "01", "commune_code": "00097", "street": "Số 5"}})
    assert e.handling_unit["commune_code"] == "00097"


def test_attachments_checked():
    e = _khai_sinh()
    with pytest.raises(FlowError):
        e.set_attachment("giay-chung-sinh", "xyz", 10, "image/jpeg")
    with pytest.raises(FlowError):
        e.set_attachment("khong-co", "ab" * 32, 10, "image/jpeg")
    e.set_attachment("giay-chung-sinh", "ab" * 32, 10, "image/jpeg")
    e.set_attachment("giay-chung-sinh", "ab" * 32, 10, "image/jpeg")  # same file twice: kept once
    assert len(e.attachments["giay-chung-sinh"]) == 1
    e.remove_attachment("giay-chung-sinh")
    assert "giay-chung-sinh" not in e.attachments


def test_typed_identification_is_checked():
    e = _khai_sinh()
    e.next()
    e.set_applicant({"id_number": "12345", "full_name": "Trần Thị Ngọc Ánh"}, "typed")
    assert e.errors() == {"applicant": "Số định danh cá nhân phải gồm 12 chữ số."}
    e.set_applicant({"id_number": "001185012345", "full_name": " "}, "typed")
    assert "họ, chữ đệm và tên" in e.errors()["applicant"]
    e.set_applicant({"id_number": "001185012345", "full_name": "Trần Thị Ngọc Ánh", "sex": "Nữ"}, "qr")
    assert e.next()
    with pytest.raises(FlowError):
        e.set_applicant(SIM_CITIZEN, "vneid")


def test_numbers_in_vietnamese_notation():
    e = flows.FlowEngine(REG.get("ho-kinh-doanh"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    e.set("capital_vnd", "50.000.000")
    e.set("workers", "2")
    assert e.answers["capital_vnd"] == 50_000_000 and e.answers["workers"] == 2
    e.set("workers", "1,5")
    assert e.answers["workers"] == 1.5


def test_khai_sinh_with_spouse_on_the_card_needs_only_the_childs_names_typed():
    mother = dict(SIM_CITIZEN, spouse_name="Nguyễn Văn Nam")
    e = _khai_sinh(applicant=mother)
    typed = 0
    _advance_to(e, "tre")
    assert e.answers["father_full_name"] == "Nguyễn Văn Nam" and e.answers["child_surname"] == "Nguyễn"
    assert e.answers["birth_place"] == {"province_code": "01", "commune_code": "00004", "street": "",
                                        "text": "Phường Ba Đình, Thành phố Hà Nội"}
    e.set("child_given_names", "Minh An")
    typed += len("Minh An")
    e.set("child_birth_date", date(2026, 11, 10))  # date picker
    e.set("child_sex", "nam")                       # one touch
    assert e.next(), e.errors()
    assert typed <= 10


def test_kiosk_commune_scope():
    e = flows.FlowEngine(REG.get("chung-thuc-ban-sao"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    assert [c.code for c in e.allowed_communes()] == ["00004"]
    with pytest.raises(FlowError):
        e.set_handling_unit("01", "00097")  # another commune of Hà Nội: the original must be shown here
    assert e.default_handling_unit()["commune_code"] == "00004"


def test_per_unit_fees():
    e = flows.FlowEngine(REG.get("trich-luc-ho-tich"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    e.set("copies", 3)
    assert e.fee()["amount"] == 24000
    e = flows.FlowEngine(REG.get("chung-thuc-chu-ky"), today=TODAY, applicant=SIM_CITIZEN, kiosk_unit=KIOSK_UNIT)
    e.set("documents_count", 2)
    assert e.fee()["amount"] == 20000
