"""Guide: what the procedure needs and what it costs, with the step's help video."""
from __future__ import annotations

from common import clock
from common.money import fee_text
from flows.calendar import appointment_date, processing_text
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen
from kiosk.ui.widgets.common import Column, Text, app, scroller, theme


class GuideScreen(StepScreen):
    def build_body(self, body):
        a = app()
        lang = a.lang
        flow = a.session.flow
        col = Column(spacing=14, padding=[0, 0, 16, 0])
        text = self.step_text()
        if text:
            col.add_widget(Text(text, role="body"))
        col.add_widget(Text(tr("review.documents", lang), role="title", bold=True))
        for doc in flow.documents:
            col.add_widget(Text("•  " + pick(doc.name, lang) + ("" if doc.required else "  " + tr("docs.optional", lang)),
                                role="body"))
        col.add_widget(Text(f"{tr('review.fee', lang)}: {fee_text(flow.fee, lang)}", role="body", bold=True))
        col.add_widget(Text(processing_text(flow.processing_days, flow.receipt_cutoff, lang), role="body", bold=True))
        due = appointment_date(clock.now(), flow.processing_days, flow.receipt_cutoff)
        col.add_widget(Text(f"{tr('guide.due_if_now', lang)}: {due:%d/%m/%Y}", role="body"))
        video, _ = self.help_paths()
        if video is not None:
            col.add_widget(Text("▶ " + tr("nav.help", lang), role="body", color=theme().muted))
        body.add_widget(scroller(col))
        self.add_footer(body)
