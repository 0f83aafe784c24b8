"""Submit (outbox first, then central) and the receipt, shown on screen as it was printed."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.progressbar import ProgressBar

from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.widgets.common import BigButton, Column, Text, app, theme


class SubmitScreen(StepScreen):
    show_back = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sending = False

    def on_pre_enter(self, *args):
        self.sending, self.error = False, ""
        super().on_pre_enter(*args)

    def build_body(self, body):
        lang = app().lang
        self.add_intro(body)
        if self.sending:
            body.add_widget(Text(tr("submit.sending", lang), role="title", bold=True, halign="center"))
            self.bar = ProgressBar(max=100, value=10, size_hint_y=None, height=40)
            body.add_widget(self.bar)
            self._ev = Clock.schedule_interval(lambda *_: setattr(self.bar, "value", min(95, self.bar.value + 5)), 0.2)
            body.add_widget(BoxLayout())
            return
        if getattr(self, "error", ""):
            body.add_widget(error_text(self.error))
        body.add_widget(BoxLayout())
        body.add_widget(BigButton(tr("submit.button", lang), kind="primary", height=140, on_press=self._submit))
        body.add_widget(BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back))

    def _submit(self):
        if self.sending:
            return  # one dossier, one submit: a double tap must not file twice
        a = app()
        self.sending = True
        self.refresh()
        a.run_async(lambda: a.services.submit(a.session), on_done=self._done, on_error=self._failed)

    def _done(self, outcome):
        a = app()
        Clock.unschedule(self._ev) if hasattr(self, "_ev") else None
        a.session.outcome = outcome
        a.next_step()

    def _failed(self, exc):
        # the outbox write itself failed (disk full, broken storage): nothing was filed
        self.sending = False
        self.error = user_message(exc, app().lang, "Không lưu được hồ sơ trên ki-ốt. Xin báo cán bộ tại quầy.",
                                  "The kiosk could not store your application. Please tell the staff at the desk.")
        self.refresh()


class ReceiptScreen(StepScreen):
    show_back = False

    def build_body(self, body):
        a = app()
        lang = a.lang
        out = a.session.outcome
        if out is None:
            body.add_widget(Text("—", role="body"))
            return
        row = BoxLayout(spacing=24)
        left = Column(spacing=16)
        left.add_widget(Text(tr("receipt.title", lang), role="title", bold=True,
                             color=theme().ok if not out.provisional else theme().danger))
        left.add_widget(Text(tr("receipt.code", lang, code=out.code), role="title", bold=True))
        if out.appointment_date:
            left.add_widget(Text(f"{tr('review.appointment', lang)}: {out.appointment_date.strftime('%d/%m/%Y')}",
                                 role="body"))
        if out.provisional:
            left.add_widget(error_text(tr("receipt.provisional", lang, code=out.code)))
        if out.printed:
            left.add_widget(Text(tr("receipt.printed", lang), role="body"))
        else:
            left.add_widget(error_text(tr("receipt.print_failed", lang, reason=user_message(out.print_error, lang))))
        holder = BoxLayout(orientation="vertical", size_hint_x=0.55)
        holder.add_widget(left)
        holder.add_widget(BoxLayout())
        row.add_widget(holder)
        if out.preview_png:
            from io import BytesIO

            from kivy.core.image import Image as CoreImage

            img = Image(size_hint_x=0.45)
            img.texture = CoreImage(BytesIO(out.preview_png), ext="png").texture
            row.add_widget(img)
        body.add_widget(row)
        body.add_widget(BigButton(tr("receipt.finish", lang), kind="primary", on_press=lambda: a.go("rating")))
