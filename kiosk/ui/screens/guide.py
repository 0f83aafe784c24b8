"""Guide: what the citizen must bring ("Phải mang"), what only in some cases ("Chỉ khi …"), what
it costs and when the result is ready, in plain words at body size or larger. The papers come
from the flow's documents through ``flows.steps.documents.guide_papers``, the same listing the
papers screen uses, so the two screens cannot disagree (issue #18)."""
from __future__ import annotations

from common import clock
from common.money import fee_text
from flows.calendar import appointment_date
from flows.steps.documents import guide_papers
from kiosk.ui.i18n import tr
from kiosk.ui.screens.step import StepScreen
from kiosk.ui.widgets.common import Column, Text, app, scroller, theme

_WEEKDAYS = {"vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
             "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}


def ready_text(processing_days: int, cutoff: str | None, lang: str) -> str:
    """When the result is ready, as a person says it ("Có kết quả trong ngày", not "0 ngày làm việc")."""
    days = int(processing_days or 0)
    if lang == "vi":
        if days == 0:
            return "Có kết quả ngay trong ngày" + (f" (nộp sau {cutoff} thì có vào ngày làm việc hôm sau)" if cutoff else "")
        return f"Có kết quả sau {days} ngày làm việc (không tính thứ Bảy, Chủ nhật, ngày lễ)"
    if days == 0:
        return "The result is ready the same day" + (f" (filed after {cutoff}: the next working day)" if cutoff else "")
    return f"The result is ready after {days} working day{'s' if days != 1 else ''} (not counting weekends and holidays)"


def day_text(day, lang: str) -> str:
    return f"{_WEEKDAYS[lang][day.weekday()]}, {day:%d/%m/%Y}"


class GuideScreen(StepScreen):
    def build_body(self, body):
        a = app()
        lang = a.lang
        flow = a.session.flow
        col = Column(spacing=14, padding=[0, 0, 16, 0])
        text = self.step_text()
        if text:
            col.add_widget(Text(text, role="body"))
        papers = guide_papers(flow)
        must = [p for p in papers if p.label == "must"]
        only_if = [p for p in papers if p.label != "must"]
        col.add_widget(Text(tr("guide.papers", lang), role="title", bold=True))
        if not papers:
            col.add_widget(Text(tr("guide.no_papers", lang), role="body"))
        def name(p):
            return "•  " + p.title(lang)

        if must:
            col.add_widget(Text(tr("guide.must", lang) + ":", role="body", bold=True))
            for p in must:
                col.add_widget(Text(name(p), role="body"))
        if only_if:
            col.add_widget(Text(tr("guide.only_if", lang) + ":", role="body", bold=True))
            for p in only_if:
                col.add_widget(Text(name(p), role="body"))
                # the paper's own "Chỉ khi …", under its name
                col.add_widget(Text("     " + p.note(lang), role="body", color=theme().muted))
        col.add_widget(Text(f"{tr('review.fee', lang)}: {fee_text(flow.fee, lang)}", role="title", bold=True))
        col.add_widget(Text(ready_text(flow.processing_days, flow.receipt_cutoff, lang), role="body", bold=True))
        due = appointment_date(clock.now(), flow.processing_days, flow.receipt_cutoff)
        col.add_widget(Text(f"{tr('guide.due_if_now', lang)}: {day_text(due, lang)}", role="body"))
        body.add_widget(scroller(col))
        self.add_footer(body)
