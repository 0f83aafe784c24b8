"""Issue 18, speech and keypad: the real app (offscreen, simulated devices, the real central system)
walked with keys only, in the speech mode, as a citizen who cannot see the screen would.

Everything espeak-ng is asked to say is recorded (``speech.speak`` wrapped, the real one still
renders), so the privacy rules are checked on what actually went to the voice, not on what the
app meant to say. Screenshots with the focus ring: out/test-screens/keypad/.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "out" / "test-screens" / "keypad"
SIM_NAME = "Trần Thị Ngọc Ánh"
SIM_ID = "001185012345"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    from kiosk.ui.display import prepare_kivy_env

    prepare_kivy_env(tmp_path_factory.mktemp("kivy"), want_xvfb=False)
    from kiosk.tools.demo import demo_config, running_app

    cfg = demo_config(tmp_path_factory.mktemp("kiosk"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_app(cfg) as app:
        yield app, cfg


@pytest.fixture
def heard(monkeypatch):
    """(text, cache) of everything handed to espeak-ng."""
    from kiosk.ui import speech

    calls: list[tuple[str, bool]] = []
    real = speech.speak

    def speak(text, *a, **kw):
        calls.append((text, kw.get("cache", True)))
        return real(text, *a, **kw)

    monkeypatch.setattr(speech, "speak", speak)
    return calls


@pytest.fixture
def at_home(kiosk):
    from kiosk.tools.touch_robot import KeypadDriver
    from testkit.kiosk_app import back_home

    app, cfg = kiosk
    d = KeypadDriver(app, SHOTS)
    # always a new visit: a test that ended on home with speech on would leave it on, and the
    # next one's "*" would switch it off instead of on
    back_home(app, d)
    return app, d, cfg


def central_rows(cfg) -> list[dict]:
    with sqlite3.connect(cfg["central"]["database"]) as con:
        cols = [r[1] for r in con.execute("pragma table_info(dossiers)")]
        return [dict(zip(cols, r)) for r in con.execute("select * from dossiers").fetchall()]


def _personal_leaks(text: str) -> list[str]:
    out = []
    folded = text.casefold()
    for value in (SIM_NAME, "Ngọc Ánh", "Đội Cấn", "12/05/1985", "1985-05-12"):
        if value.casefold() in folded:
            out.append(value)
    digits = re.sub(r"\D", "", text)
    if SIM_ID in digits or SIM_ID[-5:] in digits:
        out.append("ID number")
    return out


@pytest.mark.parametrize("flow_id", ["khai-sinh", "chung-thuc-ban-sao"])
def test_a_citizen_files_with_keys_only_and_hears_every_screen(at_home, heard, flow_id):
    from kiosk.tools.journeys import titles_said, walk_procedure_by_keys

    from kiosk.ui.i18n import tr

    app, _, cfg = at_home
    summary, receipt = {}, {}

    def observe(name, d):  # what the submit screen sums up and what the receipt prints
        engine = app.session.engine
        if engine is not None and not engine.done and engine.step.kind == "submit":
            summary.update(dict(app.sm.current_screen.summary()))
        if name == "step-receipt" and app.session.outcome is not None:
            receipt.update(app.session.outcome.receipt or {})

    res = walk_procedure_by_keys(app, flow_id, shots_dir=SHOTS / flow_id, observe=observe)
    # filed: the central system has it, once, with the chip's applicant
    rows = [r for r in central_rows(cfg) if r["dossier_code"] == res.code]
    assert len(rows) == 1 and not res.provisional
    assert json.loads(rows[0]["body"])["flow"]["id"] == flow_id
    # not one touch after home; keys did everything
    assert res.touches == 0 and res.keypad_only
    assert res.screens[-2:] == ["rating", "goodbye"]
    # every screen and step the citizen arrived at had its title said while it was shown
    assert len(res.arrivals) >= 8, res.arrivals
    unsaid = [(s, t) for s, t in res.arrivals if t and not titles_said(res.spoken, s, t)]
    assert not unsaid, unsaid
    assert res.screens_spoken == sum(1 for _, t in res.arrivals if t)
    # nothing personal went to the voice (nobody pressed "hear the value"), cached or not
    leaks = [(t, _personal_leaks(t)) for t, _ in heard if _personal_leaks(t)]
    assert not leaks, leaks
    assert all(cache for _, cache in heard)
    d = SHOTS / flow_id
    assert len(list(d.glob("*.png"))) >= 8
    # the papers, counted by the photos taken (chứng thực: the photo of the original is optional and
    # the scripted citizen skips it) and the originals to show at the counter, on screen and on paper
    papers, originals = summary[tr("submit.papers", "vi")], summary.get(tr("submit.originals", "vi"), "")
    if flow_id == "chung-thuc-ban-sao":
        assert papers == tr("submit.no_photos", "vi") and originals == "Giấy tờ cần sao"
        assert receipt["documents"] == ["Giấy tờ cần sao (bản chính, đưa cán bộ xem tại quầy)"]
    else:
        assert papers != tr("submit.no_photos", "vi") and "ảnh)" in papers
        assert receipt["documents"]
    # the focus ring shows on every screenshot of the keys-only walk (taken once the focus settled)
    from kiosk.ui.theme import NORMAL

    missing = [p.name for p in sorted(d.glob("*.png")) if not p.name.startswith("FAILED") and _ring_count(p, NORMAL.focus) < 200]
    assert not missing, missing


def test_hear_value_says_a_typed_id_number_by_its_last_four_digits_only_and_uncached(at_home, heard):
    """Typed entry on the identify step, by keypad: digits go straight into the number field;
    the field is said as "filled", its value only on the "hear the value" key (3), never cached,
    and an ID number only by its last 4 digits."""
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    d.key("numpadmul")
    d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    flow = app.services.registry.get("khai-sinh")
    d.tap(flow.name["vi"])
    while d.screen != "step-identify":
        d.tap(tr("nav.next", "vi"))
    d.tap(tr("identify.no_chip", "vi"))
    if app.sm.current_screen.mode != "manual":  # with a QR scanner: "the VNeID app's QR, or type"
        d.tap(tr("identify.type", "vi"))
    field = app.sm.current_screen.manual["id_number"]
    d.tap_widget(field.box)  # focus + Enter: editing
    assert app.focused_field is field
    for ch in SIM_ID:
        d.key(f"numpad{ch}")
    assert field.text == SIM_ID
    d.key("#")  # done
    assert app.focused_field is None and app.access.focus is field.box
    d.screenshot("manual-id-focused")
    before = len(heard)
    d.key("numpad8")
    d.key("numpad2")  # away and back: the field is described, not read
    d.wait_for(lambda: len(heard) >= before + 2, 10, "the focus said")
    assert any("đã điền" in t for t, _ in heard[before:])
    assert not any(_personal_leaks(t) for t, _ in heard)
    d.key("numpad3")  # nghe giá trị
    d.wait_for(lambda: any(not c for _, c in heard), 10, "the value said")
    private = [t for t, c in heard if not c]
    assert private and "2 3 4 5" in private[-1] and SIM_ID not in re.sub(r"\D", "", private[-1])
    assert SIM_ID[-5:] not in re.sub(r"\D", "", " ".join(t for t, _ in heard))
    assert not any(SIM_ID[-4:] in re.sub(r"\D", "", t) for t in (s for _, s in app.spoken))  # not recorded
    app.end_session()
    d.wait_screen("home")
    assert app.spoken == [] or all(s == "home" for s, _ in app.spoken)


def _ring_pixels(png: Path, rect, colour) -> tuple[int, int]:
    """How many pixels of ``colour`` cross the left edge of ``rect`` horizontally (thickness),
    and how many rows show it."""
    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    h = img.shape[0]
    x, y, w, hh = (int(v) for v in rect)
    want = np.array([round(c * 255) for c in colour[:3]])
    mid = h - (y + hh // 2)  # screenshots are top-down, Kivy's y is bottom-up
    row = img[mid, max(0, x - 4): x + 20]
    match = np.all(np.abs(row - want) <= 12, axis=1)
    return int(match.sum()), int(np.all(np.abs(img[h - y - hh: h - y, x + 1] - want) <= 12, axis=1).sum())


def _ring_count(png: Path, colour) -> int:
    """How many pixels of the focus ring's colour the screenshot shows."""
    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    want = np.array([round(c * 255) for c in colour[:3]])
    return int(np.all(np.abs(img - want) <= 6, axis=2).sum())


