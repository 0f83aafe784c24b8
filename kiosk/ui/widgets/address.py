"""An address after the 2025 reform, with as little typing as it takes (issue #18, effort):

province (the kiosk's, already chosen; "Đổi tỉnh" to change) → commune (the kiosk's own first,
else searchable) → street picked from the commune's list where the project has one
(``flows.units.streets``, flows/streets.yaml) → the house number on a keypad; or, where there is no
list or the street is not on it, the street typed once on the keyboard.
"""
from __future__ import annotations

import re

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView

from kiosk.ui.i18n import tr
from kiosk.ui.theme import SPACING_MIN, TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Column, Row, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import NumPad, VnField, VnKeyboard
from kiosk.ui.widgets.text_role import ERROR, spoken_as


class AddressField(Column):
    """Shows the address as text; "Đổi" opens the picker. ``value`` is the engine's address dict."""

    def __init__(self, field_id: str, label: str, value: dict | None, on_change, error: str = "", **kw):
        super().__init__(spacing=6, **kw)
        self.field_id, self.on_change = field_id, on_change
        self.value = dict(value or {})
        self.add_widget(Text(label, role="body", bold=True))
        # as tall as the address's lines (two or three at ×2 text), never a fixed box it spills out of
        row = Row(spacing=SPACING_MIN, height=96)
        self.shown = Text(address_text(self.value) or "—", role="body", pos_hint={"center_y": 0.5})
        row.add_widget(self.shown)
        self.change = BigButton("Đổi địa chỉ" if app().lang == "vi" else "Change", kind="secondary",
                                size_hint_x=None, width=260, on_press=self.open_picker, pos_hint={"center_y": 0.5})
        row.add_widget(self.change)
        self.add_widget(row)
        self.error = spoken_as(Text(error, role="small", color=theme().danger), ERROR)  # said when it appears
        self.add_widget(self.error)

    def set_error(self, message):
        self.error.text = message or ""

    def open_picker(self):
        AddressPicker(self.value, on_done=self._picked).open()

    def _picked(self, value: dict):
        self.value = value
        self.on_change(self.field_id, value)


def address_text(value: dict) -> str:
    """"Số 5 phố Quán Thánh, Phường Ba Đình, Thành phố Hà Nội" (what the field shows)."""
    from flows import units

    if not value:
        return ""
    if value.get("text"):
        return value["text"]
    c = units.commune(value.get("commune_code", "")) if value.get("commune_code") else None
    p = units.province(value.get("province_code", "")) if value.get("province_code") else None
    return ", ".join(x for x in (value.get("street"), c.name if c else "", p.name if p else "") if x)


def street_line(house: str, street: str) -> str:
    """("5", "Phố Quán Thánh") → "Số 5 phố Quán Thánh", as an address is written; no number → the street."""
    street = street.strip()
    # inside an address the kind of street is written small: "Số 12 ngõ 34 phố Đội Cấn"
    street = re.sub(r"^(Phố|Đường|Ngõ|Ngách|Hẻm)\b", lambda m: m.group(1).lower(), street) if house else street
    return f"Số {house.strip()} {street}" if house.strip() else street


class HousePad(NumPad):
    """Digits and "/" (5/12) for a house number; the touch robot presses it as it presses any keypad."""

    def __init__(self, on_done=None, **kw):
        GridLayout.__init__(self, cols=3, spacing=16, padding=8, size_hint_y=None, **kw)
        self.height = 4 * (TOUCH_MIN + 16) + 3 * 16 + 16
        Background.paint(self, (0.85, 0.87, 0.9, 1) if theme().name != "high_contrast" else theme().header_bg)
        for ch in "123456789/0":
            self.add_widget(self._k(ch, lambda c=ch: app().type_char(c)))
        self.add_widget(self._k("⌫", lambda: app().type_backspace()))


