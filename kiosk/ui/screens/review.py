"""Review everything before filing, section by section, each with its own "Sửa" (change) button."""
from __future__ import annotations

import datetime as dt

from common import clock
from common.money import fee_text, group_thousands
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen
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
    """Everything the citizen gave, one section per step walked (the applicant, each form, the
    papers, the handling commune), each with its own "Sửa" button: it opens that step, and its
    "Tiếp tục" comes straight back here (``FlowEngine.edit(..., back_to_review=True)``)."""

    def build_body(self, body):
        a = app()
        lang = a.lang
        engine = a.session.engine
        body.add_widget(Text(tr("review.edit_hint", lang), role="body"))
        col = Column(spacing=10, padding=[0, 0, 24, 0])
        col.add_widget(Text(tr("review.applicant", lang), role="title", bold=True))
        photo = chip_photo(a.session.card if a.session.applicant_source == "chip" else None)
        if photo is not None:
            col.add_widget(photo)
        for key, labels in APPLICANT_LABELS.items():
            v = a.session.applicant.get(key)
            if v:
                if key == "sex" and lang != "vi":  # the chip says "Nam" / "Nữ"
                    v = {"Nam": "Male", "Nữ": "Female"}.get(v, v)
                col.add_widget(line(labels[0 if lang == "vi" else 1], show_value(None, v, lang)))
        for step in engine.history:
            lines = self.section_lines(step)
            if lines is None:
                continue
            col.add_widget(self.section_head(step))
            for label, value in lines:
                col.add_widget(line(label, value))
        fee = engine.fee() if hasattr(engine, "fee") else None
        if fee is not None:
            col.add_widget(line(tr("review.fee", lang), fee_text(fee, lang)))
        appointment = engine.appointment_date(clock.now())
        col.add_widget(line(tr("review.appointment", lang), appointment.strftime("%d/%m/%Y")))
        body.add_widget(scroller(col))
        self.add_footer(body)

    def section_lines(self, step) -> list[tuple[str, str]] | None:
        """(label, value) lines of a step's section; None for a step that has no section."""
        a = app()
        lang, engine = a.lang, a.session.engine
        if step.kind == "form":
            fields = engine.visible_fields(step)
            if not fields:
                return None
            return [(pick(f.label, lang), show_value(f, engine.answers.get(f.id), lang)) for f in fields]
        if step.kind == "documents":
            out = []
            for doc, _required in engine.step_documents(step):
                files = engine.attachments.get(doc.id, [])
                if files:
                    out.append(("✓", pick(doc.name, lang) + (f" ({len(files)})" if len(files) > 1 else "")))
            return out or [("", "—")]
        if step.kind == "handling_unit":
            return [(tr("review.unit", lang), (engine.handling_unit or {}).get("name", "—"))]
        return None

    def section_head(self, step):
        """The section's title, and its "Sửa" button (secondary: the screen's one filled button is
        "Tiếp tục ▶")."""
        from kiosk.ui.widgets.common import Row

        lang = app().lang
        row = Row(spacing=16)
        row.add_widget(Text(pick(step.title, lang), role="title", bold=True, size_hint_y=1))
        edit = BigButton(tr("review.edit", lang), kind="secondary", size_hint_x=None, width=220,
                         on_press=lambda: self.edit(step.id))
        edit.step_id = step.id  # which section it opens (tests, speech)
        row.add_widget(edit)
        return row

    def edit(self, step_id: str) -> None:
        a = app()
        if a.session.engine.edit(step_id, back_to_review=True):
            a.show_step()


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


def line(label: str, value: str):
    from kiosk.ui.widgets.common import Row

    row = Row(spacing=16, height=60)
    row.add_widget(Text(label, role="body", color=theme().muted, size_hint_x=0.38))
    row.add_widget(Text(value, role="body", bold=True, size_hint_x=0.62))
    row.bind(minimum_height=row.setter("height"))
    return row
