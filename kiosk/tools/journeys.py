"""Scripted citizen journeys over the real app (demo and tests): touches and keys, nothing injected
behind the screens' backs except what a simulated device would see (the sample card's QR).

``walk_procedure`` answers each step the way a citizen would: the chip fills what it can, choices
take the first sensible option, and free text comes from ``TYPED`` (Telex keystrokes) so the
touch/keystroke counters measure the real effort of a procedure. What the citizen does on each
step's screen is the step kind's ``citizen`` handler (kiosk/ui/steps/<kind>.py); this module
walks from home to the first step and gives the handlers a :class:`Citizen` to act through.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.tools.touch_robot import Driver

# Telex keystrokes a citizen would type for fields the card cannot fill (by field id);
# any other required text field gets a generic answer.
TYPED = {
    "child_full_name": "Traanf Minh Khoi",
    "child_given_name": "Minh Khooi",
    "child_given_names": "Minh Khooi",
    "child_name": "Traanf Minh Khoi",
    "document_title": "Bawngf toots nghieepj",
}
# Recent dates, as days before the kiosk's "today" (common.clock): tapped on the calendar,
# a month back where needed, so the scripted citizen files on any day of any month.
RECENT_DAYS_AGO = {"child_birth_date": 10, "death_date": 5}
GENERIC_TEXT = "Khoong cos"
GENERIC_NUMBER = "2"
GENERIC_PHONE = "0912345678"


@dataclass
class JourneyResult:
    flow_id: str
    screens: list[str] = field(default_factory=list)
    touches: int = 0
    typed: int = 0
    typed_after_chip: int = 0
    code: str = ""
    provisional: bool = False
    receipt_png: str | None = None
    # the keypad walk (walk_procedure_by_keys) and the demo's SUMMARY.json
    keypad_only: bool = False
    arrivals: list[tuple[str, str]] = field(default_factory=list)  # (screen, title) as the citizen met them
    spoken: list[tuple[str, str]] = field(default_factory=list)    # (screen, public text) the kiosk said
    screens_spoken: int = 0       # arrivals whose title the kiosk said
    appointment_on_review: str = ""   # ISO date the review screen showed
    appointment_on_receipt: str = ""  # ISO date of the receipt
    face_match: str = ""              # the face_check step's outcome (kiosk/ui/steps/face_check.py); "" without one


def walk_procedure(d: Driver, flow_id: str, shoot: bool = True, finish: bool = True,
                   observe=None, hands=None) -> JourneyResult:
    """``observe(screen_name, driver)``, if given, is called on each step screen before the citizen
    acts on it (tests read what the screen shows, or move the clock, there).

    ``hands`` is what the citizen does with real devices, which no touch can do: an object with
    ``present_card(citizen)`` (the card's QR to the scanner or camera, the card on the reader).
    Without it the citizen uses the simulated scanner's button."""
    try:
        return _walk(d, flow_id, shoot, finish, observe, hands)
    except Exception:
        if d.shots_dir is not None:
            d.screenshot(f"FAILED-{flow_id}")  # what the citizen would have seen
        raise


class Citizen:
    """The scripted citizen on one visit, as a step kind's ``citizen`` handler sees it
    (kiosk/ui/steps/<kind>.py): the driver, the app, the result so far, and the skills a handler
    needs beyond tapping (answering a form, photographing papers)."""

    def __init__(self, d: Driver, res: JourneyResult, shoot: bool, finish: bool, hands=None):
        self.d, self.app, self.res, self.shoot, self.finish = d, d.app, res, shoot, finish
        self.hands = hands
        self.chip_typed_mark: int | None = None

    @property
    def engine(self):
        return self.app.session.engine

    def tap(self, key: str, **kw) -> None:
        """Tap the button that shows the i18n text ``key`` in the session's language."""
        self.d.tap(_t(self.app, key), **kw)

    def shot(self, name: str) -> None:
        _shot(self.d, self.res, name, self.shoot)

    def chip_read(self) -> None:
        """The chip has filled what it can: keystrokes from here on count as typed after it."""
        self.chip_typed_mark = self.d.typed

    def fill_form(self) -> None:
        _fill_form(self.d, self.app)

    def capture_documents(self, label: str) -> None:
        _capture_documents(self.d, self.app, self.res, label, self.shoot)


def _walk(d: Driver, flow_id: str, shoot: bool, finish: bool, observe, hands) -> JourneyResult:
    from kiosk.ui.steps import by_screen

    app = d.app
    res = JourneyResult(flow_id)
    t0, k0 = d.touches, d.typed
    d.wait_screen("home")
    _shot(d, res, "home", shoot)
    d.tap(_t(app, "home.procedure"))
    d.wait_screen("picker")
    _shot(d, res, "picker", shoot)
    flow = app.services.registry.get(flow_id)
    d.tap(flow.name[app.lang])
    citizen = Citizen(d, res, shoot, finish, hands)
    for _ in range(40):
        d.pump(2)
        name = d.screen
        step = app.session.engine.step if app.session.engine else None
        label = f"{flow_id}-{step.id}" if step else name
        if observe is not None:
            observe(name, d)
        kind = by_screen(name)  # what to do on a step's screen is its kind's (kiosk/ui/steps)
        if kind is None:
            raise AssertionError(f"unexpected screen {name}")
        if kind.citizen(citizen, label):
            break
    res.touches = d.touches - t0
    res.typed = d.typed - k0
    res.typed_after_chip = d.typed - (citizen.chip_typed_mark if citizen.chip_typed_mark is not None else k0)
    return res


def _fold(text: str) -> str:
    from flows.text import fold

    return fold(text)


def _t(app, key):
    from kiosk.ui.i18n import tr

    return tr(key, app.lang)


def _shot(d: Driver, res: JourneyResult, name: str, shoot: bool):
    res.screens.append(name)
    if shoot and d.shots_dir is not None:
        settle = getattr(d, "settle", None)  # the keypad driver: the focus placed (and its ring drawn) first
        if settle is not None:
            settle()
        d.screenshot(name)


def _fill_form(d: Driver, app) -> None:
    """Answer what the step still needs, through the screen: the scripted answers above where a
    field has one, else a value the flow's own rules accept (flows.sample, tried on a copy of the
    engine), typed, tapped or picked exactly as a citizen would."""
    engine = app.session.engine
    for _ in range(20):  # answering one field may reveal another (visible_if)
        pending = [f for f in engine.visible_fields() if f.required and engine.answers.get(f.id) in (None, "", [])]
        if not pending:  # answered, but a rule refuses the value (range, cross-field)
            pending = [engine.flow.fields[fid] for fid in engine.errors() if fid in engine.flow.fields]
        if not pending:
            return
        _enter(d, app, pending[0])
    raise AssertionError(f"could not fill the form step {engine.step.id}: {engine.errors()}")


def _valid_value(engine, field):
    import copy

    from flows.sample import candidates

    probe = copy.deepcopy(engine)
    for value in candidates(field, probe):
        probe.set(field.id, value)
        if field.id not in probe.errors():
            return value
    raise AssertionError(f"no valid value found for {field.id}: {probe.errors().get(field.id)}")


def _enter(d: Driver, app, f) -> None:
    import datetime as dt

    engine = app.session.engine
    screen = app.sm.current_screen
    if f.id in ADDRESSES or (f.type == "address" and f.id not in engine.answers):
        _fill_address(d, app, f)
        return
    if f.type == "date" and f.id in RECENT_DAYS_AGO:
        # a recent date: the calendar, a few touches instead of 8 digits
        _calendar(d, app, screen, f, engine.today - dt.timedelta(days=RECENT_DAYS_AGO[f.id]))
        return
    refused = f.id in engine.errors() and engine.answers.get(f.id) not in (None, "", [])
    value = _valid_value(engine, f) if refused else (TYPED.get(f.id) or _valid_value(engine, f))
    if f.type in ("choice", "multi_choice"):
        wanted = value[0] if isinstance(value, list) else value
        d.tap(f.option(wanted).label[app.lang], exact=True)
        return
    if f.type == "number" and f.presets and not refused and value in f.presets:
        # a common number is one big button (within this field: another field has its own "1")
        _tap_in(d, screen.widgets[f.id], str(value))
        return
    if f.type == "number" and f.presets and f.id not in getattr(screen, "other_open", ()):
        _tap_in(d, screen.widgets[f.id], _t(app, "form.other"))  # "Số khác…" opens the keypad
    if f.type == "phone" and not refused:
        offer = _button_in(screen.widgets[f.id].parent, _t(app, "form.use_phone").split("{")[0])
        if offer is not None:  # the visit already has a phone: one tap, nothing typed
            d.tap_widget(offer)
            return
    if f.type == "yes_no":
        d.tap(_t(app, "form.yes" if value else "form.no"), exact=True)
        return
    if f.type == "address":
        _fill_address(d, app, f, value)
        return
    if f.type == "date":
        day = dt.date.fromisoformat(value)
        if day.replace(day=1) == engine.today.replace(day=1) and day <= engine.today:
            _calendar(d, app, screen, f, day)
            return
        value = day.strftime("%d%m%Y")
    w = screen.widgets[f.id]
    for _ in range(3):
        d.tap_widget(w.box)
        if app.focused_field is w:
            break
        d.pump(5)
    else:
        raise AssertionError(f"field {f.id} did not take the focus")
    for _ in range(len(w.text)):  # a wrong value is corrected by deleting it first
        d.press_key("⌫")
    keys = str(value)
    if f.type == "text" and (refused or f.id not in TYPED):
        keys = to_telex(keys)
    d.type_keys(keys)
    d.tap(_t(app, "kb.done"), exact=True)


def _calendar(d: Driver, app, screen, f, day) -> None:
    """Open the field's calendar, page back (◀) to ``day``'s month, tap the day."""
    from kivy.core.window import Window

    from kiosk.ui.widgets.calendar import CalendarPicker

    holder = screen.widgets[f.id].parent
    button = next(b for b in holder.children if getattr(b, "text", "").startswith("▦"))
    d.tap_widget(button)
    d.wait_for(lambda: any(isinstance(w, CalendarPicker) for w in Window.children), 5, "the calendar")
    picker = next(w for w in Window.children if isinstance(w, CalendarPicker))
    for _ in range(24):
        if (picker.month.year, picker.month.month) == (day.year, day.month):
            break
        d.tap("◀" if (picker.month.year, picker.month.month) > (day.year, day.month) else "▶", exact=True)
    else:
        raise AssertionError(f"the calendar did not reach {day:%m/%Y}")
    d.tap(str(day.day), exact=True)


_TONE_KEYS = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}


