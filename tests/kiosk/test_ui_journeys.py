"""The real Kivy app, headless (SDL offscreen + Mesa), on simulated devices, against the real
central system over HTTP on 127.0.0.1. Touches go through Kivy's input pipeline.

One app for the whole module (Kivy has one window per process); each test starts from home.
Screenshots of every screen are kept under out/test-screens/ as artefacts.
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens"
COUNTERS = ARTEFACTS / "touch-counters.json"
SIM_NAME = "Trần Thị Ngọc Ánh"
SIM_ID = "001185012345"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    # 20 s: the least warning WCAG 2.2.1 allows
    with kiosk_app(tmp_path_factory, ARTEFACTS, extra="[kiosk]\nidle_timeout_s = 60\nidle_warning_s = 20\n") as kiosk:
        yield kiosk


@pytest.fixture
def at_home(kiosk):
    from testkit.kiosk_app import back_home

    back_home(*kiosk[:2])
    return kiosk


def assert_not_blank(png: Path, texts: list[str] = ()):
    img = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    assert img.std() > 20, f"{png.name} looks blank (std {img.std():.1f})"
    # more than two distinct tones: text rendered, not just a background and a bar
    assert len(np.unique((img // 16).astype(np.uint8))) > 4, png.name


def central_rows(cfg) -> list[tuple]:
    db = cfg["central"]["database"]
    with sqlite3.connect(db) as con:
        cols = [r[1] for r in con.execute("pragma table_info(dossiers)")]
        rows = con.execute("select * from dossiers").fetchall()
    return [dict(zip(cols, r)) for r in rows]


def record_counters(res) -> None:
    data = json.loads(COUNTERS.read_text()) if COUNTERS.exists() else {}
    data[res.flow_id] = {"touches": res.touches, "typed": res.typed, "typed_after_chip": res.typed_after_chip}
    COUNTERS.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def test_the_screens_draw_with_the_bundled_font_that_has_every_symbol(at_home):
    """DejaVu Sans, the receipt's font: Kivy's own Roboto draws ◀ ▶ ★ ⌫ ◐ as empty boxes."""
    from kivy.core.text import DEFAULT_FONT, LabelBase
    from kivy.core.text import Label as CoreLabel

    from devices.printer.fonts import FONT_DIR

    regular = LabelBase._fonts[DEFAULT_FONT][0]
    assert regular == str(FONT_DIR / "DejaVuSans.ttf") and (FONT_DIR / "DejaVuSans.ttf").exists()
    # a glyph the font lacks is drawn as the same empty box for every symbol: these must all differ
    shapes = set()
    for ch in "◀▶★⌫◐":
        label = CoreLabel(text=ch, font_size=48)
        label.refresh()
        shapes.add(bytes(label.texture.pixels))
    assert len(shapes) == 5


def test_home_screen_renders_vietnamese_and_is_not_blank(at_home):
    app, d, _ = at_home
    shot = d.screenshot("test-home")
    assert_not_blank(shot)
    for text in ("Làm thủ tục hành chính", "Lấy số thứ tự", "Tra cứu hồ sơ", "Đánh giá mức độ hài lòng"):
        assert d.has_text(text), text
    d.tap("English")
    assert d.has_text("File an application")
    d.tap("Tiếng Việt")
    assert d.has_text("Làm thủ tục hành chính")


def test_every_step_kind_is_shown_by_the_screen_its_entry_names(at_home):
    """kiosk/ui/steps: each kind's screen is in the app, of the class the entry names, and the app
    goes there for a step of that kind."""
    from flows import steps
    from kiosk.ui.steps import ui_kinds

    app, _, _ = at_home
    assert sorted(ui_kinds()) == sorted(steps.names())
    for kind, entry in ui_kinds().items():
        assert isinstance(app.sm.get_screen(entry.screen), entry.load_screen_class()), kind


@pytest.mark.parametrize("flow_id", ["khai-sinh", "chung-thuc-ban-sao", "tam-tru"])
def test_whole_procedure_from_home_to_printed_receipt(at_home, flow_id):
    """Touches from home to the printed receipt; the dossier arrives at the central system over
    HTTP with the chip's data, the receipt's QR decodes to the dossier code, and nothing personal
    stays on the kiosk afterwards."""
    import zxingcpp

    from devices.qr.payloads import parse_receipt
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    res = walk_procedure(d, flow_id)
    record_counters(res)
    assert not res.provisional
    assert res.screens[-2:] == ["rating", "goodbye"]
    for shot in d.shots[-len(res.screens):]:
        assert_not_blank(shot)
    # the central system has it, once, with the applicant read from the chip
    rows = [r for r in central_rows(cfg) if r["dossier_code"] == res.code]
    assert len(rows) == 1
    body = json.loads(rows[0]["body"])
    assert body["applicant"]["full_name"] == SIM_NAME and body["applicant"]["source"] == "chip"
    assert body["flow"]["id"] == flow_id
    # the printed receipt (the sim printer's PNG of its own ESC/POS stream) carries the code in its QR
    decoded = zxingcpp.read_barcodes(Image.open(res.receipt_png).convert("L"))
    receipts = [parse_receipt(b.text) for b in decoded if b.text.startswith("KIOSKVN2|")]
    assert receipts and receipts[0].dossier_code == res.code
    # anyone who photographs the receipt reads its QR: the code and secret, nothing personal
    assert all(SIM_ID not in b.text and SIM_ID[-6:] not in b.text and "Trần" not in b.text for b in decoded)
    status = app.services.client.status(res.code, receipts[0].lookup_secret)
    assert status and status["status"] == "received"
    # after goodbye: the session holds nothing, and the outbox file holds no personal data
    d.wait_screen("home", 15)
    assert not app.session.has_personal_data
    raw = b"".join(p.read_bytes() for p in Path(cfg["outbox"]["path"]).parent.glob("outbox.sqlite3*"))
    for secret in (SIM_NAME.encode(), SIM_ID.encode(), "Đội Cấn".encode()):
        assert secret not in raw


OTHER_FLOWS = sorted(p.stem for p in (Path(__file__).parents[2] / "flows" / "definitions").glob("*.yaml")
                     if p.stem not in ("khai-sinh", "chung-thuc-ban-sao", "tam-tru"))


@pytest.mark.parametrize("flow_id", OTHER_FLOWS)
def test_every_other_shipped_procedure_can_be_filed_through_the_screen(at_home, flow_id):
    """Every shipped flow can be finished by touch alone: its own validation rules accept what a
    citizen can enter through its screens, and the dossier arrives once."""
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    res = walk_procedure(d, flow_id, shoot=False)
    record_counters(res)
    assert not res.provisional and res.code and res.screens[-2:] == ["rating", "goodbye"]
    rows = [r for r in central_rows(cfg) if r["dossier_code"] == res.code]
    assert len(rows) == 1
    body = json.loads(rows[0]["body"])
    assert body["flow"]["id"] == flow_id and body["applicant"]["source"] == "chip"
    d.wait_screen("home", 15)
    assert not app.session.has_personal_data


# (label, visit starts at, procedure, due date, moved to at the submit screen or None, code's day)
DATE_SWEEP = [
    # the child was born 10 days ago: last month, so the citizen pages the calendar back
    ("1st of a month 08:00", "2027-03-01T08:00", "khai-sinh", "01/03/2027", None, "270301"),
    ("Friday 15:01, after the cut-off", "2027-03-05T15:01", "chung-thuc-ban-sao", "08/03/2027", None, "270305"),
    ("31 December 23:59", "2027-12-31T23:59", "khai-sinh", "04/01/2028", None, None),
    ("29 February 2028", "2028-02-29T10:00", "tam-tru", "03/03/2028", None, "280229"),
    ("day before Tết's holidays 2027, 16:00", "2027-02-03T16:00", "khai-tu", "11/02/2027", None, "270203"),
    ("2 January 2028", "2028-01-02T10:00", "chung-thuc-ban-sao", "04/01/2028", None, "280102"),
    ("starts 23:58 on 31/12, submits after midnight", "2027-12-31T23:58", "khai-sinh", "04/01/2028",
     "2028-01-01T00:01", "280101"),
]


@pytest.mark.parametrize("label,start,flow_id,due,submit_at,code_day", DATE_SWEEP, ids=[s[0] for s in DATE_SWEEP])
def test_the_same_due_date_on_guide_review_receipt_and_central_on_any_day(at_home, clock, label, start, flow_id,
                                                                         due, submit_at, code_day):
    """The scripted citizen files at instants that break naive date code; the guide, the review
    screen, the printed receipt's QR and the central system all name the same due date."""
    import datetime as dt

    import zxingcpp

    from devices.qr.payloads import parse_receipt
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    clock.set_now(start)
    seen = {}

    def observe(name, drv):
        if name in ("step-guide", "step-review") and name not in seen:
            seen[name] = drv.has_text(due)
        if name == "step-submit" and submit_at and "moved" not in seen:
            clock.set_now(submit_at)
            seen["moved"] = True

    res = walk_procedure(d, flow_id, shoot=False, observe=observe)
    assert seen.get("step-guide") and seen.get("step-review"), seen
    assert not res.provisional
    want = dt.datetime.strptime(due, "%d/%m/%Y").date()
    row = next(r for r in central_rows(cfg) if r["dossier_code"] == res.code)
    assert row["appointment_date"] == want.isoformat()
    decoded = zxingcpp.read_barcodes(Image.open(res.receipt_png).convert("L"))
    receipt = next(parse_receipt(b.text) for b in decoded if b.text.startswith("KIOSKVN2|"))
    assert receipt.appointment == want
    if code_day:  # (at 23:59 a slow machine may submit after midnight: the due date is the same either way)
        assert res.code.split("-")[1] == code_day
        assert f"{receipt.received_at:%y%m%d}" == code_day


