"""An address after the 2025 reform: province → commune (searchable) → street, one touch each."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.ui.widgets.common import Background, BigButton, Column, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField, VnKeyboard


class AddressField(Column):
    """Shows the address as text; "Đổi" opens the picker. ``value`` is the engine's address dict."""

    def __init__(self, field_id: str, label: str, value: dict | None, on_change, error: str = "", **kw):
        super().__init__(spacing=6, **kw)
        self.field_id, self.on_change = field_id, on_change
        self.value = dict(value or {})
        self.add_widget(Text(label, role="body", bold=True))
        row = BoxLayout(size_hint_y=None, height=96, spacing=12)
        self.shown = Text(self.value.get("text") or "—", role="body")
        self.shown.size_hint_y = 1
        row.add_widget(self.shown)
        self.change = BigButton("Đổi địa chỉ" if app().lang == "vi" else "Change", kind="secondary",
                                size_hint_x=None, width=260, on_press=self.open_picker)
        row.add_widget(self.change)
        self.add_widget(row)
        self.error = Text(error, role="small", color=theme().danger)
        self.add_widget(self.error)

    def set_error(self, message):
        self.error.text = message or ""

    def open_picker(self):
        AddressPicker(self.value, on_done=self._picked).open()

    def _picked(self, value: dict):
        self.value = value
        self.on_change(self.field_id, value)


class AddressPicker(ModalView):
    def __init__(self, value: dict, on_done, **kw):
        super().__init__(size_hint=(0.96, 0.96), auto_dismiss=False, **kw)
        self.value = dict(value or {})
        self.on_done = on_done
        self.stage = "province" if not self.value.get("province_code") else "commune"
        self.query = ""
        self.box = BoxLayout(orientation="vertical", spacing=12, padding=20)
        Background.paint(self.box, theme().bg, radius=12)
        self.add_widget(self.box)
        self._build()

    def _build(self):
        from flows import units

        lang = app().lang
        vi = lang == "vi"
        self.box.clear_widgets()
        pv = units.province(self.value.get("province_code", "")) if self.value.get("province_code") else None
        title = {"province": "Chọn tỉnh, thành phố" if vi else "Choose the province",
                 "commune": (f"Chọn xã, phường thuộc {pv.name}" if vi else f"Choose the commune in {pv.name}") if pv else "",
                 "street": "Số nhà, đường, thôn, tổ dân phố" if vi else "House number, street, hamlet"}[self.stage]
        self.box.add_widget(Text(title, role="title", bold=True))
        if self.stage == "street":
            self.street = VnField("street", title, value=self.value.get("street", ""))
            self.box.add_widget(self.street)
            self.box.add_widget(BoxLayout())
            self.box.add_widget(VnKeyboard(on_done=self._finish))
            self.street.focus()
            return
        self.search = VnField("q", "Tìm (gõ không dấu cũng được)" if vi else "Search", value=self.query,
                              on_change=self._on_search)
        self.box.add_widget(self.search)
        self.list = Column(spacing=10)
        self.box.add_widget(scroller(self.list))
        self.kb_slot = BoxLayout(size_hint_y=None, height=0)
        self.box.add_widget(self.kb_slot)
        row = BoxLayout(size_hint_y=None, height=96, spacing=16)
        row.add_widget(BigButton("◀ Quay lại" if vi else "◀ Back", kind="secondary", on_press=self._back))
        self.box.add_widget(row)
        self._fill()

    def show_keyboard(self, _field=None):
        if self.stage != "street" and not self.kb_slot.children:
            kb = VnKeyboard(on_done=lambda: (self.kb_slot.clear_widgets(), setattr(self.kb_slot, "height", 0)))
            self.kb_slot.height = kb.height
            self.kb_slot.add_widget(kb)

    def _on_search(self, _fid, text):
        self.query = text
        self._fill()

    def _fill(self):
        from flows import units
        from flows.text import fold

        self.list.clear_widgets()
        if self.stage == "province":
            q = fold(self.query)
            items = [(p.code, p.name) for p in units.provinces() if q in fold(p.name)]
        else:
            pc = self.value["province_code"]
            found = units.search_communes(pc, self.query) if self.query.strip() else units.communes(pc)
            items = [(c.code, c.name) for c in found]
        for code, name in items[:40]:
            self.list.add_widget(BigButton(name, kind="secondary", on_press=lambda c=code: self._choose(c)))

    def _choose(self, code):
        self.query = ""
        if self.stage == "province":
            self.value = {"province_code": code}
            self.stage = "commune"
        else:
            self.value["commune_code"] = code
            self.stage = "street"
        app().focus_field(None)
        self._build()

    def _back(self):
        app().focus_field(None)
        if self.stage == "commune":
            self.stage, self.query = "province", ""
            self._build()
        else:
            self.dismiss()

    def _finish(self):
        self.value["street"] = self.street.text.strip()
        app().focus_field(None)
        self.dismiss()
        self.on_done(self.value)
