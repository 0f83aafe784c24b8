"""Scripted citizen journeys over the real app (demo and tests): touches and keys, nothing injected
behind the screens' backs except what a simulated device would see (the sample card's QR).

``walk_procedure`` answers each step the way a citizen would: the chip fills what it can, choices
take the first sensible option, and free text comes from ``TYPED`` (Telex keystrokes) so the
touch/keystroke counters measure the real effort of a procedure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.driver import Driver

# Telex keystrokes a citizen would type for fields the card cannot fill (by field id);
# any other required text field gets a generic answer.
TYPED = {
    "child_full_name": "Traanf Minh Khoi",
    "child_given_name": "Minh Khooi",
    "child_given_names": "Minh Khooi",
    "child_name": "Traanf Minh Khoi",
    "child_birth_date": None,  # dates are typed as digits, see DATES
    "document_title": "Bawngf toots nghieepj",
    "business_name": "Tapj hoas Ngocj Anh",
}
RECENT_DATES = {"child_birth_date": 20, "death_date": 15}  # day of the current month
DATES = {"child_birth_date": "01112026", "stay_until": "01062027", "death_date": "15112026"}
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


def walk_procedure(d: Driver, flow_id: str, shoot: bool = True, finish: bool = True) -> JourneyResult:
    try:
        return _walk(d, flow_id, shoot, finish)
    except Exception:
        if d.shots_dir is not None:
            d.screenshot(f"FAILED-{flow_id}")  # what the citizen would have seen
        raise


def _walk(d: Driver, flow_id: str, shoot: bool, finish: bool) -> JourneyResult:
    app = d.app
    res = JourneyResult(flow_id)
    t0, k0 = d.touches, d.typed
    d.wait_screen("home")
    _shot(d, res, "home", shoot)
    d.tap(_t(app, "home.procedure"))
    d.wait_screen("picker")
    _shot(d, res, "picker", shoot)
    flow = app.services.registry.get(flow_id)
    d.tap(flow.name["vi"])
    chip_typed_mark = None
    for _ in range(40):
        d.pump(2)
        name = d.screen
        step = app.session.engine.step if app.session.engine else None
        label = f"{flow_id}-{step.id}" if step else name
        if name == "step-guide":
            _shot(d, res, label, shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-identify":
            if not app.session.applicant:
                _shot(d, res, label, shoot)
                d.tap("[Mô phỏng]")
                d.wait_for(lambda: bool(app.session.applicant), 30, "the chip read")
                chip_typed_mark = d.typed
            _shot(d, res, label + "-done", shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-form":
            _fill_form(d, app)
            _shot(d, res, label, shoot)
            before = step
            d.tap(_t(app, "nav.next"))
            if app.session.engine.step is before and d.screen == "step-form":
                raise AssertionError(f"form step {step.id} refused: {app.session.engine.errors()}")
        elif name == "step-documents":
            _capture_documents(d, app, res, label, shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-unit":
            _shot(d, res, label, shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-review":
            _shot(d, res, label, shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-consent":
            d.tap(_t(app, "consent.agree"))
            _shot(d, res, label, shoot)
            d.tap(_t(app, "nav.next"))
        elif name == "step-submit":
            _shot(d, res, label, shoot)
            d.tap(_t(app, "submit.button"), exact=False)
            d.wait_screen("step-receipt", 60)
        elif name == "step-receipt":
            out = app.session.outcome
            res.code, res.provisional, res.receipt_png = out.code, out.provisional, out.png_path
            _shot(d, res, label, shoot)
            if not finish:
                break
            d.tap(_t(app, "receipt.finish"))
            d.wait_screen("rating")
            _shot(d, res, "rating", shoot)
            d.tap(_t(app, "rating.very"))
            d.wait_screen("goodbye")
            _shot(d, res, "goodbye", shoot)
            break
        else:
            raise AssertionError(f"unexpected screen {name}")
    res.touches = d.touches - t0
    res.typed = d.typed - k0
    res.typed_after_chip = d.typed - (chip_typed_mark if chip_typed_mark is not None else k0)
    return res


def _fold(text: str) -> str:
    from flows.text import fold

    return fold(text)


def _t(app, key):
    from kiosk.i18n import tr

    return tr(key, app.lang)


def _shot(d: Driver, res: JourneyResult, name: str, shoot: bool):
    res.screens.append(name)
    if shoot and d.shots_dir is not None:
        d.screenshot(name)


def _fill_form(d: Driver, app) -> None:
    engine = app.session.engine
    screen = app.sm.current_screen
    for _ in range(12):  # answering one field may reveal another (visible_if)
        pending = [f for f in engine.visible_fields() if f.required and engine.answers.get(f.id) in (None, "", [])]
        if not pending:
            return
        f = pending[0]
        if f.type in ("choice", "multi_choice"):
            d.tap(f.options[0].label[app.lang], exact=True)
        elif f.type == "yes_no":
            d.tap(_t(app, "form.yes"), exact=True)
        elif f.type == "date" and f.id in RECENT_DATES:
            # a recent date: the calendar, a few touches instead of 8 digits
            d.tap(_t(app, "form.calendar"))
            d.wait_for(lambda: _has_button(d, "▶"), 5, "the calendar")
            d.tap(str(RECENT_DATES[f.id]), exact=True)
        elif f.type == "address":
            _fill_address(d, app, f)
        else:
            w = screen.widgets[f.id]
            for _ in range(3):
                d.tap_widget(w.box)
                if app.focused_field is w:
                    break
                d.pump(5)
            else:
                raise AssertionError(f"field {f.id} did not take the focus")
            if f.type == "date":
                keys = DATES.get(f.id, "01012000")
            elif f.type in ("number",):
                keys = GENERIC_NUMBER
            elif f.type == "phone":
                keys = GENERIC_PHONE
            else:
                keys = TYPED.get(f.id) or GENERIC_TEXT
            d.type_keys(keys)
            d.tap(_t(app, "kb.done"), exact=True)
    raise AssertionError(f"could not fill the form step {engine.step.id}: {engine.errors()} "
                         f"answers={ {k: v for k, v in engine.answers.items()} }")


ADDRESSES = {"temporary_address": ("Phường Kim Liên", "Soos 5 ngox 12 phoos Kim Lieen")}


def _fill_address(d: Driver, app, f) -> None:
    """Province of the kiosk → a commune (searched by typing) → street, all on the picker."""
    from flows import units

    from kivy.core.window import Window

    from kiosk.widgets.address import AddressPicker

    commune, street = ADDRESSES.get(f.id, (None, "Soos 1"))
    d.tap_widget(app.sm.current_screen.widgets[f.id].change)
    d.wait_for(lambda: any(isinstance(w, AddressPicker) for w in Window.children), 5, "the address picker")
    picker = next(w for w in Window.children if isinstance(w, AddressPicker))
    if picker.stage == "province":
        d.tap(units.province(app.cfg["kiosk"]["province_code"]).name, exact=True)
    if commune:
        d.tap_widget(picker.search.box)
        d.type_keys(_fold(commune).split(" ", 1)[1])  # "kim lien": accents are optional in search
        d.tap(commune, exact=True)
    else:
        d.tap(units.communes(app.cfg["kiosk"]["province_code"])[0].name, exact=True)
    d.wait_for(lambda: _has_button(d, _t(app, "kb.done")), 5, "the street keyboard")
    d.type_keys(street)
    d.tap(_t(app, "kb.done"), exact=True)


def _capture_documents(d: Driver, app, res, label, shoot) -> None:
    engine = app.session.engine
    _shot(d, res, label, shoot)
    for doc, required in engine.step_documents():
        if not required or doc.id in app.session.attachments:
            continue
        d.tap(_t(app, "docs.capture"), exact=True)
        d.wait_for(lambda: d.has_text(doc.name[app.lang]), 10, "the camera view")
        d.wait_for(lambda: getattr(app.sm.current_screen, "preview", None) is not None
                   and app.sm.current_screen.preview.texture is not None, 20, "the live preview")
        _shot(d, res, label + "-camera", shoot)
        d.tap("◉")
        d.wait_for(lambda: _has_button(d, _t(app, "docs.keep")) or d.has_text("Không"), 30, "the processed photo")
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
