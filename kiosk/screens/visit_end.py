"""The end of a visit: the rating, the goodbye that wipes the session, and the error screen."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import tr
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BigButton, Text, app, theme


class RatingScreen(KioskScreen):
    title_key = "rating.title"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.level = None

    def on_pre_enter(self, *args):
        self.level = None
        super().on_pre_enter(*args)

    def build_body(self, body):
        lang = app().lang
        body.add_widget(Text(tr("rating.title", lang), role="title", bold=True, halign="center"))
        if self.level != "not":
            row = BoxLayout(spacing=24)
            for level, key, kind in (("very", "rating.very", "ok"), ("ok", "rating.ok", "primary"),
                                     ("not", "rating.not", "secondary")):
                row.add_widget(BigButton(tr(key, lang), kind=kind, size_hint_y=1, height=200,
                                         font_size=app().sizes["title"], on_press=lambda l=level: self._rate(l)))
            body.add_widget(row)
        else:
            body.add_widget(Text(tr("rating.why", lang), role="body", bold=True))
            for reason in ("wait", "hard", "staff", "other"):
                body.add_widget(BigButton(tr(f"rating.reason.{reason}", lang), kind="secondary",
                                          on_press=lambda r=reason: self._done("not", r)))
            body.add_widget(BoxLayout())

    def _rate(self, level):
        if level == "not":
            self.level = "not"
            self.refresh()
        else:
            self._done(level, "")

    def _done(self, level, reason):
        a = app()
        a.run_async(lambda: a.services.record_rating(level, reason))
        a.go("goodbye")


class GoodbyeScreen(KioskScreen):
    title_key = "goodbye.title"
    show_back = False
    show_restart = False

    def on_enter(self, *args):
        a = app()
        lang = a.lang
        a.session.wipe()  # at once: the next 5 seconds of "thank you" hold nothing personal
        self._ev = Clock.schedule_once(lambda *_: a.end_session(), 5)
        self.lang = lang

    def on_leave(self, *args):
        if getattr(self, "_ev", None):
            self._ev.cancel()

    def build_body(self, body):
        lang = app().lang
        body.add_widget(BoxLayout())
        body.add_widget(Text(tr("goodbye.title", lang), role="huge", bold=True, halign="center", color=theme().ok))
        body.add_widget(Text(tr("goodbye.text", lang), role="body", halign="center"))
        body.add_widget(BoxLayout())
        body.add_widget(BigButton(tr("nav.home", lang), kind="primary", on_press=lambda: app().end_session()))


class ErrorScreen(KioskScreen):
    title_key = "error.title"
    show_back = False
    show_restart = False

    def on_enter(self, *args):
        self._ev = Clock.schedule_once(lambda *_: app().end_session(), 8)

    def on_leave(self, *args):
        if getattr(self, "_ev", None):
            self._ev.cancel()

    def build_body(self, body):
        lang = app().lang
        body.add_widget(BoxLayout())
        body.add_widget(Text(tr("error.title", lang), role="title", bold=True, halign="center", color=theme().danger))
        body.add_widget(Text(tr("error.text", lang), role="body", halign="center"))
        body.add_widget(BoxLayout())
        body.add_widget(BigButton(tr("nav.home", lang), kind="primary", on_press=lambda: app().end_session()))
