"""Home: four big choices. Nothing personal is on this screen, ever."""
from __future__ import annotations

from kivy.uix.gridlayout import GridLayout

from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets.common import BigButton, Text, app, theme
from kiosk.ui.widgets.reflow import scroll_body
from kiosk.ui.widgets.text_role import NOTICE, spoken_as


class HomeScreen(KioskScreen):
    show_back = False
    show_restart = False

    def title(self) -> str:
        if app().services.out_of_service is not None:
            return tr("home.sorry", app().lang)  # not "what do you need?" when nothing can be offered
        return tr("home.welcome", app().lang)

    def build_body(self, body):
        lang = app().lang
        broken = app().services.out_of_service
        if broken is not None:  # no verified procedures or an unfit configuration: no citizen is served
            from kivy.uix.boxlayout import BoxLayout

            body.add_widget(BoxLayout())
            body.add_widget(spoken_as(Text(tr("home.maintenance", lang), role="huge", bold=True, halign="center",
                                           color=theme().danger), NOTICE))
            body.add_widget(Text(tr("home.maintenance_text", lang), role="title", halign="center"))
            body.add_widget(BoxLayout())
            # for the technician who comes: what is wrong, in both languages
            body.add_widget(Text(f"{broken.message_vi}\n{broken.message_en}", role="body", halign="center",
                                 color=theme().muted))
            return
        # in a scroll area with buttons that grow with their words: at ×2 text the four choices
        # take two lines each and the hints go below them, nothing drawn over anything
        col = scroll_body(body)
        grid = GridLayout(cols=2, spacing=28, padding=[0, 12], size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        tall = 320 if not app().session.large_text else 240
        for key, kind, target in (
            ("home.procedure", "primary", "picker"),
            ("home.ticket", "secondary", "ticket"),
            ("home.lookup", "secondary", "lookup"),
            ("home.rating", "secondary", "rating"),
        ):
            grid.add_widget(BigButton(tr(key, lang), kind=kind, height=tall,
                                      font_size=app().sizes["title"], on_press=lambda t=target: self._choose(t)))
        col.add_widget(grid)
        self.hint = Text(tr("home.hint", lang), role="body", color=theme().muted, halign="center")
        col.add_widget(self.hint)
        col.add_widget(Text(tr("home.speech_hint", lang), role="body", color=theme().muted, halign="center"))
        if app().card_left_behind:  # the last citizen's card is still on the reader
            # a reminder, not an error: said as it is (kiosk/ui/widgets/text_role.py)
            body.add_widget(spoken_as(Text("▣  " + tr("card.take_back", lang), role="title", bold=True,
                                           halign="center", color=theme().danger), NOTICE), index=0)

    def speech_intro(self) -> str:
        """What the speech mode says on arrival, after the title: how to find help and the keys."""
        lang = app().lang
        return f'{tr("home.hint", lang)} {tr("home.speech_hint", lang)}'

    def on_card(self, present: bool) -> None:
        if not present:
            self.refresh()

    def _choose(self, target: str) -> None:
        if target == "picker" and not app().services.filing_available:
            self.hint.text = tr("home.no_filing", app().lang)
            self.hint.color = theme().danger
            spoken_as(self.hint, NOTICE)
            return
        app().go(target)
