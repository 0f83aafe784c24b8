"""Handling unit: any commune of the province (boundary-free filing), the residence's by default."""
from __future__ import annotations

from flows.wording import province_word
from kiosk.ui.i18n import tr
from kiosk.ui.screens.step import StepScreen
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField


def _unit_name(u) -> str:
    return getattr(u, "name", None) or (u.get("name") if isinstance(u, dict) else str(u))


def _unit_code(u) -> str:
    return getattr(u, "code", None) or (u.get("code") if isinstance(u, dict) else "")


class UnitScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.query = ""

    def reset(self):
        self.query = ""

    def on_pre_enter(self, *args):
        self.query = ""
        engine = app().session.engine
        if not engine.handling_unit:
            self._default_unit()
        super().on_pre_enter(*args)

    def _default_unit(self):
        """The commune of residence when it is in this province, else the kiosk's own (engine rule)."""
        engine = app().session.engine
        unit = engine.default_handling_unit()
        if unit is not None:
            engine.set_handling_unit(unit["province_code"], unit["commune_code"], unit["name"])

    def build_body(self, body):

        a = app()
        lang = a.lang
        engine = a.session.engine
        # "thành phố" for a centrally-run city (Hà Nội …), "tỉnh" elsewhere (issue #18 point 8)
        area = province_word(a.cfg["kiosk"]["province_code"], lang)
        hu = engine.handling_unit or {}
        hint = Text(tr("unit.hint", lang, area=area), role="body")
        chosen = Text(tr("unit.chosen", lang, name=hu.get("name", "—")), role="title", bold=True, color=theme().ok)
        self.search = VnField("unit_search", tr("unit.search", lang), value=self.query, on_change=self._on_search)
        self.list = Column(spacing=SPACING_MIN)
        if a.session.large_text:
            # ×2 text: the hint and the chosen commune scroll with the list under the search field;
            # fixed above it they left the list no room at all
            body.add_widget(self.search)
            column = Column(spacing=SPACING_MIN, padding=[0, 0, 20, 0])
            for w in (hint, chosen, self.list):
                column.add_widget(w)
            body.add_widget(scroller(column))
        else:
            for w in (hint, chosen, self.search):
                body.add_widget(w)
            body.add_widget(scroller(self.list))
        body.add_widget(self.keyboard_slot())
        self.add_footer(body)
        self._fill()

    def _on_search(self, _fid, text):
        self.query = text
        self._fill()

    def _fill(self):
        from flows import units

        a = app()
        province = a.cfg["kiosk"]["province_code"]
        allowed = a.session.engine.allowed_communes()
        if self.query.strip():
            keep = {c.code for c in allowed}
            found = [c for c in units.search_communes(province, self.query, limit=200) if c.code in keep]
        else:
            found = allowed
        self.list.clear_widgets()
        chosen = (a.session.engine.handling_unit or {}).get("commune_code")
        for u in list(found)[:40]:
            code = _unit_code(u)
            self.list.add_widget(BigButton(("✓ " if code == chosen else "") + _unit_name(u),
                                           kind="selected" if code == chosen else "secondary",
                                           on_press=lambda c=code, n=_unit_name(u): self._pick(c, n)))

    def _pick(self, code, name):
        a = app()
        a.session.engine.set_handling_unit(a.cfg["kiosk"]["province_code"], code, name)
        self.hide_keyboard()
        self.refresh()
