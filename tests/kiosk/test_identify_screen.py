"""The identify step as a citizen meets it (issue #18, point 4): numbered steps beside pictures of
this kiosk's own reader and scanner, the demo's simulation button only on simulated devices and
never the main control, and for someone without a chip card the VNeID app's QR before typing.

The real Kivy app, headless, on simulated devices (one app for the module: Kivy has one window per
process). "Real devices" are the same screen built from a configuration whose backends are not
``sim``: the screen decides from the configuration, so no device needs to be opened for it.
Screenshots go to out/test-screens/identify/.
"""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "test-screens" / "identify"   # its own folder: other UI tests shoot beside it
SHIPPED = ROOT / "media" / "devices"
NAMES = ("card-qr.png", "card-reader.png", "phone-qr.png")


# --- without the app: configuration, pictures, the generator ------------------------------------------
def _cfg(tmp_path, extra: str = ""):
    from kiosk.config import load_config

    f = tmp_path / "override.toml"
    f.write_text(extra, encoding="utf-8")
    return load_config(f)


def test_the_shipped_drawings_are_small_pictures_the_generator_draws_again(tmp_path):
    """Committed output = what scripts/draw_device_pictures.py draws (no hand-edited or stale PNG)."""
    out = tmp_path / "drawn"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "draw_device_pictures.py"), "--out", str(out)],
                   check=True, capture_output=True)
    for name in NAMES:
        shipped = SHIPPED / name
        assert shipped.stat().st_size < 100_000, name
        with Image.open(shipped) as img:
            assert img.format == "PNG" and img.size[0] * 3 == img.size[1] * 4, name   # 4:3
        assert (out / name).read_bytes() == shipped.read_bytes(), f"{name}: rerun scripts/draw_device_pictures.py"


def test_the_kiosk_model_keys_have_defaults_and_are_checked(tmp_path):
    from kiosk.config import ConfigError

    cfg = _cfg(tmp_path)
    k = cfg["kiosk"]
    assert k["device_pictures"] == ""
    assert (k["reader_place"], k["scanner_place"]) == ("bên phải, dưới màn hình", "bên trái, dưới màn hình")
    assert k["reader_place_en"] and k["scanner_place_en"]
    with pytest.raises(ConfigError, match="kiosk.reader_place"):
        _cfg(tmp_path, '[kiosk]\nreader_place = ""\n')


def test_a_picture_missing_from_the_kiosk_folder_is_a_config_check_problem_not_a_crash(tmp_path):
    from kiosk.deployment import SHIPPED_PICTURES, device_picture, picture_problems, problems

    assert picture_problems(_cfg(tmp_path)) == []            # no folder named: the drawings, nothing to fix
    folder = tmp_path / "photos"
    cfg = _cfg(tmp_path, f'[kiosk]\ndevice_pictures = "{folder}"\n')
    assert [p.key for p in picture_problems(cfg)] == ["kiosk.device_pictures"]   # the folder itself
    assert device_picture(cfg, "card-reader.png") == SHIPPED_PICTURES / "card-reader.png"

    folder.mkdir()
    Image.new("RGB", (400, 300), (10, 120, 40)).save(folder / "card-reader.png")
    (folder / "card-qr.png").write_bytes(b"not a picture")
    found = picture_problems(cfg)
    assert sorted(p.en.split(" ")[0] for p in found) == ["card-qr.png", "phone-qr.png"]
    assert all(p.vi and p.key == "kiosk.device_pictures" for p in found)
    assert device_picture(cfg, "card-reader.png") == folder / "card-reader.png"   # the kiosk's own photo
    assert device_picture(cfg, "card-qr.png") == SHIPPED_PICTURES / "card-qr.png"  # unreadable: the drawing
    assert device_picture(cfg, "phone-qr.png") == SHIPPED_PICTURES / "phone-qr.png"
    # a wrong picture keeps no citizen away: not among the problems that put the kiosk out of service
    assert not any(p.key == "kiosk.device_pictures" for p in problems(cfg))