class AddressPicker(ModalView):
    STAGES = ("province", "commune", "street", "house", "typed")

    def __init__(self, value: dict, on_done, **kw):
        super().__init__(size_hint=(0.96, 0.96), auto_dismiss=False, **kw)
        k = app().cfg["kiosk"]
        self.kiosk_province, self.kiosk_commune = k["province_code"], k["commune_code"]
        self.value = dict(value or {})
        self.value.pop("text", None)
        if not self.value.get("province_code"):
            # most citizens live in the kiosk's province: it is chosen already ("Đổi tỉnh" changes it)
            self.value = {"province_code": self.kiosk_province}
        self.on_done = on_done
        self.stage = "commune"
        self.street_name = ""   # the street picked from the list, before the house number
        self.query = ""
        self.box = BoxLayout(orientation="vertical", spacing=12, padding=20)
        Background.paint(self.box, theme().bg, radius=12)
        self.add_widget(self.box)
        self._build()

    # --- building each stage ---------------------------------------------------------------------
    def _title(self, vi: bool) -> str:
        from flows import units

        pv = units.province(self.value.get("province_code", ""))
        c = units.commune(self.value.get("commune_code", "")) if self.value.get("commune_code") else None
        return {
            "province": "Chọn tỉnh, thành phố" if vi else "Choose the province",
            "commune": (f"Chọn xã, phường thuộc {pv.name}" if vi else f"Choose the commune in {pv.name}") if pv else "",
            "street": (f"Chọn đường, phố thuộc {c.name}" if vi else f"Choose the street in {c.name}") if c else "",
            "house": (f"Số nhà trên {self.street_name}" if vi else f"House number on {self.street_name}"),
            "typed": "Số nhà, đường, thôn, tổ dân phố" if vi else "House number, street, hamlet",
        }[self.stage]

    def _build(self):
        vi = app().lang == "vi"
        self.box.clear_widgets()
        title = self._title(vi)
        self.box.add_widget(Text(title, role="title", bold=True))
        if self.stage == "typed":
            self.street = VnField("street", title, value=self.value.get("street", ""))
            self.box.add_widget(self.street)
            self.box.add_widget(BoxLayout())
            self.box.add_widget(VnKeyboard(on_done=self._finish_typed))
            self.street.focus()
            return
        if self.stage == "house":
            self._build_house(vi)
            return
        self.search = VnField("q", "Tìm (gõ không dấu cũng được)" if vi else "Search", value=self.query,
                              on_change=self._on_search)
        self.box.add_widget(self.search)
        self.list = Column(spacing=10)
        self.list_view = scroller(self.list)
        self.box.add_widget(self.list_view)
        self.kb_slot = BoxLayout(size_hint_y=None, height=0)
        self.box.add_widget(self.kb_slot)
        row = BoxLayout(size_hint_y=None, height=96, spacing=16)
        row.add_widget(BigButton("◀ Quay lại" if vi else "◀ Back", kind="secondary", on_press=self._back))
        if self.stage == "commune":
            row.add_widget(BigButton("Đổi tỉnh, thành phố" if vi else "Another province", kind="secondary",
                                     on_press=self._change_province))
        if self.stage == "street":
            row.add_widget(BigButton("Đường khác, thôn, xóm: gõ chữ" if vi else "Another street: type it",
                                     kind="secondary", on_press=self._type_street))
        self.box.add_widget(row)
        self._fill()

    def _build_house(self, vi: bool):
        self.house = VnField("house", "Số nhà (ví dụ 5 hoặc 5/12)" if vi else "House number (e.g. 5 or 5/12)",
                             value="", kind="house", max_len=12)
        self.house.composer.method = "off"  # digits and "/" only: no Vietnamese composition (VNI uses digits)
        self.box.add_widget(self.house)
        self.box.add_widget(BoxLayout())
        self.box.add_widget(HousePad())
        row = BoxLayout(size_hint_y=None, height=96, spacing=16)
        row.add_widget(BigButton("◀ Quay lại" if vi else "◀ Back", kind="secondary", on_press=self._back))
        row.add_widget(BigButton("Có ngõ, ngách: gõ chữ" if vi else "Lane or alley: type it", kind="secondary",
                                 on_press=self._house_to_typed))
        row.add_widget(BigButton(tr("kb.done", app().lang) + " ▶", kind="primary", on_press=self._finish_house))
        self.box.add_widget(row)
        self.house.focus()

    def show_keyboard(self, _field=None):
        if self.stage in ("typed", "house"):
            return  # their keypad is part of the stage
        if not self.kb_slot.children:
            kb = VnKeyboard(on_done=self.hide_keyboard)
            self.kb_slot.height = kb.height
            self.kb_slot.add_widget(kb)

    def hide_keyboard(self):
        if getattr(self, "kb_slot", None) is not None:
            self.kb_slot.clear_widgets()
            self.kb_slot.height = 0

    def _on_search(self, _fid, text):
        self.query = text
        self._fill()

    def _items(self) -> list[tuple[str, str]]:
        from flows import units

        q = self.query.strip()
        if self.stage == "province":
            from flows.text import fold

            return [(p.code, p.name) for p in units.provinces() if fold(q) in fold(p.name)]
        if self.stage == "commune":
            pc = self.value["province_code"]
            found = units.search_communes(pc, q) if q else units.communes(pc)
            items = [(c.code, c.name) for c in found]
            if not q and pc == self.kiosk_province:
                # the kiosk's own commune first: where most of its visitors live or stay
                own = [i for i in items if i[0] == self.kiosk_commune]
                items = own + [i for i in items if i[0] != self.kiosk_commune]
            return items
        cc = self.value["commune_code"]
        found = units.search_streets(cc, q) if q else units.streets(cc)
        return [(name, name) for name in found]

    def _fill(self):
        self.list.clear_widgets()
        for code, name in self._items()[:40]:
            self.list.add_widget(BigButton(name, kind="secondary", on_press=lambda c=code: self._choose(c)))
        if not self.list.children:
            vi = app().lang == "vi"
            self.list.add_widget(Text("Không tìm thấy. Xin gõ ít chữ hơn." if vi else "Nothing found. Type fewer letters.",
                                      role="body", color=theme().muted))

    # --- moving between stages ---------------------------------------------------------------------
    def _go(self, stage: str):
        self.stage, self.query = stage, ""
        app().focus_field(None)
        self._build()

    def _choose(self, code):
        from flows import units

        if self.stage == "province":
            self.value = {"province_code": code}
            self._go("commune")
        elif self.stage == "commune":
            self.value["commune_code"] = code
            self._go("street" if units.streets(code) else "typed")
        else:  # a street from the list: the house number next
            self.street_name = code
            self._go("house")

    def _change_province(self):
        self.value = {}
        self._go("province")

    def _type_street(self):
        self._go("typed")

    def _house_to_typed(self):
        self.value["street"] = street_line(self.house.text, self.street_name) + (" " if self.house.text else "")
        self._go("typed")

    def _back(self):
        back = {"province": None, "commune": None, "street": "commune", "house": "street"}[self.stage]
        if self.stage == "commune" and self.value.get("province_code") != self.kiosk_province:
            back = "province"
        if back is None:
            app().focus_field(None)
            self.dismiss()
            return
        self._go(back)

    def _finish_house(self):
        self.value["street"] = street_line(self.house.text, self.street_name)
        self._close()

    def _finish_typed(self):
        self.value["street"] = self.street.text.strip()
        self._close()

    def _close(self):
        app().focus_field(None)
        self.dismiss()
        self.on_done(self.value)
