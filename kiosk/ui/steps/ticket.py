"""ticket on the kiosk: kiosk.ui.screens.ticket.TicketScreen, the same screen as home's "Take a queue
number". The scripted citizen takes a number for the first service and finishes."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def citizen(w, label: str) -> bool:
    from kiosk.ui.i18n import pick

    app = w.app
    screen = app.sm.current_screen
    w.shot(label)
    if screen.outcome is None:
        first = next(iter(app.services.registry.by_field().values()))
        w.d.tap(pick(first[0].field, app.lang), exact=True)
        w.d.wait_for(lambda: screen.outcome is not None, 30, "the ticket")
    w.res.code = str(screen.outcome.number)
    w.shot(label + "-number")
    if not w.finish:
        return True
    w.tap("receipt.finish")
    w.d.wait_screen("goodbye")
    w.shot("goodbye")
    return True


UI = StepUI("ticket", "ticket", "kiosk.ui.screens.ticket:TicketScreen", citizen=citizen)