def test_the_simulation_control_needs_both_identify_devices_simulated(tmp_path):
    from kiosk.ui.screens.identify import simulated_identify

    assert simulated_identify(_cfg(tmp_path))
    # a real reader with a simulated scanner: the sample card's QR would open no real card
    assert not simulated_identify(_cfg(tmp_path, '[devices.idcard]\nbackend = "pcsc"\n'))
    assert not simulated_identify(_cfg(tmp_path, '[devices.qr]\nbackend = "serial"\n'))


def test_the_session_keeps_how_the_applicant_was_identified_until_the_wipe():
    from kiosk.session import Session

    s = Session()
    s.applicant, s.applicant_source = {"full_name": "Trần Thị Ngọc Ánh"}, "chip"
    s.applicant_auth = {"access_control": "PACE", "checks": {"hashes": "ok"}}
    s.wipe()
    assert (s.applicant, s.applicant_source, s.applicant_auth) == ({}, "", {})


# --- the screen ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from testkit.kiosk_app import kiosk_app

    with kiosk_app(tmp_path_factory, ARTEFACTS, extra="[kiosk]\nidle_timeout_s = 600\nidle_warning_s = 60\n",
                   central=False) as (app, d, _cfg):
        yield app, d


@pytest.fixture
def identify(kiosk):
    """A fresh visit at the identify step of khai sinh (the guide passed)."""
    app, d = kiosk
    app.end_session()
    d.wait_screen("home")
    app.start_flow(app.services.registry.get("khai-sinh"))
    assert app.next_step()
    d.wait_screen("step-identify")
    d.pump(5)
    yield app, d, app.sm.current_screen
    if app.session.lang != "vi":
        app.toggle_language()
    if app.session.large_text:
        app.toggle_large_text()
    if app.session.high_contrast:
        app.toggle_contrast()


def _widgets(screen, role):
    return [w for w in screen.root_box.walk(restrict=True) if getattr(w, "kiosk_role", None) == role]


def _buttons(screen):
    from kiosk.ui.widgets.common import BigButton

    return [w for w in screen.root_box.walk(restrict=True) if isinstance(w, BigButton)]


@contextlib.contextmanager
def _backends(app, idcard: str, qr: str):
    saved = app.cfg["devices.idcard"]["backend"], app.cfg["devices.qr"]["backend"]
    app.cfg["devices.idcard"]["backend"], app.cfg["devices.qr"]["backend"] = idcard, qr
    try:
        yield
    finally:
        app.cfg["devices.idcard"]["backend"], app.cfg["devices.qr"]["backend"] = saved


def test_the_card_steps_are_numbered_with_pictures_of_this_kiosk(identify):
    app, d, screen = identify
    steps = _widgets(screen, "identify_step")
    assert [s.number for s in steps] == [1, 2, 3]
    qr_step, card_step, can_step = steps
    # 1: the card's QR to the scanner, 2: the card on the reader (the chip opens only with a key)
    assert "mã QR" in qr_step.words.text and "bên trái, dưới màn hình" in qr_step.words.text
    assert "Đặt thẻ lên đầu đọc thẻ" in card_step.words.text and "bên phải, dưới màn hình" in card_step.words.text
    assert "6 số cuối" in can_step.words.text
    pictures = {Path(s.picture.source).name: s.picture for s in (qr_step, card_step)}
    assert set(pictures) == {"card-qr.png", "card-reader.png"}
    for pic in pictures.values():
        assert Path(pic.source).is_file() and pic.texture is not None   # drawn, not a broken image
        assert pic.height >= 270 and pic.get_root_window() is not None
    assert can_step.picture is None
    # the heading and the steps say the same thing: no "scan the QR" in small print under a
    # "place the card" headline
    assert d.has_text("2 bước")
    assert d.has_text("Không có thẻ căn cước gắn chip?")
    # the flow's own words say whose card it must be, above the heading of the steps
    own = next(w for w in screen.root_box.walk(restrict=True) if getattr(w, "text", "") == "Thẻ căn cước của cha hoặc mẹ cháu bé.")
    heading = next(w for w in screen.root_box.walk(restrict=True) if getattr(w, "text", "").startswith("Để máy đọc thẻ"))
    assert own.to_window(own.x, own.y)[1] > heading.to_window(heading.x, heading.y)[1]
    d.screenshot("identify-card-steps")


