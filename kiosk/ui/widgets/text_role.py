"""What a line of text *is*, for the speech mode (kiosk/ui/access.py): an error, or a notice.

The speech mode says a line that appears on the screen by its role, never by its colour: red is
also the colour of a reminder ("Xin nhớ lấy lại thẻ căn cước…"), of a provisional receipt's title
and of a payment that needs the counter, and none of those is a mistake of the citizen's.

- ``ERROR``: something the citizen must put right (a field refused, a code not found, a card
  that could not be read): said as "Có lỗi: …" when it appears and in the screen's summary.
- ``NOTICE``: a warning or reminder (take the card back, pay at the counter): said as it is,
  when it appears and in the screen's summary.

A line without a role is read like any other text (only when the screen is read).
"""
from __future__ import annotations

ERROR = "error"
NOTICE = "notice"
ROLES = (ERROR, NOTICE)


def spoken_as(label, role: str | None):
    """Give ``label`` the speech role ``role`` (None: an ordinary line again); returns the label."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown text role {role!r}; known: {', '.join(ROLES)}")
    label.kiosk_speech = role
    return label


def role_of(label) -> str | None:
    return getattr(label, "kiosk_speech", None)