def to_telex(text: str) -> str:
    """The Telex keystrokes that type ``text`` ("Hộ kinh doanh Ánh" → "Hooj kinh doanh Anhs")."""
    import re
    import unicodedata

    out = []
    for word in re.split(r"(\s+)", text):
        if not word or word.isspace():
            out.append(word)
            continue
        keys, tone = "", ""
        for ch in word:
            if ch in "đĐ":
                keys += "dd" if ch == "đ" else "Dd"
                continue
            base, *marks = unicodedata.normalize("NFD", ch)
            keys += base
            for m in marks:
                if m in _TONE_KEYS:
                    tone = _TONE_KEYS[m]
                elif m == "\u0302":
                    keys += base.lower()
                elif m in ("\u0306", "\u031b"):
                    keys += "w"
        out.append(keys + tone)
    return "".join(out)


# (commune, street as on the commune's list or None to type it, house number or the typed street)
ADDRESSES = {"temporary_address": ("Phường Ba Đình", "Phố Quán Thánh", "5")}


def _fill_address(d: Driver, app, f, value: dict | None = None) -> None:
    """On the picker, as a citizen: the kiosk's province is already chosen; the commune is tapped
    (the kiosk's own comes first) or searched, typing only until it shows; the street is picked
    from the commune's list the same way and the house number typed on the keypad, or, where the
    commune has no list, the street typed once."""
    from kivy.core.window import Window

    from flows import units
    from kiosk.ui.widgets.address import AddressPicker

    if f.id in ADDRESSES and not value:
        commune, street, house = ADDRESSES[f.id]
        province = app.cfg["kiosk"]["province_code"]
    else:
        value = value or {"province_code": app.cfg["kiosk"]["province_code"], "commune_code": app.cfg["kiosk"]["commune_code"]}
        province, commune = value["province_code"], units.commune(value["commune_code"]).name
        listed = units.streets(value["commune_code"])
        street, house = (listed[0], "1") if listed else (None, to_telex(value.get("street") or "Số 1"))
    d.tap_widget(app.sm.current_screen.widgets[f.id].change)
    d.wait_for(lambda: any(isinstance(w, AddressPicker) for w in Window.children), 5, "the address picker")
    picker = next(w for w in Window.children if isinstance(w, AddressPicker))
    if picker.value.get("province_code") != province:
        d.tap("Đổi tỉnh" if app.lang == "vi" else "Another province")
        _pick(d, picker, units.province(province).name)
    _pick(d, picker, commune)
    if picker.stage == "street" and street is not None:
        _pick(d, picker, street)
        d.type_keys(house)  # the house number on its keypad
        d.tap(_t(app, "kb.done") + " ▶", exact=True)
        return
    if picker.stage == "street":  # not on the commune's list: type it
        d.tap("Đường khác" if app.lang == "vi" else "Another street")
    d.wait_for(lambda: _has_button(d, _t(app, "kb.done")), 5, "the street keyboard")
    d.type_keys(house)
    d.tap(_t(app, "kb.done"), exact=True)


