"""Guide: what the procedure needs and what it costs, with the step's help video."""
from __future__ import annotations

from kiosk.i18n import pick, tr
from kiosk.screens.review import _fee_text
from kiosk.screens.step import StepScreen
from kiosk.widgets.common import Column, Text, app, scroller, theme


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
        col.add_widget(Text(f"{tr('review.fee', lang)}: {_fee_text(flow.fee, lang)}", role="body", bold=True))
        days = flow.processing_days
        col.add_widget(Text((f"Thời hạn giải quyết: {days} ngày làm việc" if lang == "vi"
                             else f"Processing time: {days} working days"), role="body", bold=True))
        video, _ = self.help_paths()
        if video is not None:
            col.add_widget(Text("▶ " + tr("nav.help", lang), role="body", color=theme().muted))
        body.add_widget(scroller(col))
        self.add_footer(body)
