"""Every consent a shipped flow's submit step shows cites the law in force and says what Article 9 of the
Law on Personal Data Protection asks consent to rest on (docs/privacy.md, "Consent")."""
from __future__ import annotations

import functools
import hashlib

import pytest
from flows_testdata import DEFINITIONS

import flows
from flows.steps.submit import DEFAULT_CONSENT, consent_sha256, consent_text

LAW = "91/2025/QH15"
DECREE_VI, DECREE_EN = "356/2025/NĐ-CP", "356/2025/ND-CP"

# What the citizen must know for consent to be valid (Article 9(2)): the data, the purpose, who
# controls it, their rights; and where to use those rights. Each: (Vietnamese words, English words).
POINTS = {
    "data": (["thẻ căn cước", "những gì tôi khai", "ảnh giấy tờ"], ["ID card", "what I declare", "photos of my papers"]),
    "sensitive": (["thông tin nhạy cảm"], ["sensitive data"]),
    "purpose": (["chỉ dùng để giải quyết thủ tục này"], ["only to handle this procedure"]),
    "controller": (["Trung tâm Phục vụ hành chính công", "cơ quan giải quyết hồ sơ"],
                   ["public service centre", "authority that handles my dossier"]),
    "retention": (["chỉ giữ hồ sơ đến khi gửi xong"], ["only until it has been sent"]),
    "rights": (["xem", "sửa", "yêu cầu xóa", "rút lại sự đồng ý", "cán bộ ở quầy"],
               ["see", "correct", "deleted", "withdraw my consent", "officer at the counter"]),
}


@functools.cache
def _consent_steps():
    reg = flows.load_registry(DEFINITIONS)
    assert reg.errors == []
    # consent and submit are one screen (issue #18): the submit step shows the consent text
    return tuple((f, s) for f in reg.flows for s in f.steps if s.kind == "submit")


def test_every_shipped_flow_asks_consent_once():
    reg = flows.load_registry(DEFINITIONS)
    steps = _consent_steps()
    assert len(steps) == len(reg.flows) >= 12
    assert len({f.id for f, _ in steps}) == len(reg.flows)


@pytest.mark.parametrize("flow_id", sorted(p.stem for p in DEFINITIONS.glob("*.yaml")))
def test_each_consent_step_cites_the_law_in_force_in_both_languages(flow_id):
    (_flow, step), = [(f, s) for f, s in _consent_steps() if f.id == flow_id]
    text = consent_text(step)
    assert LAW in text["vi"] and "Luật Bảo vệ dữ liệu cá nhân" in text["vi"], flow_id
    assert LAW in text["en"] and "Law on Personal Data Protection" in text["en"], flow_id
    # the superseded decree is never given as the basis (Decree 356 replaced it on 1 January 2026)
    assert "13/2023" not in text["vi"] + text["en"], flow_id


@pytest.mark.parametrize("point", sorted(POINTS))
def test_the_default_text_says_what_valid_consent_rests_on(point):
    """A flow's own ``text`` is read by a person (docs/flows.md); the default is checked word by word."""
    vi_words, en_words = POINTS[point]
    for w in vi_words:
        assert w in DEFAULT_CONSENT["vi"], (point, w)
    for w in en_words:
        assert w in DEFAULT_CONSENT["en"], (point, w)


def test_the_default_text_cites_the_implementing_decree_and_reads_as_vietnamese():
    assert DECREE_VI in DEFAULT_CONSENT["vi"] and DECREE_EN in DEFAULT_CONSENT["en"]
    # written with full diacritics, not in ASCII
    assert all(w in DEFAULT_CONSENT["vi"] for w in ("Tôi đồng ý", "dữ liệu", "Nghị định"))
    assert DEFAULT_CONSENT["vi"].isascii() is False


def test_the_recorded_sum_is_that_of_the_text_in_the_language_shown():
    _flow, step = _consent_steps()[0]
    for lang in ("vi", "en"):
        assert consent_sha256(step, lang) == hashlib.sha256(consent_text(step)[lang].encode()).hexdigest()
    assert consent_sha256(step, "vi") != consent_sha256(step, "en")