def _pick(d: Driver, picker, name: str) -> None:
    """Tap ``name`` on the picker's list once it shows without scrolling; until then type the next
    letter of it in the search box (accents optional), as a citizen would: the typing counts."""
    import re

    from flows.text import fold

    # what a citizen types: the name without its kind ("Phường", "Phố"), unaccented
    query = fold(re.sub(r"^(Phường|Xã|Đặc khu|Thành phố|Tỉnh|Phố|Đường)\s+", "", name))
    for typed in range(len(query) + 1):
        d.pump(2)
        button = next((b for b in _buttons(picker.list) if b.text == name), None)
        if button is not None and _visible_in(button, picker.list_view):
            d.tap_widget(button)
            return
        if typed == len(query):
            break
        if typed == 0:
            d.tap_widget(picker.search.box)
        ch = query[typed]
        # the keyboard starts a word in capitals (after a space too): type what its keys show
        d.type_keys(ch.upper() if typed == 0 or query[typed - 1] == " " else ch)
    raise AssertionError(f"{name!r} never showed on the picker's list")


def _buttons(widget):
    from kivy.uix.button import Button

    stack = [widget]
    while stack:
        w = stack.pop()
        if isinstance(w, Button):
            yield w
        stack.extend(w.children)


def _visible_in(widget, view) -> bool:
    """Inside the scroll view's window, whole: what a citizen sees without scrolling."""
    _, vy = view.to_window(view.x, view.y)
    _, wy = widget.to_window(widget.x, widget.y)
    return vy - 1 <= wy and wy + widget.height <= vy + view.height + 1