def test_khai_sinh_needs_at_most_six_typed_characters_after_the_chip(at_home):
    """Issue #18 (effort): the child's name, date of birth and sex come from the Giấy chứng sinh's QR
    (a garbled one first gets a plain answer and fills nothing); tạm trú takes at most 15 keys and 45
    touches (months on big buttons, the street from the ward's list, the house number on a keypad)."""
    from devices.qr.samples import SIM_CHILD
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    garbled = {}

    def observe(name, drv):
        engine = app.session.engine
        if name == "step-form" and engine.step.id == "tre" and not garbled:
            screen = app.sm.current_screen
            app.services.scanner.inject(b"https://benhvien.example.vn/gcs/123")  # a hospital's own link
            drv.wait_for(lambda: screen.scan_message[0], 10, "the answer to a foreign QR")
            garbled.update(message=screen.scan_message, shown=drv.has_text(screen.scan_message[0]),
                           filled=engine.answers.get("child_given_names"))

    res = walk_procedure(d, "khai-sinh", shoot=False, observe=observe)
    record_counters(res)
    assert garbled["message"][1] and "nhập" in garbled["message"][0] and garbled["shown"], garbled
    assert garbled["filled"] is None
    assert res.typed_after_chip <= 6, res
    body = json.loads(next(r for r in central_rows(cfg) if r["dossier_code"] == res.code)["body"])
    answers = body["answers"]
    assert (answers["child_surname"], answers["child_given_names"], answers["child_sex"]) == (
        SIM_CHILD["surname"], SIM_CHILD["given_names"], SIM_CHILD["sex"])

    d.wait_screen("home", 15)
    res = walk_procedure(d, "tam-tru", shoot=False)
    record_counters(res)
    assert res.typed <= 15 and res.touches <= 45, res
    body = json.loads(next(r for r in central_rows(cfg) if r["dossier_code"] == res.code)["body"])
    assert body["answers"]["temporary_address"]["street"] == "Số 5 phố Quán Thánh"
    assert body["answers"]["stay_months"] == 12


