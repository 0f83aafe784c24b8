"""Every screen of the kiosk, one module each; ``all_screens()`` builds them for the ScreenManager."""
from __future__ import annotations


def all_screens():
    from kiosk.screens.documents import DocumentsScreen
    from kiosk.screens.form import FormScreen
    from kiosk.screens.guide import GuideScreen
    from kiosk.screens.home import HomeScreen
    from kiosk.screens.identify import IdentifyScreen
    from kiosk.screens.lookup import LookupScreen
    from kiosk.screens.maintenance import MaintenanceScreen, PinScreen
    from kiosk.screens.picker import PickerScreen
    from kiosk.screens.review import ConsentScreen, ReviewScreen
    from kiosk.screens.submit import ReceiptScreen, SubmitScreen
    from kiosk.screens.ticket import TicketScreen
    from kiosk.screens.unit import UnitScreen
    from kiosk.screens.visit_end import ErrorScreen, GoodbyeScreen, RatingScreen

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