def test_the_simulation_button_is_a_small_secondary_button_at_the_bottom(identify):
    app, d, screen = identify
    sim = screen.sim_button
    assert sim is not None and sim.text.startswith("[Mô phỏng]")
    assert sim.kind == "secondary"
    back = next(b for b in _buttons(screen) if "Quay lại" in b.text)   # the footer's, beside it
    assert sim.font_size < back.font_size
    lowest_step = min(s.to_window(s.x, s.y)[1] for s in _widgets(screen, "identify_step"))
    assert sim.to_window(sim.x, sim.top)[1] <= lowest_step   # below every instruction
    # at most one filled button, and it is not the simulation
    assert [b for b in _buttons(screen) if b.kind == "primary"] == []


def test_with_real_devices_there_is_no_simulation_button(identify):
    app, d, screen = identify
    for idcard, qr in (("pcsc", "serial"), ("pcsc", "camera"), ("pcsc", "sim"), ("sim", "serial")):
        with _backends(app, idcard, qr):
            screen.refresh()
            d.pump(3)
            assert screen.sim_button is None, (idcard, qr)
            assert not any("Mô phỏng" in b.text for b in _buttons(screen)), (idcard, qr)
            assert [s.number for s in _widgets(screen, "identify_step")] == [1, 2, 3]
            if (idcard, qr) == ("pcsc", "serial"):
                d.screenshot("identify-card-steps-real-devices")
    screen.refresh()
    d.pump(3)
    assert screen.sim_button is not None


def test_the_pictures_are_the_kiosks_own_when_the_province_sets_them(identify, tmp_path):
    app, d, screen = identify
    Image.new("RGB", (400, 300), (10, 120, 40)).save(tmp_path / "card-reader.png")
    saved = dict(app.cfg["kiosk"])
    app.cfg["kiosk"].update(device_pictures=str(tmp_path), reader_place="bên trái, cạnh máy in")
    try:
        screen.refresh()
        d.pump(3)
        qr_step, card_step, _ = _widgets(screen, "identify_step")
        assert Path(card_step.picture.source) == tmp_path / "card-reader.png"
        assert Path(qr_step.picture.source) == SHIPPED / "card-qr.png"      # missing: the shipped drawing
        assert "bên trái, cạnh máy in" in card_step.words.text
    finally:
        app.cfg["kiosk"].clear()
        app.cfg["kiosk"].update(saved)


def test_the_six_digits_view_has_one_filled_action_and_back_returns_to_the_steps(identify):
    app, d, screen = identify
    d.tap("Nhập 6 số cuối số định danh")
    assert screen.mode == "can"
    assert [Path(p.source).name for p in _widgets(screen, "device_picture")] == ["card-reader.png"]
    assert [b.text for b in _buttons(screen) if b.kind == "primary"] == ["Đọc thẻ"]
    d.screenshot("identify-six-digits")
    d.tap("Quay lại")
    assert screen.mode == "card" and app.sm.current == "step-identify"


def test_without_a_chip_card_the_vneid_qr_comes_before_typing(identify):
    from devices.qr.scanner import SIM_CITIZEN_QR

    app, d, screen = identify
    d.tap("Không có thẻ căn cước gắn chip?")
    assert screen.mode == "nochip"
    vneid, typing = _widgets(screen, "identify_step")
    assert (vneid.number, typing.number) == (1, 2)
    assert "VNeID" in vneid.words.text and Path(vneid.picture.source).name == "phone-qr.png"
    assert "nhập" in typing.words.text.lower() and typing.picture is None
    assert [b for b in _buttons(screen) if b.kind == "primary"] == []
    d.screenshot("identify-no-chip-card")

    # a QR that is not an ID's: said plainly, nothing taken
    app.services.scanner.inject(b"https://example.com/not-an-id")
    d.wait_for(lambda: d.has_text("Máy không dùng được mã QR này"), 5, "the unusable-QR message")
    assert not app.session.applicant

    # the e-ID's QR (the card's layout): the applicant from the QR, marked unverified
    app.services.scanner.inject(SIM_CITIZEN_QR.encode("utf-8"))
    d.wait_for(lambda: bool(app.session.applicant), 5, "the applicant from the QR")
    assert app.session.applicant_source == "qr" and app.session.card is None
    assert app.session.engine.applicant["source"] == "qr"
    assert app.session.engine.applicant["id_number"] == "001185012345"
    assert app.session.engine.applicant["authentication"] == {"access_control": "none", "checks": {}}
    assert screen.mode == "done" and d.has_text("Cán bộ sẽ đối chiếu")
    d.screenshot("identify-from-vneid-qr")