def _contrast(a, b) -> float:
    def lum(c):
        ch = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c[:3]]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    la, lb = sorted((lum(a), lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("contrast", [False, True], ids=["normal", "high-contrast"])
def test_the_focus_ring_is_thick_and_stands_out_in_both_themes(at_home, contrast):
    from kiosk.ui.access import window_rect

    app, d, _ = at_home
    if contrast:
        app.toggle_contrast()
    try:
        d.key("down")
        d.settle()
        w = app.access.focus
        assert w is not None
        d.pump(3)
        shot = d.screenshot("focus-ring-" + ("contrast" if contrast else "normal"))
        theme = app.theme
        thick, rows = _ring_pixels(shot, window_rect(w), theme.focus)
        assert thick >= 4, thick
        assert rows >= w.height * 0.5
        assert _contrast(theme.focus, theme.bg) >= 3.0
    finally:
        if contrast:
            app.toggle_contrast()


def test_focus_follows_reading_order_and_scrolls_into_view(at_home):
    from kiosk.ui.access import window_rect
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    d.key("down")
    d.settle()
    ctrls = app.access.controls()
    tops = [(round(window_rect(w)[1] + w.height), window_rect(w)[0]) for w in ctrls]
    # reading order: never a control clearly above the one before it on the same screen
    for (t1, _), (t2, _) in zip(tops, tops[1:]):
        assert t2 <= t1 + 40 or t1 < 0, tops
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    d.settle()
    from kivy.uix.scrollview import ScrollView

    ctrls = app.access.controls()

    def in_scroll(w):
        p = w.parent
        while p is not None and p.parent is not p:
            if isinstance(p, ScrollView):
                return p
            p = p.parent
        return None

    scrolled = [w for w in ctrls if in_scroll(w) is not None]
    assert scrolled, "the picker lists procedures in a scrolling list"
    last = scrolled[-1]
    d.focus_on(last)
    sv = in_scroll(last)
    vx, vy, vw, vh = window_rect(sv)
    x, y, w, h = window_rect(last)
    assert y >= vy - 1 and y + h <= vy + vh + 1, "the focused control is scrolled into view"
    d.screenshot("picker-scrolled-focus")


def test_idle_warning_is_said_focused_and_extends_at_least_ten_times(at_home, heard):
    from kiosk.ui.i18n import tr

    app, d, cfg = at_home
    d.key("numpadmul")  # speech mode: longer timeouts
    d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
    timeout, warning = app.idle_limits()
    k = cfg["kiosk"]
    assert timeout == k["idle_timeout_s"] * cfg["accessibility"]["timeout_multiplier"] > k["idle_timeout_s"]
    assert warning >= 20
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    for i in range(12):
        app.session.last_activity = time.monotonic() - (timeout - warning) - 1
        d.wait_for(lambda: app.idle_modal is not None, 5, "the idle warning")
        d.settle()
        assert app.access.focus is app.idle_modal.stay  # the keypad lands on "I need more time"
        assert d.has_text("Tôi cần thêm thời gian")
        if i == 0:
            d.screenshot("idle-warning")
            d.wait_for(lambda: any(tr("idle.title", "vi") in t for t, _ in heard), 10, "the warning said")
        d.key("enter")
        d.wait_for(lambda: app.idle_modal is None, 5, "the warning to close")
        assert d.screen == "picker"
    assert app.session.idle_extensions == 12
    app.session.last_activity = time.monotonic() - timeout - 1
    d.wait_screen("home", 5)


def test_config_check_refuses_a_warning_shorter_than_20_seconds(tmp_path):
    from kiosk.config import ConfigError, load_config

    p = tmp_path / "k.toml"
    p.write_text("[kiosk]\nidle_warning_s = 15\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="idle_warning_s"):
        load_config(p)
    p.write_text("[accessibility]\nkeys_next = [\"down\"]\nspeech_rate = 300\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="speech_rate"):
        load_config(p)


def test_a_text_field_is_typed_through_the_on_screen_keyboard_by_keypad(at_home, heard):
    """Enter on a text field: the keypad reaches only the field and its keyboard; the arrows walk
    the keys, Enter types the one under the focus (its letter is said), # finishes."""
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    screen = app.sm.current_screen
    d.tap_widget(screen.search.box)
    assert app.focused_field is screen.search
    ctrls = app.access.controls()
    assert ctrls[0] is screen.search.box and len(ctrls) > 30  # the field, then the keyboard's keys
    assert all(w is screen.search.box or "Keyboard" in type(w.parent.parent).__name__
               or "Keyboard" in type(w.parent).__name__ for w in ctrls)
    before = d.touches
    d.type_keys("khai")
    assert d.touches == before == 0
    assert screen.search.text.lower() == "khai"
    assert any(t.lower() == "k" for t, _ in heard)  # the key under the focus was said
    d.key("#")
    assert app.focused_field is None and app.access.focus is screen.search.box
    assert any("khai sinh" in (getattr(w, "text", "") or "").lower() for w in app.access.controls())
    d.screenshot("search-typed-by-keypad")


def test_the_english_screen_is_said_in_english_and_the_speech_mode_stops_with_its_key(at_home, heard):
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    d.key("f2")  # the speech key of a full keyboard
    d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
    app.toggle_language()  # as the toolbar's "English" does
    d.wait_for(lambda: any(tr("access.how_to_move", "en") in t for t, _ in heard), 10, "English speech")
    said = [t for t, _ in heard if tr("access.how_to_move", "en") in t][-1]
    assert tr("home.welcome", "en") in said and "Bấm" not in said
    d.key("numpadmul")
    assert not app.session.speech_mode
    n = len(heard)
    d.key("down")  # the citizen turned it off: moving does not turn it on again
    d.pump(10)
    assert not app.session.speech_mode
    assert all(tr("access.speech_off", "en") in t for t, _ in heard[n:]) or len(heard) == n
    app.toggle_language()


# --- the speech mode's own keys, errors as they appear, notices, starting it (issue 18, Deliver 3) ----------
@pytest.fixture
def voice(monkeypatch):
    """Everything handed to espeak-ng with the pace it was rendered at and the WAV it made, and every
    WAV the app played with the volume it was played at: the speech layer's real rendering, and
    Kivy's sound replaced by one that notes what it was told (the tests have no audio device)."""
    from kivy.core.audio import SoundLoader

    from kiosk.ui import speech

    said: list[dict] = []
    played: list[tuple[str, str, float]] = []  # ("play" / "stop", wav path, volume)
    real = speech.speak

    def speak(text, *a, **kw):
        path = real(text, *a, **kw)
        said.append({"text": text, "rate": kw.get("rate"), "cache": kw.get("cache", True), "wav": str(path)})
        return path

    class Sound:
        def __init__(self, path):
            self.path, self.volume = path, 1.0

        def play(self):
            played.append(("play", self.path, self.volume))

        def stop(self):
            played.append(("stop", self.path, self.volume))

    monkeypatch.setattr(speech, "speak", speak)
    monkeypatch.setattr(SoundLoader, "load", lambda path: Sound(path))
    return said, played


def _quiet(d, said, frames: int = 20) -> None:
    """Wait until nothing new has been rendered for a few frames (the kiosk said what it had to)."""
    n = -1
    while n != len(said):
        n = len(said)
        d.pump(frames)
        time.sleep(0.1)


def _speech_on(d, app, said) -> None:
    d.key("numpadmul")
    d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
    d.wait_for(lambda: said, 10, "the screen said")
    _quiet(d, said)


def test_an_error_is_said_as_it_appears_a_lookup_code_not_found(at_home, voice):
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    said, _played = voice
    _speech_on(d, app, said)
    d.tap(tr("home.lookup", "vi"))
    d.wait_screen("lookup")
    d.settle()
    _quiet(d, said)
    n = len(said)
    d.tap(tr("lookup.button", "vi"), exact=True)  # nothing typed: "not found", in red under the form
    want = f'{tr("access.errors", "vi")} {tr("lookup.not_found", "vi").rstrip(".")}'
    d.wait_for(lambda: any(want in s["text"] for s in said[n:]), 10, "the error said")
    assert d.screen == "lookup"


def test_a_form_fields_error_is_said_as_it_appears(at_home, voice):
    """Chứng thực bản sao by keys: on "Giấy tờ cần sao" the citizen presses Tiếp tục before choosing
    the paper; the field's error appears under it and is said at once, as an error."""
    from kiosk.tools.journeys import walk_procedure_by_keys
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    said, _played = voice
    heard_error: list[str] = []

    class Seen(Exception):
        pass

    def observe(name, drv):
        step = app.session.engine.step if app.session.engine else None
        if step is None or step.id != "giay-to-can-sao":
            return
        drv.settle()
        _quiet(drv, said)
        n = len(said)
        drv.tap(tr("nav.next", "vi"), exact=True)
        drv.wait_for(lambda: app.sm.current_screen.errors, 5, "the field's error")
        message = app.sm.current_screen.errors["document_type"]
        want = f'{tr("access.errors", "vi")} {message.rstrip(".")}'
        drv.wait_for(lambda: any(want in s["text"] for s in said[n:]), 10, "the error said")
        heard_error.append(want)
        raise Seen  # enough of this visit

    with pytest.raises(Seen):
        walk_procedure_by_keys(app, "chung-thuc-ban-sao", observe=observe, shoot=False)
    assert heard_error


def test_the_card_reminder_is_said_as_a_reminder_not_as_an_error(at_home, voice):
    """"Xin nhớ lấy lại thẻ…" is red like an error, but it is a reminder: said as it is, never
    after "Có lỗi:" (kiosk/ui/widgets/text_role.py), when the screen is read and when it appears."""
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    said, _played = voice
    reminder = tr("card.take_back", "vi").rstrip(".")
    error_word = tr("access.errors", "vi")
    app.card_left_behind = True  # what the reader's events leave when a visit ends with the card on it
    try:
        app.sm.current_screen.refresh()
        d.pump(3)
        assert d.has_text(reminder)
        _speech_on(d, app, said)
        on_arrival = [s["text"] for s in said if reminder in s["text"]]
        assert on_arrival and not any(error_word in t for t in on_arrival), on_arrival
        # appearing while the speech mode is on: said by itself, as it is
        app.card_left_behind = False
        app.sm.current_screen.refresh()
        _quiet(d, said)
        n = len(said)
        app.card_left_behind = True
        app.sm.current_screen.refresh()
        d.wait_for(lambda: any(reminder in s["text"] for s in said[n:]), 10, "the reminder said")
        new = [s["text"] for s in said[n:] if reminder in s["text"]]
        assert not any(error_word in t for t in new), new
    finally:
        app.card_left_behind = False
        app.sm.current_screen.refresh()


def test_the_repeat_key_says_the_last_thing_again(at_home, voice):
    app, d, _ = at_home
    said, _played = voice
    _speech_on(d, app, said)
    d.key("numpad8")  # the next control: its name is the last thing said
    d.wait_for(lambda: said, 10)
    _quiet(d, said)
    last = said[-1]["text"]
    n = len(said)
    d.key("numpad1")
    d.wait_for(lambda: len(said) > n, 10, "the repeat")
    assert [s["text"] for s in said[n:]] == [last]


def test_the_stop_key_silences_what_is_being_said(at_home, voice):
    app, d, _ = at_home
    said, played = voice
    _speech_on(d, app, said)
    n, p = len(said), len(played)
    d.key("numpad1")  # the whole screen again
    d.wait_for(lambda: len(said) > n, 10, "the repeat rendered")
    wav = said[-1]["wav"]
    d.wait_for(lambda: ("play", wav) in [(k, w) for k, w, _ in played[p:]], 10, "the repeat playing")
    q = len(played)
    d.key("#")
    assert ("stop", wav) in [(k, w) for k, w, _ in played[q:]], played[q:]
    assert app.session.speech_mode  # stopped speaking, not the speech mode
    d.pump(10)
    assert not [x for x in played[q:] if x[0] == "play"]


def test_slower_and_faster_change_the_pace_of_what_follows(at_home, voice):
    from kiosk.ui.i18n import tr

    app, d, cfg = at_home
    said, _played = voice
    acc = cfg["accessibility"]
    base, step = acc["speech_rate"], acc["speech_rate_step"]
    _speech_on(d, app, said)
    assert said[-1]["rate"] == base
    n = len(said)
    d.key("numpad7")  # slower
    d.wait_for(lambda: any(s["text"] == tr("access.slower", "vi") for s in said[n:]), 10, "'slower' said")
    assert [s["rate"] for s in said[n:] if s["text"] == tr("access.slower", "vi")] == [base - step]
    n = len(said)
    d.key("numpad8")  # what follows keeps the new pace
    d.wait_for(lambda: len(said) > n, 10)
    assert {s["rate"] for s in said[n:]} == {base - step}
    n = len(said)
    d.key("numpad9")
    d.key("numpad9")  # faster, twice
    d.wait_for(lambda: sum(s["text"] == tr("access.faster", "vi") for s in said[n:]) == 2, 10, "'faster' said")
    assert said[-1]["rate"] == base + step
    assert app.session.speech_rate == base + step
    for _ in range(20):  # never past the configured bounds
        d.key("numpad9", frames=1)
    _quiet(d, said)
    assert app.session.speech_rate == acc["speech_rate_max"] and said[-1]["rate"] == acc["speech_rate_max"]


def test_the_volume_keys_change_the_level_the_speech_is_played_at(at_home, voice):
    from kiosk.ui.i18n import tr

    app, d, cfg = at_home
    said, played = voice
    acc = cfg["accessibility"]
    start, step = acc["speech_volume"], acc["volume_step"]
    _speech_on(d, app, said)

    def played_at(text):
        wavs = {s["wav"] for s in said if s["text"] == text}
        return [v for k, w, v in played if k == "play" and w in wavs]

    assert played_at(said[-1]["text"])[-1] == pytest.approx(start)
    lower = round(start - step, 2)
    d.key("numpad4")
    told = tr("access.volume", "vi", n=int(round(lower * 100)))
    d.wait_for(lambda: played_at(told), 10, "the new level said")
    assert played_at(told)[-1] == pytest.approx(lower)
    assert app.session.speech_volume == pytest.approx(lower)
    d.key("numpad6")
    d.key("numpad6")
    higher = round(start + step, 2)
    told = tr("access.volume", "vi", n=int(round(higher * 100)))
    d.wait_for(lambda: played_at(told), 10, "the higher level said")
    assert played_at(told)[-1] == pytest.approx(higher)


def test_holding_doc_to_for_1_5_s_starts_the_speech_mode_and_a_tap_reads_once(at_home, voice):
    from kivy.tests.common import UnitTestTouch

    from kiosk.ui.i18n import tr
    from kiosk.ui.screens.base import HOLD_S

    from kiosk.tools.touch_robot import Driver

    app, d, _ = at_home
    said, _played = voice
    Driver(app).tap(tr("home.procedure", "vi"))  # by touch: any screen, not only home
    d.wait_screen("picker")
    assert not app.session.speech_mode
    button = d.find_button(tr("nav.listen", "vi"), exact=True)
    assert getattr(button, "kiosk_role", None) == "speech_key"
    x, y = button.to_window(*button.center)
    # a tap: this screen read once, the speech mode stays off
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    d.pump(2)
    touch.touch_up()
    d.wait_for(lambda: any(tr("picker.title", "vi") in s["text"] for s in said), 10, "the screen read")
    assert not app.session.speech_mode
    assert not any(tr("access.speech_on", "vi") in s["text"] for s in said)
    # held: the speech mode starts after HOLD_S, while the finger is still on the button
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    end = time.monotonic() + HOLD_S - 0.4
    while time.monotonic() < end:
        d.pump(1)
        time.sleep(0.02)
    assert not app.session.speech_mode  # not before 1.5 s
    d.wait_for(lambda: app.session.speech_mode, 3, "the speech mode")
    touch.touch_up()
    d.pump(3)
    assert app.session.speech_mode  # letting go does not read the screen or stop it
    d.wait_for(lambda: any(tr("access.speech_on", "vi") in s["text"] for s in said), 10, "'speech on' said")
    n = len(said)
    d.key("numpad8")  # from here on every focus is said
    d.wait_for(lambda: len(said) > n, 10, "the focused control said")


def test_the_first_key_of_a_visit_found_by_the_dot_on_5_starts_the_speech_mode(at_home, voice):
    """docs/touchscreen.md: a citizen finds the raised dot on 5 and presses it; the first navigation
    key of a visit turns the speech mode on and places the focus, without pressing anything."""
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    said, _played = voice
    assert not app.session.speech_mode
    d.key("numpad5")
    d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
    d.pump(5)
    assert d.screen == "home" and app.access.focus is not None
    d.wait_for(lambda: any(tr("access.speech_on", "vi") in s["text"] for s in said), 10, "'speech on' said")
    d.key("numpadmul")  # * (below 7, left of 0) turns it off again
    assert not app.session.speech_mode


def test_the_idle_countdown_starts_at_the_whole_warning(at_home):
    """~20 s left shows 20, not 19: the seconds are rounded up."""
    from kiosk.ui.i18n import tr

    app, d, _ = at_home
    d.tap(tr("home.procedure", "vi"))
    d.wait_screen("picker")
    timeout, warning = app.idle_limits()
    app.session.last_activity = time.monotonic() - (timeout - warning) - 0.05
    app._idle_tick(0)  # the app's 1 s tick, at this moment
    d.pump(3)
    assert app.idle_modal is not None
    assert app.idle_modal.countdown.text == tr("idle.text", "vi", n=int(warning))
    d.key("enter")
    d.wait_for(lambda: app.idle_modal is None, 5, "the warning to close")
