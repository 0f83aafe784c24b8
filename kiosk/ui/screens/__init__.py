"""Every screen of the kiosk, one module each; ``all_screens()`` builds them for the ScreenManager."""
from __future__ import annotations


def all_screens():
    from kiosk.ui.screens.documents import DocumentsScreen
    from kiosk.ui.screens.form import FormScreen
    from kiosk.ui.screens.guide import GuideScreen
    from kiosk.ui.screens.home import HomeScreen
    from kiosk.ui.screens.identify import IdentifyScreen
    from kiosk.ui.screens.lookup import LookupScreen
    from kiosk.ui.screens.maintenance import MaintenanceScreen, PinScreen
    from kiosk.ui.screens.picker import PickerScreen
    from kiosk.ui.screens.review import ConsentScreen, ReviewScreen
    from kiosk.ui.screens.submit import ReceiptScreen, SubmitScreen
    from kiosk.ui.screens.ticket import TicketScreen
    from kiosk.ui.screens.unit import UnitScreen
    from kiosk.ui.screens.visit_end import ErrorScreen, GoodbyeScreen, RatingScreen

    return [
        HomeScreen(name="home"),
        PickerScreen(name="picker"),
        GuideScreen(name="step-guide"),
        IdentifyScreen(name="step-identify"),
        FormScreen(name="step-form"),
        DocumentsScreen(name="step-documents"),
        UnitScreen(name="step-unit"),
        ReviewScreen(name="step-review"),
        ConsentScreen(name="step-consent"),
        SubmitScreen(name="step-submit"),
        ReceiptScreen(name="step-receipt"),
        TicketScreen(name="ticket"),
        LookupScreen(name="lookup"),
        RatingScreen(name="rating"),
        GoodbyeScreen(name="goodbye"),
        ErrorScreen(name="error"),
        PinScreen(name="pin"),
        MaintenanceScreen(name="maintenance"),
    ]