def test_pick_lists_a_phone_from_earlier_in_the_visit_and_a_typed_street_where_the_ward_has_no_list(at_home):
    """"Số khác…" opens the keypad for a number not on the buttons; a phone typed earlier in the
    visit (here on khai sinh, before the citizen went back and chose tạm trú) is offered masked as
    one tap; a commune without a street list gets the street typed once."""
    from kivy.core.window import Window

    from kiosk.tools.journeys import _pick
    from kiosk.ui.i18n import tr
    from kiosk.ui.widgets.address import AddressPicker

    app, d, _ = at_home
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    d.tap("Đăng ký khai sinh")
    d.wait_screen("step-guide")
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-identify")
    d.tap(tr("identify.sim", "vi"), exact=True)
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-face_check")  # the card holder on the simulated camera (issue 21)
    d.tap(tr("face.sim_holder", "vi"), exact=True)
    d.tap(tr("face.start", "vi"), exact=True)
    d.wait_for(lambda: app.sm.current_screen.state == "done", 30, "the face check")
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-form")
    screen = app.sm.current_screen
    d.tap_widget(screen.widgets["applicant_phone"].box)
    d.type_keys("0987654321")
    d.tap(tr("kb.done", "vi"), exact=True)
    for _ in range(6):  # back to the list of procedures, as a citizen who picked the wrong one
        if d.screen == "picker":
            break
        d.tap(tr("nav.back", "vi"))
        d.pump(5)
    assert d.screen == "picker"
    d.tap("Đăng ký tạm trú")
    d.wait_screen("step-guide")
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-identify")
    # the card was read earlier in this visit and the screen says so, but the new procedure's
    # engine does not have the applicant yet: give it the visit's, as the identify screen does
    # after a read (its "done" mode does not yet; reported, not this test's subject)
    if app.session.engine.applicant is None:
        app.session.engine.set_applicant(dict(app.session.applicant), app.session.applicant_source,
                                         {"access_control": "PACE", "checks": {}})
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-face_check")  # each procedure's dossier records its own face check
    d.tap(tr("face.sim_holder", "vi"), exact=True)
    d.tap(tr("face.start", "vi"), exact=True)
    d.wait_for(lambda: app.sm.current_screen.state == "done", 30, "the face check")
    d.tap(tr("nav.next", "vi"))
    d.wait_screen("step-form")
    engine, screen = app.session.engine, app.sm.current_screen
    assert engine.step.id == "noi-tam-tru"
    # the phone: offered masked, one tap
    assert d.has_text("Dùng số 09xx xxx 321") and not d.has_text("0987654321")
    d.tap("Dùng số 09xx xxx 321", exact=True)
    assert engine.answers["applicant_phone"] == "0987654321"
    # a number not on the buttons
    d.tap(tr("form.other", "vi"), exact=True)
    d.type_keys("18")
    d.tap(tr("kb.done", "vi"), exact=True)
    assert engine.answers["stay_months"] == 18
    # a ward without a street list: the street is typed once
    d.tap_widget(app.sm.current_screen.widgets["temporary_address"].change)
    d.wait_for(lambda: any(isinstance(w, AddressPicker) for w in Window.children), 5, "the address picker")
    picker = next(w for w in Window.children if isinstance(w, AddressPicker))
    _pick(d, picker, "Phường Kim Liên")
    assert picker.stage == "typed"
    d.type_keys("Soos 7 ngox 9")
    d.tap(tr("kb.done", "vi"), exact=True)
    address = engine.answers["temporary_address"]
    assert address["street"] == "Số 7 ngõ 9" and "Kim Liên" in address["text"]
    d.screenshot("test-form-effort-tam-tru")
    app.end_session()
    # the visit is over: the next citizen is not offered that phone
    assert app.sm.get_screen("step-form")._visit_phone is None


