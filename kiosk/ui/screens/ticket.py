"""Queue ticket: pick the service (by field); the centre's queue gives the number (or the kiosk's
reserved block while it cannot be reached), printed with the people ahead and the estimated wait."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from common.errors import user_message
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.screens.step import error_text
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller
from kiosk.ui.widgets.reflow import huge_size, scroll_body


def ticket_screen_wait(outcome, lang: str) -> str:
    """"Trước Quý khách còn 7 người · chờ khoảng 25 phút", or, for a number given offline (the
    queue's length unknown here), "please wait to be called"."""
    if outcome.people_ahead is None:
        return tr("ticket.wait_call", lang)
    if outcome.estimated_wait_min is None:
        return tr("ticket.ahead", lang, n=outcome.people_ahead)
    return tr("ticket.ahead_wait", lang, n=outcome.people_ahead, min=outcome.estimated_wait_min)


class TicketScreen(KioskScreen):
    title_key = "ticket.title"
    own_footer = True  # back on the left; once the ticket is out, "Hoàn tất" on the right, always in sight

    def __init__(self, **kw):
        super().__init__(**kw)
        self.outcome = None

    def reset(self):
        self.outcome = None

    def on_pre_enter(self, *args):
        self.outcome = None
        super().on_pre_enter(*args)

    def build_body(self, body):
        a = app()
        lang = a.lang
        if self.outcome is not None and not self.outcome.number:
            # no number could be given: said plainly, with where to get one
            col = scroll_body(body)
            col.add_widget(BoxLayout())
            col.add_widget(error_text(user_message(self.outcome.refused, lang), halign="center"))
            col.add_widget(BoxLayout())
            body.add_widget(footer(self._back_button(),
                                   BigButton(tr("receipt.finish", lang), kind="primary", on_press=lambda: a.go("goodbye"))))
            return
        if self.outcome is not None:
            o = self.outcome
            # the words on one line, the number alone and huge below: what the citizen looks for
            # when called; centred while it fits, scrolling at ×2 text rather than spilling over
            # the title
            col = scroll_body(body)
            col.add_widget(BoxLayout())
            col.add_widget(Text(tr("ticket.your_number", lang), role="title", bold=True, halign="center"))
            number = Text(str(o.number), role="huge", bold=True, halign="center")
            number.font_size = huge_size()
            col.add_widget(number)
            col.add_widget(Text(o.service, role="title", halign="center"))
            col.add_widget(Text(ticket_screen_wait(o, lang), role="body", halign="center"))
            if o.printed:
                col.add_widget(Text(tr("receipt.printed", lang), role="body", halign="center"))
            else:
                col.add_widget(error_text(tr("receipt.print_failed", lang, reason=user_message(o.print_error, lang)),
                                          halign="center"))
            col.add_widget(BoxLayout())
            body.add_widget(footer(self._back_button(),
                                   BigButton(tr("receipt.finish", lang), kind="primary", on_press=lambda: a.go("goodbye"))))
            return
        body.add_widget(Text(tr("ticket.choose", lang), role="title", bold=True))
        col = Column(spacing=SPACING_MIN)
        for key, flows in a.services.registry.by_field().items():
            name = pick(flows[0].field, lang)
            col.add_widget(BigButton(name, kind="secondary", on_press=lambda k=key, n=pick(flows[0].field, "vi"): self._take(k, n)))
        body.add_widget(scroller(col))
        body.add_widget(footer(self._back_button(), Widget()))

    def _back_button(self):
        return BigButton(tr("nav.back", app().lang), kind="secondary", on_press=self.on_back)

    def _take(self, key, name):
        a = app()
        a.run_async(lambda: a.services.issue_ticket(str(key), name), on_done=self._issued)

    def _issued(self, outcome):
        self.outcome = outcome
        self.refresh()