def _button_in(container, prefix: str):
    return next((b for b in _buttons(container) if b.text.startswith(prefix)), None) if container is not None else None


def _tap_in(d: Driver, container, text: str) -> None:
    button = next((b for b in _buttons(container) if b.text == text), None)
    if button is None:
        raise AssertionError(f"no button {text!r} in the field")
    d.tap_widget(button)


def _capture_documents(d: Driver, app, res, label, shoot) -> None:
    engine = app.session.engine
    _shot(d, res, label, shoot)
    for doc, required in engine.step_documents():
        if not required or doc.id in app.session.attachments:
            continue
        d.tap_widget(app.sm.current_screen.capture_buttons[doc.id])
        d.wait_for(lambda: d.has_text(doc.name[app.lang]), 10, "the camera view")
        d.wait_for(lambda: getattr(app.sm.current_screen, "preview", None) is not None
                   and app.sm.current_screen.preview.texture is not None, 20, "the live preview")
        camera = app.services.camera
        if hasattr(camera, "place_page"):  # the simulated desk: lay this very paper under the lens
            camera.place_page(doc.name["vi"])
            d.pump(5)
        _shot(d, res, label + "-camera", shoot)
        d.tap("◉")
        # the screen's own answer (a photo to keep, or what was wrong with it), not any "Không" in the
        # widget tree: home's hint says "Không nhìn rõ…" and its widgets may still be reachable
        screen = app.sm.current_screen
        d.wait_for(lambda: getattr(screen, "candidate", None) is not None or getattr(screen, "message", ""),
                   30, "the processed photo")
        _shot(d, res, label + "-photo", shoot)
        d.tap(_t(app, "docs.keep"))
        d.wait_for(lambda: doc.id in app.session.attachments, 10, "the attachment")
    _shot(d, res, label + "-done", shoot)