def test_offline_filing_gives_a_provisional_receipt_then_delivers_without_the_citizen(at_home):
    from central.server import run_in_thread
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    app.central_server.stop()
    try:
        res = walk_procedure(d, "chung-thuc-ban-sao", shoot=False, finish=False)
        assert res.provisional and res.code.startswith("TAM-")
        assert d.has_text("Mạng đang gián đoạn")
        shot = d.screenshot("offline-provisional-receipt")
        assert_not_blank(shot)
        assert not any(r for r in central_rows(cfg) if r.get("uuid") == app.session.dossier_uuid)
    finally:
        app.central_server = run_in_thread(cfg)
    uuid = app.session.dossier_uuid
    app.end_session()
    app.services.sync.wake()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        d.pump(1)
        if any(r.get("uuid") == uuid for r in central_rows(cfg)):
            break
        app.services.sync.wake()
        time.sleep(0.5)
    arrived = [r for r in central_rows(cfg) if r.get("uuid") == uuid]
    assert len(arrived) == 1


def test_idle_visitor_is_warned_then_wiped(at_home):
    app, d, _ = at_home
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    d.tap("Đăng ký khai sinh")
    d.tap("Tiếp tục")
    d.tap("[Mô phỏng]")
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    assert app.session.has_personal_data
    # the visitor walks away: the clock moves past the warning point
    app.session.last_activity -= 50
    d.wait_for(lambda: app.idle_modal is not None, 5, "the idle warning")
    assert d.has_text("Quý khách còn ở đây không?")
    d.screenshot("idle-warning")
    d.tap("Tôi cần thêm thời gian")  # WCAG 2.2.1: one large button that gives the time again
    assert app.idle_modal is None and app.session.has_personal_data
    app.session.last_activity -= 70
    d.wait_screen("home", 5)
    assert not app.session.has_personal_data and app.session.engine is None


