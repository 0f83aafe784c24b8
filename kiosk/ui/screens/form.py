"""A form step rendered from the flow definition: one widget per visible field, inline errors.

Less typing (issue #18): a number field with ``presets`` is a row of big buttons ("Số khác…" opens
the keypad); a phone field offers, as one tap, a number the visit already has (the applicant's, an
earlier phone field, or a phone typed earlier in this visit), shown masked; a step whose fields
have ``scan: <paper>.<what>`` listens for that paper's QR and fills them (the Giấy chứng sinh:
devices.qr.payloads.parse_birth_certificate), typing staying possible."""
from __future__ import annotations

import datetime as dt

from kivy.uix.boxlayout import BoxLayout

from common.money import group_thousands
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.theme import SPACING_MIN, TOUCH_MIN
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField

TEXT_KINDS = {"text", "number", "phone", "email", "id_number", "date"}


def date_to_digits(value) -> str:
    if not value:
        return ""
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return ""
    return d.strftime("%d%m%Y")


def digits_to_date(digits: str):
    """'12051985' → '1985-05-12'; anything incomplete stays as typed so validation can say why."""
    if len(digits) == 8 and digits.isdigit():
        try:
            return dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2])).isoformat()
        except ValueError:
            return digits
    return digits or None


class FormScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.widgets: dict[str, object] = {}
        self.errors: dict[str, str] = {}
        self.other_open: set[str] = set()      # number fields whose "Số khác…" keypad is open
        self.scan_message: tuple[str, bool] = ("", False)  # (what the last QR did, is an error)
        self._visit_phone: str | None = None   # a phone typed earlier in this visit (reset() forgets it)

    def reset(self):
        """The visit ended (KioskApp.end_session): forget the phone typed in it."""
        self._visit_phone = None
        self.other_open = set()
        self.scan_message = ("", False)

    def on_pre_enter(self, *args):
        self.errors = {}
        self.scan_message = ("", False)
        super().on_pre_enter(*args)

    def on_leave(self, *args):
        app().listen_for_qr(None)
        parent = getattr(super(), "on_leave", None)
        if parent is not None:
            parent(*args)

    def build_body(self, body):
        a = app()
        lang = a.lang
        engine = a.session.engine
        self.add_intro(body)
        col = Column(spacing=22, padding=[0, 0, 16, 0])
        self.widgets = {}
        self.scan_buttons: dict[str, object] = {}  # paper → its simulation button (None on real devices)
        papers = _scan_papers(self.step)
        a.listen_for_qr(self._on_qr if papers else None)
        if papers:
            col.add_widget(self._scan_panel(papers[0], lang))
        for field in engine.visible_fields(self.step):
            col.add_widget(self._field_widget(field, engine.answers.get(field.id), lang))
        body.add_widget(scroller(col))
        body.add_widget(self.keyboard_slot())
        self.add_footer(body)

    def _field_widget(self, field, value, lang):
        label = pick(field.label, lang) + (" *" if field.required else "")
        hint = pick(field.hint, lang) if field.hint else ""
        error = self.errors.get(field.id, "")
        if field.type == "address":
            from kiosk.ui.widgets.address import AddressField

            w = AddressField(field.id, label, value if isinstance(value, dict) else None, self._address, error)
            self.widgets[field.id] = w
            return w
        if field.type == "number" and field.presets:
            return self._presets_widget(field, value, label, hint, error, lang)
        if field.type in TEXT_KINDS:
            kind = field.type
            shown = date_to_digits(value) if field.type == "date" else ("" if value is None else str(value))
            # "= 50.000.000" under typed amounts: counting zeros is where amounts go wrong
            echo = (lambda text, lang=lang: _echo(text, lang)) if field.type == "number" else None
            w = VnField(field.id, label, value=shown, kind=kind, hint=hint, on_change=self._typed,
                        max_len=8 if field.type == "date" else 300, echo=echo)
            w.set_error(error)
            self.widgets[field.id] = w
            if field.type == "phone":
                offer = self._phone_offer(field, value, lang)
                if offer is not None:
                    # controls at least SPACING_MIN apart: a finger that misses lands on nothing
                    holder = Column(spacing=SPACING_MIN)
                    holder.add_widget(w)
                    holder.add_widget(offer)
                    return holder
            if field.type != "date":
                return w
            holder = Column(spacing=SPACING_MIN)
            holder.add_widget(w)
            holder.add_widget(BigButton("▦ " + tr("form.calendar", lang), kind="secondary", size_hint_x=None,
                                        width=520, on_press=lambda f=field: self._calendar(f)))
            return holder
        box = Column(spacing=8)
        box.add_widget(Text(label, role="body", bold=True))
        if hint:
            box.add_widget(Text(hint, role="small", color=theme().muted))
        options = field.options
        if field.type == "yes_no":
            options = [_Opt(True, tr("form.yes", lang)), _Opt(False, tr("form.no", lang))]
        grid = Column(spacing=SPACING_MIN)
        row = None
        for i, opt in enumerate(options):
            if i % 3 == 0:
                row = Row(spacing=SPACING_MIN, height=TOUCH_MIN + 16)
                grid.add_widget(row)
            chosen = (opt.id in (value or [])) if field.type == "multi_choice" else (value == opt.id)
            # a chosen option: the "selected" colour and a check mark, never the primary red (that is
            # the screen's one next action)
            row.add_widget(BigButton(("✓ " if chosen else "") + pick(opt.label, lang),
                                     kind="selected" if chosen else "secondary",
                                     on_press=lambda f=field, o=opt: self._choose(f, o.id)))
        if row is not None:
            for _ in range(3 - len(row.children)):
                row.add_widget(BoxLayout())
        box.add_widget(grid)
        if error:
            box.add_widget(error_text(error, role="small"))
        return box

    # --- pick-lists for small numbers ------------------------------------------------------------
    def _presets_widget(self, field, value, label, hint, error, lang):
        box = Column(spacing=8)
        box.add_widget(Text(label, role="body", bold=True))
        if hint:
            box.add_widget(Text(hint, role="small", color=theme().muted))
        other = field.id in self.other_open or (value is not None and value not in field.presets)
        choices = [(x, str(x)) for x in field.presets] + [(None, tr("form.other", lang))]
        row = None
        per_row = 6 if len(choices) > 4 else len(choices)
        grid = Column(spacing=SPACING_MIN)
        box.add_widget(grid)
        for i, (x, text) in enumerate(choices):
            if i % per_row == 0:
                row = Row(spacing=SPACING_MIN, height=TOUCH_MIN + 16)
                grid.add_widget(row)
            chosen = other if x is None else (not other and value == x)
            row.add_widget(BigButton(("✓ " if chosen else "") + text, kind="selected" if chosen else "secondary",
                                     on_press=lambda f=field, v=x: self._preset(f, v)))
        if row is not None:
            for _ in range(per_row - len(row.children)):
                row.add_widget(BoxLayout())
        if other:
            w = VnField(field.id, tr("form.other", lang), value="" if value is None else str(value), kind="number",
                        on_change=self._typed, max_len=12, echo=lambda text, lang=lang: _echo(text, lang))
            w.set_error(error)
            self.widgets[field.id] = w
            box.add_widget(w)
        else:
            self.widgets[field.id] = box
            if error:
                box.add_widget(error_text(error, role="small"))
        return box

    def _preset(self, field, value):
        engine = app().session.engine
        if value is None:  # "Số khác…": the keypad, starting empty
            self.other_open.add(field.id)
            engine.set(field.id, None)
            self.refresh()
            w = self.widgets.get(field.id)
            if isinstance(w, VnField):
                w.focus()
            return
        self.other_open.discard(field.id)
        engine.set(field.id, value)
        self.errors.pop(field.id, None)
        self.refresh()

    # --- the phone the visit already has ----------------------------------------------------------
    def _known_phone(self, field) -> str | None:
        from flows.validation import check

        a = app()
        engine = a.session.engine
        found = [(engine.applicant or {}).get("phone"), a.session.applicant.get("phone")]
        found += [engine.answers.get(f.id) for f in engine.flow.fields.values() if f.type == "phone" and f.id != field.id]
        found.append(self._visit_phone)
        for phone in found:
            if isinstance(phone, str) and check(field, phone, engine.today, engine.resolve) is None:
                return phone
        return None

    def _phone_offer(self, field, value, lang):
        phone = self._known_phone(field)
        if phone is None or phone == value:
            return None
        # masked on the screen (a bystander reads it too); the number itself never goes to a log
        return BigButton(tr("form.use_phone", lang, phone=mask_phone(phone)), kind="secondary",
                         on_press=lambda f=field, p=phone: self._use_phone(f, p))

    def _use_phone(self, field, phone):
        app().focus_field(None)
        app().session.engine.set(field.id, phone)
        self.errors.pop(field.id, None)
        self.refresh()

    # --- a paper's QR fills fields -------------------------------------------------------------------
    def _scan_panel(self, paper, lang):
        a = app()
        box = Column(spacing=8)
        box.add_widget(Text("▣  " + tr(f"form.scan_{paper}", lang), role="body", bold=True))
        box.add_widget(Text(tr(f"form.scan_{paper}_hint", lang), role="body"))
        message, is_error = self.scan_message
        if message:
            box.add_widget(error_text(message, role="body") if is_error else Text(message, role="body", color=theme().ok))
        self.scan_buttons[paper] = None
        if a.cfg["devices.qr"]["backend"] == "sim":  # only where the scanner is simulated (issue #18 point 4)
            self.scan_buttons[paper] = BigButton(tr(f"form.scan_{paper}_sim", lang), kind="secondary",
                                                 on_press=self._simulate_scan)
            box.add_widget(self.scan_buttons[paper])
        return box

    def _simulate_scan(self):
        # what the sim scanner "sees" when the simulated hospital's certificate is held to it
        from common import clock
        from devices.qr.samples import sim_birth_certificate_qr

        app().services.scanner.inject(sim_birth_certificate_qr(clock.today()).encode("utf-8"))

    def _on_qr(self, payload):
        from common.errors import user_message
        from devices.qr.payloads import PayloadError, parse_birth_certificate

        a = app()
        lang = a.lang
        engine = a.session.engine
        if engine is None or a.sm.current_screen is not self or not _scan_papers(self.step):
            return
        try:
            record = parse_birth_certificate(payload)
        except PayloadError as exc:
            self.scan_message = (user_message(exc, lang), True)
            self.refresh()
            return
        filled = []
        for field in engine.visible_fields(self.step):
            if not field.scan or not field.scan.startswith("birth_certificate."):
                continue
            what = field.scan.split(".", 1)[1]
            value = record.birth_date_iso if what == "birth_date" else getattr(record, what, None)
            if value in (None, ""):
                continue  # e.g. no intended name yet: the citizen types it
            a.session.remember_personal(value)
            engine.set(field.id, value)
            self.errors.pop(field.id, None)
            self.other_open.discard(field.id)
            filled.append(pick(field.label, lang).lower())
        self.scan_message = ((tr("form.scan_done", lang, fields=", ".join(filled)), False) if filled else
                             (tr("form.scan_nothing", lang), True))
        a.focus_field(None)
        self.refresh()

    def _typed(self, field_id, text):
        engine = app().session.engine
        field = engine.flow.fields[field_id]
        value = digits_to_date(text) if field.type == "date" else (text if text != "" else None)
        engine.set(field_id, value)
        if field.type == "phone" and field_id not in engine.errors():
            self._visit_phone = engine.answers.get(field_id)  # offered on a later phone field of this visit
        if field_id in self.errors:
            self.errors.pop(field_id)
            self.widgets[field_id].set_error("")

    def _calendar(self, field):
        from kiosk.ui.widgets.calendar import CalendarPicker

        engine = app().session.engine
        current = engine.answers.get(field.id)
        try:
            current = dt.date.fromisoformat(current) if current else None
        except (TypeError, ValueError):
            current = None

        def picked(day):
            engine.set(field.id, day.isoformat())
            self.errors.pop(field.id, None)
            self.refresh()

        self.hide_keyboard()
        CalendarPicker(current, picked, today=engine.today).open()

    def _address(self, field_id, value):
        app().session.engine.set(field_id, value)
        self.errors.pop(field_id, None)
        self.refresh()

    def _choose(self, field, option_id):
        engine = app().session.engine
        if field.type == "multi_choice":
            current = list(engine.answers.get(field.id) or [])
            current.remove(option_id) if option_id in current else current.append(option_id)
            engine.set(field.id, current)
        else:
            engine.set(field.id, option_id)
        self.errors.pop(field.id, None)
        self.refresh()

    def on_next(self):
        a = app()
        a.focus_field(None)
        if not a.next_step():
            self.errors = a.session.engine.errors(self.step)
            self.refresh()


def _scan_papers(step) -> list[str]:
    from flows.steps.form import scan_papers

    return scan_papers(step) if step is not None and step.kind == "form" else []


def mask_phone(phone: str) -> str:
    """'0912345678' → '09xx xxx 678': enough for its owner to recognise, not for a bystander."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 6:
        return "x" * len(digits)
    if len(digits) == 10:
        return f"{digits[:2]}xx xxx {digits[-3:]}"
    return f"{digits[:2]}{'x' * (len(digits) - 5)} {digits[-3:]}"


class _Opt:
    def __init__(self, id, label):
        self.id, self.label = id, label


def _echo(text: str, lang: str) -> str:
    grouped = group_thousands(text, lang, at_least=10000)
    return f"= {grouped}" if grouped else ""
