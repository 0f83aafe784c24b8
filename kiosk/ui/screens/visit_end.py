"""The end of a visit: the rating, the goodbye that wipes the session, and the error screen."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout

from flows.text import slug
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Row, Text, app, theme
from kiosk.ui.widgets.reflow import huge_size, scroll_body
from kiosk.ui.widgets.text_role import NOTICE, spoken_as


class RatingScreen(KioskScreen):
    title_key = "rating.title"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.level = None

    def on_pre_enter(self, *args):
        self.level = None
        super().on_pre_enter(*args)

    def build_body(self, body):
        # the question is the screen's title (the title block): not said a second time here.
        # The body scrolls rather than spill over the title at ×2 text.
        lang = app().lang
        col = scroll_body(body, spacing=24)
        if self.level != "not":
            col.add_widget(BoxLayout())
            row = Row(spacing=SPACING_MIN * 2, height=280)
            # three answers of equal weight: none is "the" action, so none is filled
            for level, key, kind in (("very", "rating.very", "secondary"), ("ok", "rating.ok", "secondary"),
                                     ("not", "rating.not", "secondary")):
                row.add_widget(BigButton(tr(key, lang), kind=kind, height=280,
                                         font_size=app().sizes["title"], on_press=lambda l=level: self._rate(l)))
            col.add_widget(row)
            col.add_widget(BoxLayout())
        else:
            col.add_widget(Text(tr("rating.why", lang), role="body", bold=True))
            for reason in ("wait", "hard", "staff", "other"):
                col.add_widget(BigButton(tr(f"rating.reason.{reason}", lang), kind="secondary",
                                         on_press=lambda r=reason: self._done("not", r)))
            col.add_widget(BoxLayout())

    def _rate(self, level):
        if level == "not":
            self.level = "not"
            self.refresh()
        else:
            self._done(level, "")

    def _done(self, level, reason):
        a = app()
        # after a dossier the rating is about that procedure's field (the queue's service key), so the
        # centre sees satisfaction per service; from home it is about the centre as a whole
        flow = a.session.flow
        service = slug(flow.field["vi"]) if flow is not None else ""
        a.run_async(lambda: a.services.record_rating(level, reason, service))
        a.go("goodbye")


class _ClosingScreen(KioskScreen):
    """A message, then home by itself after ``delay_s`` (or at once with the button)."""

    show_back = False
    show_restart = False
    text_key = ""
    delay_s = 5
    huge = False

    def on_enter(self, *args):
        self._ev = Clock.schedule_once(lambda *_: app().end_session(), self.delay_s)

    def on_leave(self, *args):
        if getattr(self, "_ev", None):
            self._ev.cancel()

    def color(self):
        return theme().fg

    def build_body(self, body):
        # centred while it fits; at ×2 text it scrolls instead of spilling over the title
        lang = app().lang
        col = self.column = scroll_body(body)
        col.add_widget(BoxLayout())
        message = Text(tr(self.title_key, lang), role="huge" if self.huge else "title", bold=True,
                       halign="center", color=self.color())
        if self.huge:
            message.font_size = huge_size()
        col.add_widget(message)
        col.add_widget(Text(tr(self.text_key, lang), role="body", halign="center"))
        col.add_widget(BoxLayout())
        col.add_widget(BigButton(tr("nav.home", lang), kind="primary", on_press=lambda: app().end_session()))


class GoodbyeScreen(_ClosingScreen):
    title_key, text_key, delay_s, huge = "goodbye.title", "goodbye.text", 5, True

    def on_pre_enter(self, *args):
        app().session.wipe()  # at once: the seconds of "thank you" hold nothing personal
        super().on_pre_enter(*args)

    def build_body(self, body):
        super().build_body(body)
        if app().services.card_present:  # the card is easy to forget once the receipt is in hand
            # a reminder, not an error: said as it is (kiosk/ui/widgets/text_role.py)
            self.column.add_widget(spoken_as(Text("▣  " + tr("card.take_back", app().lang), role="title", bold=True,
                                                  halign="center", color=theme().danger), NOTICE), index=1)

    def on_card(self, present: bool) -> None:
        self.refresh()  # the reminder goes as soon as the card is taken

    def color(self):
        return theme().ok


class ErrorScreen(_ClosingScreen):
    title_key, text_key, delay_s = "error.title", "error.text", 8

    def color(self):
        return theme().danger