def test_search_ignores_diacritics_and_telex_types_vietnamese(at_home):
    app, d, _ = at_home
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    screen = app.sm.current_screen
    d.tap_widget(screen.search.box)
    d.tap("TELEX")  # Telex → VNI → off: plain letters for an unaccented search
    d.tap("VNI")
    d.type_keys("dang ky khai sinh")
    results = [w.text for w in screen.results.children]
    assert len(results) == 1 and "Đăng ký khai sinh" in results[0]
    screen.search.clear()
    d.type_keys("khai sinh")
    assert any("Đăng ký khai sinh" in t for t in (w.text for w in screen.results.children))
    # Telex on the on-screen keyboard: "Nguyeenx Vaawn" → "Nguyễn Văn"
    d.tap("OFF")
    screen.search.clear()
    d.type_keys("Nguyeenx Vaawn")
    assert screen.search.text == "Nguyễn Văn"
    # the next visitor does not see this one's search
    app.end_session()
    d.wait_screen("home")
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    assert app.sm.current_screen.search.text == "" and not d.has_text("Nguyễn Văn")


def test_maintenance_needs_the_hidden_gesture_and_the_pin(at_home, clock):
    app, d, _ = at_home
    for _ in range(5):
        d.tap("★")
    d.wait_screen("pin")
    for ch in "1111":
        d.tap(ch, exact=True)
    d.tap("Xong", exact=True)
    assert d.screen == "pin" and d.has_text("Sai mã PIN")
    for _ in range(2):  # the third wrong PIN in a row: the next try must wait (kiosk.pin_guard)
        for ch in "2222":
            d.tap(ch, exact=True)
        d.tap("Xong", exact=True)
    assert d.has_text("Xin thử lại sau 30 giây")
    d.screenshot("pin-wait")
    clock.set_now(clock.now() + __import__("datetime").timedelta(seconds=31))
    for ch in "246810":
        d.tap(ch, exact=True)
    d.tap("Xong", exact=True)
    d.wait_screen("maintenance")
    d.wait_for(lambda: d.has_text("printer") or d.has_text("Máy in"), 60, "the diagnostics table")
    assert_not_blank(d.screenshot("maintenance"))
    screen = app.sm.current_screen
    d.tap("Đọc thẻ thử")
    d.wait_for(lambda: "card read OK" in screen.report, 60, "the test read")
    assert "PACE" in screen.report and SIM_NAME not in screen.report and SIM_ID not in screen.report
    d.tap("Quét QR thử")
    d.wait_for(lambda: "QR read OK" in screen.report, 20, "the test scan")
    d.tap("Camera", exact=True)
    d.wait_for(lambda: "camera OK" in screen.report, 30, "the camera check")


