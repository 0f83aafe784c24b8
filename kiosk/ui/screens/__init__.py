"""Every screen of the kiosk, one module each; ``all_screens()`` builds them for the ScreenManager.
The screens that show a flow's steps come from the step kinds' entries (kiosk/ui/steps)."""
from __future__ import annotations


def all_screens():
    from kiosk.ui.screens.home import HomeScreen
    from kiosk.ui.screens.lookup import LookupScreen
    from kiosk.ui.screens.maintenance import MaintenanceScreen, PinScreen
    from kiosk.ui.screens.pay import PayScreen
    from kiosk.ui.screens.picker import PickerScreen
    from kiosk.ui.screens.visit_end import ErrorScreen, GoodbyeScreen, RatingScreen
    from kiosk.ui.steps import ui_kinds

    steps = {}
    for entry in ui_kinds().values():  # one screen per name (a kind may share another's)
        steps.setdefault(entry.screen, entry)
    return [
        HomeScreen(name="home"),
        PickerScreen(name="picker"),
        *(entry.load_screen_class()(name=name) for name, entry in steps.items()),
        PayScreen(name="pay"),  # the fee by VietQR between submit and the receipt (issue 22)
        LookupScreen(name="lookup"),
        RatingScreen(name="rating"),
        GoodbyeScreen(name="goodbye"),
        ErrorScreen(name="error"),
        PinScreen(name="pin"),
        MaintenanceScreen(name="maintenance"),
    ]
