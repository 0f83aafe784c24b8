"""Issue #18, points 2, 3 and 8 (review), on the real Kivy app (offscreen, simulated devices, the
real central system): a review section's "Sửa" opens its step and "Tiếp tục" comes straight back;
agree-and-submit is one screen with a summary and exactly one filled button, bottom-right; the
receipt screen and the paper say the amount, the hour, the counter, the originals and the lookup
code. One app for the module (Kivy has one window per process)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    with kiosk_app(tmp_path_factory, ARTEFACTS, extra="[kiosk]\nidle_timeout_s = 120\nidle_warning_s = 20\n") as kiosk:
        yield kiosk


def _buttons(screen):
    from kiosk.ui.widgets.common import BigButton

    out, todo = [], [screen]
    while todo:
        w = todo.pop()
        if isinstance(w, BigButton):
            out.append(w)
        todo.extend(w.children)
    return out


def _labels(screen) -> str:
    from kivy.uix.label import Label

    out, todo = [], [screen]
    while todo:
        w = todo.pop()
        if isinstance(w, Label) and w.text:
            out.append(w.text)
        todo.extend(w.children)
    return "\n".join(out)


def test_edit_from_review_then_one_submit_screen_then_what_to_do_next(kiosk):
    from devices.printer.layout import text_lines
    from kiosk.tools.journeys import walk_procedure
    from kiosk.ui.i18n import tr

    app, d, cfg = kiosk
    seen: dict = {}

    def observe(name, drv):
        engine = app.session.engine
        if name == "step-review" and "edited" not in seen:
            seen["edited"] = True
            walked = [s.id for s in engine.history]
            edits = [b for b in _buttons(app.sm.current_screen) if b.text == tr("review.edit", app.lang)]
            sections = [b.step_id for b in edits]
            # one "Sửa" per section: each earlier form, papers and handling step walked
            assert sections and all(s in walked for s in sections), sections
            assert all(b.kind == "secondary" for b in edits)
            target = sections[0]
            drv.tap_widget(edits[0])
            drv.wait_for(lambda: app.sm.current != "step-review", 10, "the step to change")
            assert engine.step.id == target and engine.editing_from_review
            drv.screenshot("review-edit-step")
            drv.tap(tr("nav.next", app.lang))
            drv.wait_screen("step-review")
            assert [s.id for s in engine.history] == walked  # straight back, nothing walked twice
            seen["sections"] = sections
        if name == "step-submit":
            screen = app.sm.current_screen
            drv.screenshot("submit-one-screen")
            buttons = [b for b in _buttons(screen) if b.get_root_window() is not None]
            primary = [b for b in buttons if b.kind == "primary"]
            assert [b.text for b in primary] == [tr("submit.agree", app.lang)]
            agree = primary[0]
            width = app.root_window.width if hasattr(app, "root_window") and app.root_window else 1920
            x, y = agree.to_window(agree.x, agree.y)
            assert x > width / 2 and y < 200, (x, y)  # bottom-right, where "Tiếp tục ▶" was
            back = [b for b in buttons if b.text == tr("nav.back", app.lang) and b.kind == "secondary"]
            bx, by = back[0].to_window(back[0].x, back[0].y)
            assert bx < width / 2 and abs(by - y) < 2  # bottom-left, the same row
            words = _labels(screen)
            for expected in (engine.flow.name["vi"], "Trần Thị Ngọc Ánh", tr("submit.papers", "vi"),
                             tr("submit.fee", "vi"), tr("submit.consent_hint", "vi"), "91/2025/QH15"):
                assert expected in words, expected
            assert engine.consent is None  # nothing agreed until the button is pressed
            seen["submit"] = True

    res = walk_procedure(d, "khai-sinh", shoot=False, finish=False, observe=observe)
    assert seen.get("edited") and seen.get("submit")
    out = app.session.outcome
    assert not out.provisional and out.lookup_secret
    consent = app.session.engine.consent
    assert consent["given"] and len(consent["text_sha256"]) == 64
    d.wait_screen("step-receipt")
    d.screenshot("receipt-what-to-do-next")
    words = _labels(app.sm.current_screen)
    at = out.receipt["come_back_at"]
    assert tr("receipt.todo", "vi") in words
    # filed: no "start over" (it would say the citizen's entries are about to be deleted)
    assert tr("nav.restart", "vi") not in words
    assert "Lệ phí phải nộp: Miễn phí." in words
    assert f"từ {at.hour} giờ {at:%M} ngày {at:%d/%m/%Y}" in words
    assert "quầy tiếp nhận và trả kết quả" in words
    assert "Mang theo bản chính các giấy tờ: Giấy chứng sinh" in words
    assert f"Mã tra cứu {out.lookup_secret}" in words and f"Mã tra cứu: {out.lookup_secret}" in words
    # the paper, from the data it was printed from
    printed = "\n".join(text_lines("receipt", out.receipt))
    assert "VIỆC CẦN LÀM" in printed and "Lệ phí phải nộp: Miễn phí." in printed
    assert f"từ {at.hour} giờ {at:%M} ngày {at:%d/%m/%Y}" in printed
    assert "quầy tiếp nhận và trả kết quả" in printed and f"Mã tra cứu: {out.lookup_secret}" in printed
    assert res.code == out.code