def test_a_procedure_qr_opens_its_flow_and_a_receipt_qr_shows_the_status(at_home):
    """The QR scanner is always listening; what a payload means depends on the screen."""
    from devices.qr.payloads import build_receipt_qr
    from kiosk.tools.journeys import walk_procedure

    app, d, cfg = at_home
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    app.services.scanner.inject(b"kiosk://flow/tam-tru")
    d.wait_screen("step-guide", 10)
    assert app.session.flow.id == "tam-tru"
    app.end_session()
    d.wait_screen("home")
    # a filed dossier, then its receipt's QR shown at the lookup screen
    res = walk_procedure(d, "chung-thuc-ban-sao", shoot=False)
    row = next(r for r in central_rows(cfg) if r["dossier_code"] == res.code)
    d.wait_screen("home", 15)
    d.tap("Tra cứu hồ sơ")
    d.wait_screen("lookup")
    import datetime as dt

    qr = build_receipt_qr(res.code, row["lookup_secret"], "2.000815",
                          received_at=dt.datetime.now(), appointment=dt.date.today())
    app.services.scanner.inject(qr.encode())
    d.wait_for(lambda: d.has_text("Đã tiếp nhận"), 20, "the dossier status")
    assert d.has_text(res.code)
    # a garbled QR gets a plain message, not a crash
    app.services.scanner.inject("KIOSKVN1|broken".encode())
    d.wait_for(lambda: d.screen == "lookup" and not d.has_text("Đã tiếp nhận"), 10, "the error message")


def test_every_step_has_video_help_that_plays(at_home):
    """The generated clip of the step plays in the help panel (ffpyplayer, headless), with captions."""
    from kivy.core.window import Window

    from kiosk.ui.widgets.video_help import VideoHelp

    app, d, _ = at_home
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    d.tap("Đăng ký khai sinh")
    d.wait_screen("step-guide")
    d.tap("Xem hướng dẫn")
    panel = next(w for w in Window.children if isinstance(w, VideoHelp))
    assert panel.video is not None and panel.cues, "no clip or captions for this step"
    d.wait_for(lambda: panel.video.loaded and panel.video.position > 0.5, 60, "the clip to play")
    d.wait_for(lambda: any(text in panel.caption.text for _, _, text in panel.cues), 60, "a caption")
    assert_not_blank(d.screenshot("video-help"))
    d.tap("Đóng")
    assert not any(isinstance(w, VideoHelp) for w in Window.children)


def test_no_form_to_fill_when_the_outbox_cannot_keep_dossiers(at_home):
    """An outbox that did not open at start (its key unreachable, say) leaves the kiosk usable for
    tickets and lookups, but no citizen is walked through a form that could not be kept. (The
    failed open is represented by the state it leaves, services.outbox = None: a second Kivy app
    with a broken key cannot run in this process.)"""
    app, d, _ = at_home
    outbox = app.services.outbox
    app.services.outbox = None
    try:
        d.tap("Làm thủ tục hành chính")
        assert d.screen == "home" and d.has_text("Ki-ốt tạm thời chưa nhận được hồ sơ")
        d.tap("Lấy số thứ tự")
        d.wait_screen("ticket")
    finally:
        app.services.outbox = outbox
        app.end_session()
    d.wait_screen("home")
    assert not d.has_text("Ki-ốt tạm thời chưa nhận được hồ sơ")  # the notice does not outlive the visit
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")