def test_typing_is_the_last_way_and_back_walks_back_through_the_choices(identify):
    app, d, screen = identify
    d.tap("Không có thẻ căn cước gắn chip?")
    d.tap("Nhập thông tin bằng tay")
    assert screen.mode == "manual"
    assert [b.text for b in _buttons(screen) if b.kind == "primary"] == [d.find_button("Tiếp tục").text]
    d.tap("Quay lại")
    assert screen.mode == "nochip"
    d.tap("Quay lại")
    assert screen.mode == "card"
    d.tap("Quay lại")
    d.wait_for(lambda: app.sm.current != "step-identify", 5, "the previous step")


def test_laying_a_card_in_the_no_chip_view_goes_back_to_the_card_steps(identify):
    app, d, screen = identify
    d.tap("Không có thẻ căn cước gắn chip?")
    screen.on_card(True)
    d.pump(3)
    assert screen.mode == "card" and d.has_text("Đã thấy thẻ trên đầu đọc")


def test_english_and_large_text_keep_the_steps(identify):
    app, d, screen = identify
    app.toggle_language()
    d.pump(3)
    assert [s.number for s in _widgets(screen, "identify_step")] == [1, 2, 3]
    assert d.has_text("on the left, below the screen") and d.has_text("No chip ID card?")
    d.screenshot("identify-card-steps-en")
    app.toggle_language()
    app.toggle_large_text()
    d.pump(5)
    assert [s.number for s in _widgets(screen, "identify_step")] == [1, 2, 3]
    d.screenshot("identify-card-steps-large")
    app.toggle_large_text()
    app.toggle_contrast()   # the drawings carry their own white ground: the same on the black theme
    d.pump(3)
    assert all(p.texture is not None for p in _widgets(screen, "device_picture"))
    d.screenshot("identify-card-steps-high-contrast")


def test_the_simulated_citizen_still_identifies(identify):
    """What the demo's scripted citizen does (kiosk/ui/steps/identify.py, hands=None)."""
    app, d, screen = identify
    d.tap(screen.sim_button.text, exact=True)
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    assert app.session.applicant_source == "chip"


def test_a_card_read_for_one_procedure_serves_the_next_one_chosen(identify):
    """Issue #18 (bug): the card read in khai sinh, the citizen goes back to the list and picks
    chứng thực bản sao: its identify step shows the card as read, and "Tiếp tục" goes on (the new
    procedure's engine is given the same applicant and how it was authenticated)."""
    app, d, screen = identify
    d.tap(screen.sim_button.text, exact=True)
    d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
    first = dict(app.session.engine.applicant)
    assert first["authentication"]["access_control"]
    d.tap("Quay lại")                                    # the identify step's back: the guide
    d.wait_for(lambda: app.sm.current != "step-identify", 5, "the guide")
    d.tap("Quay lại")                                    # the guide's back: the list of procedures
    d.wait_screen("picker")
    flow = app.services.registry.get("chung-thuc-ban-sao")
    d.tap(flow.name["vi"], exact=True)
    d.wait_for(lambda: app.session.flow is flow and app.sm.current.startswith("step-"), 10, "the procedure's first step")
    if app.sm.current != "step-identify":               # its guide first
        d.tap("Tiếp tục")
        d.wait_screen("step-identify")
    d.pump(3)
    screen = app.sm.current_screen
    assert screen.mode == "done" and d.has_text("Đã đọc thẻ của")
    engine = app.session.engine
    assert engine.applicant is not None and engine.applicant["id_number"] == first["id_number"]
    assert engine.applicant["source"] == "chip" and engine.applicant["authentication"] == first["authentication"]
    d.tap("Tiếp tục")
    d.wait_for(lambda: app.sm.current != "step-identify", 5, "the step after identify")
    assert engine.step.id != "xac-thuc"
    d.screenshot("identify-second-procedure-continues")
