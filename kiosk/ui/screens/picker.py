"""Procedure picker: by field (lĩnh vực), by diacritic-insensitive search, or by a procedure QR."""
from __future__ import annotations

from common.errors import user_message
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller, theme
from kiosk.ui.widgets.keyboard import VnField


class PickerScreen(KioskScreen):
    title_key = "picker.title"

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
        tabs = Row(spacing=12)
        tabs.add_widget(BigButton(tr("picker.all", lang), kind="selected" if self.field_filter is None else "secondary",
                                  on_press=lambda: self._set_filter(None)))
        for key, flows in fields.items():
            label = pick(flows[0].field, lang)
            tabs.add_widget(BigButton(label, kind="selected" if self.field_filter == key else "secondary",
                                      on_press=lambda k=key: self._set_filter(k)))
        body.add_widget(tabs)
        self.search = VnField("search", tr("picker.search", lang), value=self.query, on_change=self._on_search)
        body.add_widget(self.search)
        self.results = Column(spacing=14)
        body.add_widget(scroller(self.results))
        self.status = Text(tr("picker.scan", lang), role="body", color=theme().muted)
        body.add_widget(self.status)
        body.add_widget(self.keyboard_slot())
        self._fill()

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
            return
        app().start_flow(flow)