def test_a_typed_amount_is_read_back_grouped_under_the_field(at_home):
    """Counting zeros is where amounts go wrong: the field says "= 1.500.000" as the digits come."""
    app, d, _ = at_home
    d.tap("Làm thủ tục hành chính")
    d.wait_screen("picker")
    d.tap("Đăng ký thành lập hộ kinh doanh")
    d.wait_screen("step-guide")
    d.tap("Tiếp tục")
    d.wait_screen("step-identify")
    d.tap("[Mô phỏng]")
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    d.tap("Tiếp tục")
    d.wait_screen("step-form")
    field = app.sm.current_screen.widgets["capital_vnd"]
    d.tap_widget(field.box)
    for _ in range(len(field.text)):
        d.press_key("⌫")
    assert not d.has_text("= ")
    d.type_keys("1500000")
    assert field.echo.text == "= 1.500.000" and field.echo.get_root_window() is not None
    assert app.session.engine.answers["capital_vnd"] == 1500000


def test_the_card_reader_events_drive_identify_and_the_reminders(at_home):
    """Laying the card starts the read once the key is known; lifting it mid-read says so and the
    read starts again when the card is back; a card left behind is reminded at goodbye and home."""
    app, d, _ = at_home
    reader = app.services.reader
    screen = app.sm.get_screen("step-identify")
    try:
        reader.sim_remove()
        d.tap("Làm thủ tục hành chính")
        d.wait_screen("picker")
        d.tap("Đăng ký khai sinh")
        d.tap("Tiếp tục")
        d.wait_screen("step-identify")
        d.tap("[Mô phỏng]")  # the card's QR first, the card not on the reader yet
        d.wait_for(lambda: d.has_text("Xin đặt thẻ căn cước lên đầu đọc, máy sẽ tự đọc"), 5, "the ask for the card")
        d.screenshot("identify-waiting-for-card")
        assert not app.session.applicant and not screen.reading

        reader.transport.latency_s = 0.05  # a slow read, so that the card can be lifted in the middle
        reader.sim_insert()
        d.wait_for(lambda: screen.reading, 5, "the read to start by itself")
        time.sleep(0.3)
        reader.sim_remove()
        d.wait_for(lambda: d.has_text("Thẻ đã bị nhấc ra khi đang đọc"), 5, "the removal message")
        d.screenshot("identify-card-lifted")
        d.wait_for(lambda: not screen.reading, 10, "the broken read to end")
        assert not app.session.applicant
        reader.transport.latency_s = 0.0
        reader.sim_insert()  # laid back: read again with the same key, no new scan
        d.wait_for(lambda: bool(app.session.applicant), 30, "the read after the card came back")
        assert app.session.applicant["id_number"] == SIM_ID

        app.go("goodbye")  # the visit ends with the card still on the reader
        d.wait_for(lambda: d.has_text("Xin nhớ lấy lại thẻ căn cước"), 5, "the reminder at goodbye")
        d.screenshot("goodbye-card-left")
        app.end_session()
        d.wait_screen("home")
        assert d.has_text("Xin nhớ lấy lại thẻ căn cước")
        reader.sim_remove()
        d.wait_for(lambda: not d.has_text("Xin nhớ lấy lại thẻ căn cước"), 5, "the reminder to go")
    finally:
        reader.transport.latency_s = 0.0
        if not reader.card_present():
            reader.sim_insert()
            d.pump(3)


def test_without_verified_procedures_home_says_under_maintenance(at_home):
    """A real kiosk with no verified flow bundle serves nobody and says so (kiosk.services
    flows_problem); the reason is there for the technician, in both languages."""
    from common.errors import BilingualError

    app, d, _ = at_home
    app.services.flows_problem = BilingualError(en="No verified procedures: no flow bundle has been installed yet.",
                                                vi="Ki-ốt đang bảo trì: chưa có bộ quy trình thủ tục đã được ký và xác minh.",
                                                code="no_bundle")
    try:
        app.sm.current_screen.refresh()
        d.pump(3)
        assert d.has_text("Ki-ốt đang bảo trì") and d.has_text("Xin mời Quý khách đến quầy tiếp nhận hồ sơ")
        assert d.has_text("No verified procedures")
        assert not d.has_text("Làm thủ tục hành chính")  # no way into a procedure
        assert_not_blank(d.screenshot("home-out-of-service"))
    finally:
        app.services.flows_problem = None
        app.sm.current_screen.refresh()
        d.pump(3)
