"""Queue ticket: pick the service (by field); the centre's queue gives the number (or the kiosk's
reserved block while it cannot be reached), printed with the people ahead and the estimated wait."""
from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from common.errors import user_message
from flows.text import slug
from kiosk.services import ticket_wait_text
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.screens.step import error_text
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller
from kiosk.ui.widgets.reflow import huge_size, scroll_body


def ticket_screen_wait(outcome, lang: str) -> str:
    """The people ahead and the wait (kiosk.services.ticket_wait_text, as printed), or, for a
    number given offline (the queue's length unknown here), "please wait to be called"."""
    return ticket_wait_text(outcome, lang) or tr("ticket.wait_call", lang)


class TicketScreen(KioskScreen):
    title_key = "ticket.title"
    own_footer = True  # back on the left; once the ticket is out, "Hoàn tất" on the right, always in sight

    def __init__(self, **kw):
        super().__init__(**kw)
        self.outcome = None
        # (service key, service name, dossier code) when the receipt sent the citizen here to take
        # a number for the counter where the originals are shown: taken at once, no choice to make
        self.request: tuple[str, str, str] | None = None

    def reset(self):
        self.outcome = None
        self.request = None

    def on_pre_enter(self, *args):
        self.outcome = None
        super().on_pre_enter(*args)
        if self.request is not None:
            self._take(*self.request)

    def for_dossier(self, field_vi: str, dossier_code: str) -> None:
        """Come here from the receipt: a number for the procedure's field, carrying the dossier."""
        self.request = (slug(field_vi), field_vi, dossier_code)
        app().go("ticket")

    def build_body(self, body):
        a = app()
        lang = a.lang
        if self.request is not None and self.outcome is None:  # the number is on its way (3 s at most)
            col = scroll_body(body)
            col.add_widget(BoxLayout())
            col.add_widget(Text(tr("ticket.taking", lang), role="title", halign="center"))
            col.add_widget(BoxLayout())
            return
        if self.outcome is not None and not self.outcome.number:
            # no number could be given: said plainly, with where to get one
            col = scroll_body(body)
            col.add_widget(BoxLayout())
            col.add_widget(error_text(user_message(self.outcome.refused, lang), halign="center"))
            col.add_widget(BoxLayout())
            body.add_widget(footer(self._back_button(),
                                   BigButton(tr("receipt.finish", lang), kind="primary", on_press=self._finish)))
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
                col.add_widget(Text(tr("ticket.printed", lang), role="body", halign="center"))
            else:
                col.add_widget(error_text(tr("receipt.print_failed", lang, reason=user_message(o.print_error, lang)),
                                          halign="center"))
            col.add_widget(BoxLayout())
            body.add_widget(footer(self._back_button(),
                                   BigButton(tr("receipt.finish", lang), kind="primary", on_press=self._finish)))
            return
        body.add_widget(Text(tr("ticket.choose", lang), role="title", bold=True))
        col = Column(spacing=SPACING_MIN)
        for field_vi, flows in a.services.registry.by_field().items():
            name = pick(flows[0].field, lang)
            # the queue's service key: the same for this field on every kiosk of the centre
            col.add_widget(BigButton(name, kind="secondary",
                                     on_press=lambda k=slug(field_vi), n=field_vi: self._take(k, n)))
        body.add_widget(scroller(col))
        body.add_widget(footer(self._back_button(), Widget()))

    def _back_button(self):
        return BigButton(tr("nav.back", app().lang), kind="secondary", on_press=self.on_back)

    def _take(self, key, name, dossier_code=""):
        a = app()
        a.run_async(lambda: a.services.issue_ticket(str(key), name, dossier_code), on_done=self._issued)

    def _finish(self):
        # after a filed dossier the visit goes on to the rating, as "Hoàn tất" on the receipt does
        app().go("rating" if self.request is not None else "goodbye")

    def _issued(self, outcome):
        self.outcome = outcome
        self.refresh()
