"""The measured screen audit (issue 18, Deliver 8): every screen of every shipped flow (the pay
screen too, where a flow's fee is paid at the kiosk), and the screens around them, rendered by the
real app (headless, 1920×1080) in Vietnamese and English in the normal and the high-contrast theme,
and at ×2 text in Vietnamese in both themes: no clipped or shortened text, no text drawn over by
another widget (the "còn nữa ▼" cue included), text contrast 4.5:1 (7:1 high contrast) and control
edges 3:1 measured on the screenshot's pixels, controls ≥ 72 px and 16 px apart, and a help-call
button, a speech key and (on step screens and the pay screen) a step indicator on every screen.
See kiosk/tools/screen_audit.py for how each is measured.

Artefacts: out/screen-audit/report.json (every finding, stats per screen and variant),
summary.md (grouped), and each failing screen's screenshot with the failing boxes outlined.
Nothing here is expected to fail: a finding is a defect of the screen, not of the test.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out" / "screen-audit"
FLOWS = sorted(p.stem for p in (ROOT / "flows" / "definitions").glob("*.yaml"))
REPORT = {"findings": [], "stats": {}, "audited": [], "seconds": {}}
FINDINGS = []  # the same findings as objects, for the summary


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from kiosk.ui.display import prepare_kivy_env

    prepare_kivy_env(tmp_path_factory.mktemp("kivy"), want_xvfb=False)  # the kiosk panel's 1920×1080
    from kiosk.tools.demo import demo_config, running_app
    from kiosk.tools.screen_audit import summarise
    from kiosk.tools.touch_robot import Driver

    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    folder = tmp_path_factory.mktemp("kiosk")
    # the idle warning must not open over a screen being measured
    cfg = demo_config(folder, extra="[kiosk]\nidle_timeout_s = 900\nidle_warning_s = 20\n")
    with running_app(cfg) as app:
        d = Driver(app, OUT / "journey")
        d.wait_screen("home")
        try:
            yield app, d
        finally:
            (OUT / "report.json").write_text(json.dumps(REPORT, indent=1, ensure_ascii=False), encoding="utf-8")
            (OUT / "summary.md").write_text(summarise(FINDINGS), encoding="utf-8")


@pytest.fixture
def at_home(kiosk):
    from testkit.kiosk_app import back_home

    back_home(*kiosk)
    return kiosk


def audit_here(d, label: str, screen: str | None = None, variants=None, prepare=None) -> list:
    from kiosk.tools.screen_audit import VARIANTS, audit_variants

    t0 = time.monotonic()
    findings, stats = audit_variants(d, screen, variants=variants or VARIANTS, shots_dir=OUT, label=label,
                                     prepare=prepare)
    REPORT["seconds"][label] = round(time.monotonic() - t0, 2)
    REPORT["audited"].append(label)
    REPORT["stats"][label] = stats
    FINDINGS.extend(findings)
    for f in findings:
        row = f.as_dict()
        row["label"] = label
        REPORT["findings"].append(row)
    return findings


def explain(findings, limit: int = 40) -> str:
    lines = [f"{len(findings)} findings (out/screen-audit/summary.md, report.json and the outlined screenshots):"]
    for f in findings[:limit]:
        lines.append(f"  {f.screen} [{f.lang}/{f.theme}{'/large' if f.large_text else ''}] {f.kind}: "
                     f"{f.text[:60]!r} value={f.value} need={f.threshold} {f.detail} at {f.bbox}")
    if len(findings) > limit:
        lines.append(f"  … and {len(findings) - limit} more")
    return "\n".join(lines)


# --- the measurement itself, on widgets made to fail ------------------------------------------------
@pytest.fixture
def test_layer(at_home):
    """A white layer over the home screen, for widgets whose defects are known."""
    from kivy.graphics import Color, Rectangle
    from kivy.uix.floatlayout import FloatLayout

    app, d = at_home
    layer = FloatLayout(size=(1920, 1080), size_hint=(None, None), pos=(0, 0))
    with layer.canvas.before:
        Color(1, 1, 1, 1)
        Rectangle(pos=(0, 0), size=(1920, 1080))
    screen = app.sm.current_screen
    screen.root_box.opacity = 0  # the home screen's own widgets are not part of these tests
    screen.add_widget(layer)
    yield app, d, layer
    screen.remove_widget(layer)
    screen.root_box.opacity = 1
    d.pump(2)


def _place(layer, w, x, y):
    w.size_hint = (None, None)
    w.pos = (x, y)
    layer.add_widget(w)
    return w


def test_audit_finds_clipped_shortened_small_close_and_faint(test_layer):
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.tools.screen_audit import audit, grab

    app, d, layer = test_layer
    black = (0, 0, 0, 1)
    _place(layer, Label(text="Một dòng chữ rất dài không vừa trong ô của nó", font_size=32, color=black,
                        size=(200, 40)), 40, 900)
    cut = _place(layer, Label(text="dòng một\ndòng hai\ndòng ba\ndòng bốn", font_size=32, color=black,
                              size=(400, 80), valign="top"), 40, 700)
    cut.text_size = (400, 80)
    short = _place(layer, Label(text="Trung tâm Phục vụ hành chính công phường Ba Đình, thành phố Hà Nội",
                                font_size=32, color=black, size=(300, 50), shorten=True), 40, 600)
    short.text_size = (300, 50)
    _place(layer, Label(text="Chữ xám nhạt", font_size=32, color=(0.7, 0.7, 0.7, 1), size=(400, 60)), 40, 480)
    small = dict(background_normal="", background_color=(0.1, 0.2, 0.5, 1), color=(1, 1, 1, 1), font_size=28)
    _place(layer, Button(text="Nhỏ", size=(50, 50), **small), 700, 900)
    _place(layer, Button(text="A", size=(120, 90), **small), 700, 600)
    _place(layer, Button(text="B", size=(120, 90), **small), 828, 600)  # 8 px from "A"
    _place(layer, Button(text="Không viền", size=(300, 90), background_normal="", background_color=(0.98, 0.98, 0.98, 1),
                         color=(0, 0, 0, 1), font_size=28), 700, 400)
    _place(layer, Label(text="Chữ đè lên chữ khác", font_size=32, color=black, size=(400, 60)), 40, 200)
    _place(layer, Label(text="Dòng bị đè", font_size=32, color=black, size=(400, 60)), 120, 215)
    # and widgets that are right: none of them may be reported
    _place(layer, Label(text="Chữ đen rõ ràng", font_size=32, color=black, size=(400, 60)), 40, 300)
    _place(layer, Button(text="Tốt", size=(200, 90), **small), 1200, 300)
    d.pump(4)
    res = audit(app, grab(d), "home")
    found = {(f.kind, f.text) for f in res.findings}
    assert ("clipped", "Một dòng chữ rất dài không vừa trong ô của nó") in found
    assert ("lines_cut", "dòng một dòng hai dòng ba dòng bốn") in found
    assert any(k == "ellipsised" and t.startswith("Trung tâm") for k, t in found)
    assert ("too_small", "Nhỏ") in found
    assert ("too_close", "B ↔ A") in found or ("too_close", "A ↔ B") in found
    assert ("edge_contrast", "Không viền") in found
    assert ("overlap", "Dòng bị đè ⇄ Chữ đè lên chữ khác") in found or ("overlap", "Chữ đè lên chữ khác ⇄ Dòng bị đè") in found
    faint = [f for f in res.findings if f.kind == "text_contrast" and f.text == "Chữ xám nhạt"]
    assert faint and 1.8 < faint[0].value < 2.4  # #b3b3b3 on white is 2.07:1
    for good in ("Chữ đen rõ ràng", "Tốt"):
        assert not [f for f in res.findings if f.text == good], good
    # the box of a finding is where the widget is on the screenshot (top-down)
    tiny = next(f for f in res.findings if f.kind == "too_small")
    assert tiny.bbox == [700, 1080 - 900 - 50, 50, 50]


def test_the_ink_box_of_a_label_is_where_the_screenshot_shows_ink(test_layer):
    """A label's glyphs (an accent above, a descender below) found from its texture, the way
    overlaps and clipping are judged, sit where the real pixels are dark."""
    import numpy as np
    from kivy.uix.label import Label

    from kiosk.tools.screen_audit import _ink, _texture_rect, grab

    app, d, layer = test_layer
    w = _place(layer, Label(text="Ấy gặp", font_size=60, color=(0, 0, 0, 1), size=(600, 200), valign="top"), 300, 500)
    w.text_size = (600, 200)
    d.pump(4)
    img = grab(d)
    ink = _ink(w, _texture_rect(w, 1080), (0, 0, 1920, 1080))
    dark = np.argwhere(img[:, :, 0] < 128)
    y0, x0 = dark.min(axis=0)
    y1, x1 = dark.max(axis=0) + 1
    assert np.allclose(ink, (x0, y0, x1, y1), atol=3), (ink, (x0, y0, x1, y1))


def test_audit_finds_missing_roles_and_accepts_them_when_present(test_layer):
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.tools.screen_audit import audit, grab

    app, d, layer = test_layer
    d.pump(2)
    before = {f.text for f in audit(app, grab(d), "step-form").findings if f.kind == "missing_role"}
    btn = dict(background_normal="", background_color=(0.1, 0.2, 0.5, 1), color=(1, 1, 1, 1), font_size=28)
    for role, x in (("help_call", 40), ("speech_key", 400)):
        w = _place(layer, Button(text=role, size=(300, 90), **btn), x, 40)
        w.kiosk_role = role
    step = _place(layer, Label(text="Bước 2 / 7", font_size=32, color=(0, 0, 0, 1), size=(300, 60)), 800, 60)
    step.kiosk_role = "step_indicator"
    d.pump(3)
    after = {f.text for f in audit(app, grab(d), "step-form").findings if f.kind == "missing_role"}
    assert after == set()
    step.opacity = 0  # an indicator nobody can see is missing
    d.pump(2)
    hidden = [f for f in audit(app, grab(d), "step-form").findings if f.kind == "missing_role"]
    assert [f.text for f in hidden] == ["step_indicator"]
    # home needs no step indicator; a step screen does
    assert "step_indicator" not in {f.text for f in audit(app, grab(d), "home").findings if f.kind == "missing_role"}
    assert before <= {"help_call", "speech_key", "step_indicator"}


def test_partly_scrolled_is_not_clipping_but_off_the_window_is(test_layer):
    from kivy.uix.button import Button
    from kivy.uix.scrollview import ScrollView

    from kiosk.tools.screen_audit import audit, grab
    from kiosk.ui.widgets.common import Column

    app, d, layer = test_layer
    btn = dict(background_normal="", background_color=(0.1, 0.2, 0.5, 1), color=(1, 1, 1, 1), font_size=28,
               size_hint_y=None, height=100)
    col = Column(spacing=20)
    for i in range(12):
        col.add_widget(Button(text=f"Mục {i}", **btn))
    sv = _place(layer, ScrollView(size=(600, 500), do_scroll_x=False), 1200, 200)
    sv.add_widget(col)
    _place(layer, Button(text="Ngoài màn hình", size=(300, 90), **{k: v for k, v in btn.items()
                                                                    if k not in ("size_hint_y", "height")}), 1800, 40)
    d.pump(4)
    res = audit(app, grab(d), "home")
    assert not [f for f in res.findings if f.text.startswith("Mục")], explain(res.findings)
    assert [f.kind for f in res.findings if f.text == "Ngoài màn hình"] == ["off_window"]


def test_two_filled_primary_buttons_are_a_finding_one_is_not(test_layer):
    from kiosk.tools.screen_audit import audit, grab
    from kiosk.ui.widgets.common import BigButton

    app, d, layer = test_layer
    _place(layer, BigButton("Tiếp tục ▶", kind="primary", size=(600, 100)), 100, 300)
    _place(layer, BigButton("Chụp giấy tờ", kind="secondary", size=(600, 100)), 800, 300)
    d.pump(4)
    assert not [f for f in audit(app, grab(d), "home").findings if f.kind == "two_primaries"]
    _place(layer, BigButton("Nộp hồ sơ", kind="primary", size=(600, 100)), 800, 600)
    d.pump(4)
    found = [f for f in audit(app, grab(d), "home").findings if f.kind == "two_primaries"]
    assert sorted(f.text for f in found) == ["Nộp hồ sơ", "Tiếp tục ▶"], explain(found)


def test_a_scroll_cue_over_text_is_found(test_layer):
    """The "còn nữa ▼" cue is a widget like any other to the audit: on a line of text it is an overlap."""
    from kivy.uix.label import Label

    from kiosk.tools.screen_audit import audit, grab
    from kiosk.ui.widgets.common import ScrollCue

    app, d, layer = test_layer
    _place(layer, Label(text="Số 12 ngõ 34 phố Đội Cấn, Thành phố Hà Nội", font_size=32, color=(0, 0, 0, 1),
                        size=(900, 60)), 40, 500)
    cue = ScrollCue()
    cue.pos = (600, 505)
    layer.add_widget(cue)
    d.pump(4)
    found = [f for f in audit(app, grab(d), "home").findings if f.kind == "overlap"]
    assert [f.text for f in found] in (["Số 12 ngõ 34 phố Đội Cấn, Thành phố Hà Nội ⇄ còn nữa ▼"],
                                       ["còn nữa ▼ ⇄ Số 12 ngõ 34 phố Đội Cấn, Thành phố Hà Nội"]), explain(found)
    cue.pos = (600, 400)  # below the line: nothing covered
    d.pump(4)
    assert not [f for f in audit(app, grab(d), "home").findings if f.kind == "overlap"]


def test_the_scroll_cue_sits_under_the_scrolled_text_never_on_it(test_layer):
    """A scroll area whose text goes on below shows "còn nữa ▼" in a strip of its own under the
    scrolled part: every line stays readable at every scroll position, and the audit finds nothing;
    the cue goes when the last line shows, and there is no strip when everything fits."""
    from kiosk.tools.screen_audit import audit, grab
    from kiosk.ui.widgets.common import Column, Text, scroller

    app, d, layer = test_layer
    col = Column(spacing=8)
    for i in range(20):
        col.add_widget(Text(f"Dòng thứ {i + 1} của một trang dài, đọc đến cuối", color=(0, 0, 0, 1)))
    area = _place(layer, scroller(col), 200, 200)
    area.size = (1000, 600)
    d.pump(6)
    view, cue = area.view, area.cue
    assert area.more_below and cue.opacity == 1 and area.strip.height > 0
    _, view_y = view.to_window(view.x, view.y)
    _, cue_y = cue.to_window(cue.x, cue.y)
    assert cue_y + cue.height <= view_y, "the cue is drawn over the scrolled part"
    for y in (1, 0.5):
        area.scroll_y = y
        d.pump(4)
        found = [f for f in audit(app, grab(d), "home").findings if f.kind != "missing_role"]  # the layer has no toolbar
        assert not found, explain(found)
        assert area.more_below
    area.scroll_y = 0  # the last line shows: no cue (its strip stays, so nothing jumps)
    d.pump(4)
    assert not area.more_below and cue.opacity == 0 and area.strip.height > 0
    while len(col.children) > 3:  # it all fits: no strip, the area is a plain column
        col.remove_widget(col.children[0])
    d.pump(6)
    assert area.strip.height == 0 and not area.more_below and view.height == area.height


def test_a_scroll_area_squeezed_below_one_row_is_found(test_layer):
    """Fixed widgets above and below can leave a scroll area no room: its content is there, the
    citizen sees none of it (and no cue: there is no room for one either)."""
    from kiosk.tools.screen_audit import audit, grab
    from kiosk.ui.widgets.common import Column, Text, scroller

    app, d, layer = test_layer
    col = Column(spacing=8)
    for i in range(10):
        col.add_widget(Text(f"Xã số {i + 1}", color=(0, 0, 0, 1)))
    area = _place(layer, scroller(col), 200, 300)
    area.size = (800, 40)
    d.pump(6)
    found = [f for f in audit(app, grab(d), "home").findings if f.kind == "squeezed"]
    assert len(found) == 1 and found[0].value == 40, explain(found)
    assert area.strip.height == 0, "the cue's strip drawn outside a squeezed area"
    area.height = 400
    d.pump(6)
    assert not [f for f in audit(app, grab(d), "home").findings if f.kind == "squeezed"]


# --- the audit of the real screens --------------------------------------------------------------------
def _cancel_auto_home(app):
    ev = getattr(app.sm.current_screen, "_ev", None)
    if ev is not None:
        ev.cancel()  # goodbye and error go home by themselves after a few seconds


def _reach(app, d, name: str) -> str:
    """Bring the app to ``name`` the way a citizen would (from home) and return the audit label."""
    from kiosk.ui.i18n import tr

    if name == "home":
        return "home"
    if name == "picker":
        d.tap(tr("home.procedure", "vi"))
        d.wait_screen("picker")
        return "picker"
    if name in ("ticket", "ticket-issued"):
        d.tap(tr("home.ticket", "vi"))
        d.wait_screen("ticket")
        if name == "ticket-issued":
            first = next(iter(app.services.registry.by_field().values()))
            d.tap(first[0].field["vi"], exact=True)
            d.wait_for(lambda: app.sm.current_screen.outcome is not None, 30, "the ticket")
        return name
    if name in ("lookup", "lookup-not-found"):
        d.tap(tr("home.lookup", "vi"))
        d.wait_screen("lookup")
        if name == "lookup-not-found":
            d.tap(tr("lookup.button", "vi"))  # nothing typed: the bilingual "not found" line shows
            d.pump(5)
        return name
    if name in ("rating", "rating-why"):
        d.tap(tr("home.rating", "vi"))
        d.wait_screen("rating")
        if name == "rating-why":
            d.tap(tr("rating.not", "vi"))
        return name
    if name == "picker-keyboard":
        d.tap(tr("home.procedure", "vi"))
        d.wait_screen("picker")
        _open_keyboard(app, d)
        return name
    if name == "help-call":
        d.tap_widget(_with_role(app, "help_call"))  # what the citizen sees after calling for a person
        d.pump(10)
        return name
    if name == "idle-warning":
        import time as _time

        d.tap(tr("home.procedure", "vi"))
        d.wait_screen("picker")
        k = app.cfg["kiosk"]
        # the visit has been idle until 2 s before the warning (20 s before the wipe: enough to audit)
        app.session.last_activity = _time.monotonic() - (k["idle_timeout_s"] - k["idle_warning_s"]) - 2
        d.wait_for(lambda: app.idle_modal is not None, 10, "the idle warning")
        return name
    if name in ("goodbye", "error", "pin"):
        app.go(name)
        d.wait_screen(name)
        _cancel_auto_home(app)
        return name
    raise AssertionError(name)


def _open_keyboard(app, d) -> None:
    """Tap the picker's search field: the letter keyboard comes up (again after a switch of
    language or text size, which rebuilds the screen)."""
    if not _has_keyboard():
        d.tap_widget(app.sm.current_screen.search.box)
        d.wait_for(lambda: _has_keyboard(), 5, "the on-screen keyboard")


def _has_keyboard() -> bool:
    from kivy.core.window import Window

    from kiosk.ui.widgets.keyboard import NumPad, VnKeyboard

    def walk(w):
        yield w
        for c in w.children:
            yield from walk(c)

    return any(isinstance(w, (VnKeyboard, NumPad)) for r in Window.children for w in walk(r))


def _with_role(app, role):
    def walk(w):
        yield w
        for c in w.children:
            yield from walk(c)

    return next(w for w in walk(app.sm.current_screen) if getattr(w, "kiosk_role", None) == role)


OTHER_SCREENS = ["home", "picker", "picker-keyboard", "ticket", "ticket-issued", "lookup", "lookup-not-found", "rating",
                 "rating-why", "goodbye", "error", "pin", "help-call", "idle-warning"]


@pytest.mark.parametrize("name", OTHER_SCREENS)
def test_screen_around_the_flows_passes_the_audit(at_home, name):
    app, d = at_home
    label = _reach(app, d, name)
    findings = audit_here(d, label, app.sm.current,
                          prepare=(lambda drv: _open_keyboard(app, drv)) if name == "picker-keyboard" else None)
    app.close_idle_warning()
    app.close_panels()
    if name == "pin":
        report_keys = REPORT["stats"][label]
        assert any("keyboard_keys" in v for v in report_keys.values()), "the PIN pad's keys were not measured"
    if name == "picker-keyboard":
        keys = [v.get("keyboard_keys") for v in REPORT["stats"][label].values()]
        assert all(keys), f"the letter keyboard's keys were not measured: {keys}"
    assert not findings, explain(findings)


@pytest.mark.parametrize("flow_id", FLOWS)
def test_every_step_of_the_flow_passes_the_audit(at_home, flow_id, monkeypatch):
    """The scripted citizen walks the flow through the real screens; each step's screen is
    audited, in every variant, before the citizen acts on it; so is the pay screen, which the
    submit step's citizen handler walks (kiosk/ui/steps/submit.py: it is no step of its own)."""
    from kiosk.tools.journeys import walk_procedure
    from kiosk.ui.steps import submit

    app, d = at_home
    findings, seen, indicators = [], set(), {}

    def observe(screen_name, driver):
        engine = app.session.engine
        step = engine.step if engine is not None and not engine.done and screen_name != "pay" else None
        key = step.id if step is not None else screen_name
        if key in seen:
            return
        seen.add(key)
        indicators[screen_name] = _step_indicator_text(app)
        findings.extend(audit_here(driver, f"{flow_id}--{key}--{screen_name}", screen_name))

    pay = submit.pay

    def audited_pay(w, label):
        observe("pay", w.d)
        pay(w, label)

    monkeypatch.setattr(submit, "pay", audited_pay)
    t0 = time.monotonic()
    walk_procedure(d, flow_id, shoot=False, finish=False, observe=observe)
    REPORT["seconds"][f"walk {flow_id}"] = round(time.monotonic() - t0, 2)
    assert seen, "no step screen was audited"
    outcome = app.session.outcome
    due = bool(outcome is not None and getattr(outcome, "payment_due", 0))
    assert ("pay" in seen) == due, f"payment due {due}, pay screen audited {'pay' in seen}"
    if flow_id == PAID_AT_THE_KIOSK:
        assert due, f"{flow_id}'s fee is no longer paid at the kiosk: audit the pay screen through another flow"
    if due:
        # paying is the first half of the last step: the pay screen and the receipt say the same
        assert indicators["pay"] and indicators["pay"] == indicators.get("step-receipt"), indicators
    assert not findings, explain(findings)


# a shipped flow whose fee the kiosk takes (docs/touchscreen.md, pay): its walk audits the pay screen
PAID_AT_THE_KIOSK = "chung-thuc-ban-sao"


def _step_indicator_text(app) -> str:
    def walk(w):
        yield w
        for c in w.children:
            yield from walk(c)

    return next((w.text for w in walk(app.sm.current_screen) if getattr(w, "kiosk_role", None) == "step_indicator"), "")
