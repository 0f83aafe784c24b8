"""Procedure picker: by field (lĩnh vực), by diacritic-insensitive search, or by a procedure QR."""
from __future__ import annotations

from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from common.errors import user_message
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField
from kiosk.ui.widgets.reflow import reveal
from kiosk.ui.widgets.text_role import ERROR, spoken_as


class PickerScreen(KioskScreen):
    """The search field on top (what the keyboard types into stays above it), then one scroll
    area with the field tabs and the procedures. While the keyboard is up the tabs, the QR line
    and the back button step aside (they come back with "Xong"), so the results keep room even
    at ×2 text."""

    title_key = "picker.title"
    own_footer = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.field_filter = None
        self.query = ""

    def reset(self):
        self.field_filter, self.query = None, ""

    def on_pre_enter(self, *args):
        super().on_pre_enter(*args)
        app().listen_for_qr(self._on_qr)

    def on_leave(self, *args):
        app().listen_for_qr(None)

    def build_body(self, body):
        a = app()
        lang = a.lang
        registry = a.services.registry
        fields = registry.by_field()
        self.typing = False
        self.search = VnField("search", tr("picker.search", lang), value=self.query, on_change=self._on_search)
        body.add_widget(self.search)
        # one row of tabs; three to a row at ×2 text, where five would each wrap to two lines
        tabs = GridLayout(cols=3 if a.session.large_text else len(fields) + 1, spacing=SPACING_MIN,
                          size_hint_y=None)
        tabs.bind(minimum_height=tabs.setter("height"))
        tabs.add_widget(BigButton(tr("picker.all", lang), kind="selected" if self.field_filter is None else "secondary",
                                  on_press=lambda: self._set_filter(None)))
        for key, flows in fields.items():
            label = pick(flows[0].field, lang)
            tabs.add_widget(BigButton(label, kind="selected" if self.field_filter == key else "secondary",
                                      on_press=lambda k=key: self._set_filter(k)))
        self.tabs = tabs
        self.listing = Column(spacing=SPACING_MIN * 2, padding=[0, 0, 20, 0])
        self.listing.add_widget(tabs)
        self.results = Column(spacing=SPACING_MIN)
        self.listing.add_widget(self.results)
        self.scroll = scroller(self.listing)
        body.add_widget(self.scroll)
        self.status = Text(tr("picker.scan", lang), role="body", color=theme().muted)
        # at ×2 text the QR line goes under the list: fixed, it would leave the list one row
        self.status_in_list = bool(a.session.large_text)
        (self.listing if self.status_in_list else body).add_widget(self.status)
        body.add_widget(self.keyboard_slot())
        self.footer = footer(BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back), Widget())
        body.add_widget(self.footer)
        self._fill()

    def show_keyboard(self, field) -> None:
        super().show_keyboard(field)
        if self.typing or not getattr(self, "kb_slot", None) or not self.kb_slot.children:
            return
        self.typing = True
        self.listing.remove_widget(self.tabs)
        self.search.remove_widget(self.search.label)  # the title says it; the room is the results'
        self.status.parent.remove_widget(self.status)
        body = self.kb_slot.parent
        body.remove_widget(self.footer)
        self.scroll.scroll_y = 1

    def hide_keyboard(self) -> None:
        super().hide_keyboard()
        if not self.typing or getattr(self, "kb_slot", None) is None or self.kb_slot.parent is None:
            self.typing = False
            return
        self.typing = False
        self.listing.add_widget(self.tabs, index=len(self.listing.children))
        self.search.add_widget(self.search.label, index=len(self.search.children))
        body = self.kb_slot.parent
        body.remove_widget(self.kb_slot)
        if self.status_in_list:
            self.listing.add_widget(self.status)
        else:
            body.add_widget(self.status)
        body.add_widget(self.kb_slot)
        body.add_widget(self.footer)

    def _set_filter(self, key):
        self.field_filter = key
        self.refresh()

    def _on_search(self, _fid, text):
        self.query = text
        self._fill()

    def _fill(self):
        a = app()
        lang = a.lang
        registry = a.services.registry
        flows = registry.search(self.query) if self.query.strip() else list(registry.flows)
        if self.field_filter is not None:
            keep = {f.id for f in registry.by_field().get(self.field_filter, [])}
            flows = [f for f in flows if f.id in keep]
        self.results.clear_widgets()
        if not flows:
            self.results.add_widget(Text(tr("picker.none", lang), role="body", color=theme().muted))
        for flow in flows:
            # the national procedure code stays in the data (dossier, receipt, search), not on the
            # button: it means nothing to a citizen (issue #18)
            label = pick(flow.name, lang)
            self.results.add_widget(BigButton(label, kind="secondary", on_press=lambda f=flow: a.start_flow(f)))

    def _on_qr(self, payload: bytes):
        from devices.qr.payloads import PayloadError, parse_procedure

        try:
            proc = parse_procedure(payload.decode("utf-8"))
            flow = app().services.registry.get(proc.flow_id)
        except (PayloadError, UnicodeDecodeError, KeyError, LookupError) as exc:
            self.status.text = user_message(exc, app().lang, tr("picker.none", "vi"), tr("picker.none", "en"))
            self.status.color = theme().danger
            spoken_as(self.status, ERROR)
            reveal(self.status)
            return
        app().start_flow(flow)