def _has_button(d: Driver, text) -> bool:
    try:
        d.find_button(text)
        return True
    except AssertionError:
        return False


# --- the keypad-only citizen (issue 18: speech and keypad for people who cannot see the screen) ---------
def walk_procedure_by_keys(app, flow_id: str, shots_dir=None, speech: bool = True, finish: bool = True,
                           observe=None, hands=None, shoot: bool = True) -> JourneyResult:
    """The same scripted citizen as :func:`walk_procedure`, with keys only: a
    ``touch_robot.KeypadDriver`` moves the focus to each control the touch walk would tap and
    presses it (the driver's touch counter stays 0), and, with ``speech``, the keypad's speech
    key ("*") turns the speech mode on at home first. The result lists each screen the citizen
    arrived at with its title, what the kiosk said (public text only) and how many of those
    screens had their title said."""
    from kiosk.tools.touch_robot import KeypadDriver

    d = KeypadDriver(app, shots_dir)
    heard: list[tuple[str, str, str]] = []

    def listen(kind, screen, text):
        heard.append((kind, screen, text))

    app.access.listeners.append(listen)
    try:
        d.wait_screen("home")
        if speech and not app.session.speech_mode:
            d.key("numpadmul")  # the tactile "*" key
            d.wait_for(lambda: app.session.speech_mode, 5, "the speech mode")
        seen: dict[str, str] = {}
        res = walk_procedure(d, flow_id, shoot=shoot, finish=finish, observe=appointment_observer(app, seen, observe),
                             hands=hands)
    finally:
        app.access.listeners.remove(listen)
    res.keypad_only = d.touches == 0
    res.arrivals = [(s, t) for k, s, t in heard if k == "arrive"]
    res.spoken = [(s, t) for k, s, t in heard if k == "say"]
    res.screens_spoken = sum(1 for s, t in res.arrivals if titles_said(res.spoken, s, t))
    res.appointment_on_review = seen.get("review", "")
    res.appointment_on_receipt = seen.get("receipt", "")
    return res


def titles_said(spoken, screen: str, title: str) -> bool:
    """Whether the kiosk said ``title`` (all of it) while ``screen`` was shown."""
    import re

    want = re.sub(r"\s+", " ", title).strip()
    return bool(want) and any(s == screen and want in re.sub(r"\s+", " ", t) for s, t in spoken)


def review_date(d: Driver, app) -> str:
    """The appointment date the review screen shows, as an ISO date ("" when it shows none)."""
    import datetime as dt
    import re

    from kivy.uix.label import Label

    label = _t(app, "review.appointment")
    for root in d._roots():
        for w in d._walk(root):
            if isinstance(w, Label) and label and label in (w.text or ""):
                texts = [w.text] + [c.text for c in getattr(w.parent, "children", []) if isinstance(c, Label)]
                for t in texts:
                    m = re.search(r"(\d{2})/(\d{2})/(\d{4})", t or "")
                    if m:
                        return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    return ""


def appointment_observer(app, seen: dict, observe=None):
    """An ``observe`` for :func:`walk_procedure` that notes the appointment date (ISO) the review
    screen shows in ``seen["review"]`` and the receipt's in ``seen["receipt"]`` (SUMMARY.json),
    then calls ``observe``."""
    def both(name, d):
        if name == "step-review" and not seen.get("review"):
            seen["review"] = review_date(d, app)
        out = app.session.outcome
        if name == "step-receipt" and out is not None and getattr(out, "appointment_date", None):
            seen["receipt"] = out.appointment_date.isoformat()  # what the receipt was printed with
        if observe is not None:
            observe(name, d)

    return both
