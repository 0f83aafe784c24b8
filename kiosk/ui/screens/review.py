"""Review everything before filing, then consent under the Law on Personal Data Protection (91/2025/QH15)."""
from __future__ import annotations

import datetime as dt

from common import clock
from common.money import fee_text, group_thousands
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller, theme

APPLICANT_LABELS = {
    "full_name": ("Họ và tên", "Full name"),
    "id_number": ("Số định danh", "ID number"),
    "date_of_birth": ("Ngày sinh", "Date of birth"),
    "sex": ("Giới tính", "Sex"),
    "residence": ("Nơi thường trú", "Residence"),
}


def show_value(field, value, lang) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):  # an address
        return value.get("text") or ", ".join(str(v) for v in value.values())
    if field is not None and field.type in ("choice", "multi_choice"):
        ids = value if isinstance(value, list) else [value]
        return ", ".join(pick(field.option(i).label, lang) if field.option(i) else str(i) for i in ids)
    if field is not None and field.type == "yes_no":
        return tr("form.yes" if value else "form.no", lang)
    if field is not None and field.type == "date" or (isinstance(value, str) and len(value) == 10 and value[4] == "-"):
        try:
            return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if field is not None and field.type == "number":
        return group_thousands(value, lang, at_least=10000) or str(value)  # 50000000 is hard to read for anyone
    return str(value)


class ReviewScreen(StepScreen):
    def build_body(self, body):
        a = app()
        lang = a.lang
        engine = a.session.engine
        col = Column(spacing=10, padding=[0, 0, 16, 0])
        col.add_widget(Text(tr("review.applicant", lang), role="title", bold=True))
        photo = chip_photo(a.session.card if a.session.applicant_source == "chip" else None)
        if photo is not None:
            col.add_widget(photo)
        for key, labels in APPLICANT_LABELS.items():
            v = a.session.applicant.get(key)
            if v:
                if key == "sex" and lang != "vi":  # the chip says "Nam" / "Nữ"
                    v = {"Nam": "Male", "Nữ": "Female"}.get(v, v)
                col.add_widget(_line(labels[0 if lang == "vi" else 1], show_value(None, v, lang)))
        for step in engine.flow.steps:
            if step.kind != "form":
                continue
            if hasattr(engine, "step_visible") and not engine.step_visible(step):
                continue
            fields = engine.visible_fields(step)
            if not fields:
                continue
            col.add_widget(Text(pick(step.title, lang), role="title", bold=True))
            for f in fields:
                col.add_widget(_line(pick(f.label, lang), show_value(f, engine.answers.get(f.id), lang)))
        if a.session.attachments:
            col.add_widget(Text(tr("review.documents", lang), role="title", bold=True))
            for doc_id in a.session.attachments:
                doc = engine.flow.document(doc_id)
                col.add_widget(_line("✓", pick(doc.name, lang) if doc else doc_id))
        hu = engine.handling_unit or {}
        col.add_widget(_line(tr("review.unit", lang), hu.get("name", "—")))
        fee = engine.fee() if hasattr(engine, "fee") else None
        if fee is not None:
            col.add_widget(_line(tr("review.fee", lang), fee_text(fee, lang)))
        appointment = engine.appointment_date(clock.now())
        col.add_widget(_line(tr("review.appointment", lang), appointment.strftime("%d/%m/%Y")))
        body.add_widget(scroller(col))
        self.add_footer(body)


class ConsentScreen(StepScreen):
    def build_body(self, body):
        a = app()
        lang = a.lang
        self.add_intro(body)
        text = self.consent_text()
        body.add_widget(Text(text, role="body"))
        agreed = bool(getattr(a.session.engine, "consent", None) and a.session.engine.consent.get("given"))
        body.add_widget(BigButton(("☑ " if agreed else "☐ ") + tr("consent.agree", lang),
                                  kind="ok" if agreed else "secondary", on_press=self._toggle, height=120))
        self.msg = error_text()
        body.add_widget(self.msg)
        from kivy.uix.boxlayout import BoxLayout

        body.add_widget(BoxLayout())
        self.add_footer(body)

    def consent_text(self) -> str:
        from flows import consent_text

        return pick(consent_text(self.step), app().lang)

    def _toggle(self):
        from flows import consent_sha256

        engine = app().session.engine
        given = not bool(getattr(engine, "consent", None) and engine.consent.get("given"))
        # the hash of the text shown, in the language shown: what the citizen agreed to
        engine.set_consent(given, consent_sha256(self.step, app().lang))
        self.refresh()

    def on_next(self):
        a = app()
        if not a.next_step():
            self.msg.text = tr("consent.needed", a.lang)


def chip_photo(card, height: int = 320):
    """The portrait read from the chip (DG2: JPEG, or JPEG 2000 decoded by Pillow's OpenJPEG),
    as a widget ``height`` pixels tall; None without a photo or when it cannot be decoded."""
    data = getattr(card, "photo_jpeg", None)
    if not data:
        return None
    from devices.idcard.errors import ParseError
    from devices.idcard.lds import face_pixels

    try:
        pixels, w, h = face_pixels(data, mode="RGBA")
    except ParseError:
        return None
    from kivy.graphics.texture import Texture
    from kivy.uix.anchorlayout import AnchorLayout
    from kivy.uix.image import Image

    texture = Texture.create(size=(w, h), colorfmt="rgba")
    texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
    texture.flip_vertical()       # Pillow's rows go top down, OpenGL's bottom up
    box = AnchorLayout(anchor_x="left", size_hint_y=None, height=height)
    box.add_widget(Image(texture=texture, size_hint=(None, None), size=(round(height * w / h), height)))
    box.photo_size = (w, h)
    return box


def _line(label: str, value: str):
    from kiosk.ui.widgets.common import Row

    row = Row(spacing=16, height=60)
    row.add_widget(Text(label, role="body", color=theme().muted, size_hint_x=0.38))
    row.add_widget(Text(value, role="body", bold=True, size_hint_x=0.62))
    row.bind(minimum_height=row.setter("height"))
    return row
