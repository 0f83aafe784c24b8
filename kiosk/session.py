"""One citizen's visit, Kivy-free: what was collected, since when they were idle, and the wipe.

Personal values are registered with the log redactor while the visit lasts and forgotten by
``wipe()``, which also drops every reference to card data, answers and captured photos so
the next citizen can never see them.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from common import redact


@dataclass
class Attachment:
    document_id: str
    data: bytes
    media_type: str
    sha256: str
    preview_png: bytes | None = None


@dataclass
class Session:
    lang: str = "vi"
    large_text: bool = False
    high_contrast: bool = False
    flow: Any = None            # flows.Flow
    engine: Any = None          # flows.FlowEngine
    card: Any = None            # devices.idcard CardRead
    applicant: dict = field(default_factory=dict)
    applicant_source: str = ""  # chip | qr | typed
    # how the applicant was identified (the dossier's applicant.authentication: access control and
    # the chip's checks), kept so a procedure chosen after the card was read gets it too
    applicant_auth: dict = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)
    dossier_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    outcome: Any = None         # kiosk.services.SubmitOutcome
    started: float = field(default_factory=time.monotonic)
    last_activity: float = field(default_factory=time.monotonic)
    counters: dict[str, int] = field(default_factory=lambda: {"touches": 0, "typed": 0, "keys": 0})
    # accessibility (kiosk/ui/access.py): the speech mode, its rate and volume (None: the config's),
    # whether the citizen turned it off (the keypad then does not turn it on again by itself),
    # and how often the citizen asked for more time at the idle warning
    speech_mode: bool = False
    speech_declined: bool = False
    speech_rate: int | None = None
    speech_volume: float | None = None
    idle_extensions: int = 0

    def touched(self) -> None:
        self.last_activity = time.monotonic()
        self.counters["touches"] += 1

    def typed(self) -> None:
        self.last_activity = time.monotonic()
        self.counters["typed"] += 1

    def keyed(self) -> None:
        """A key of the keypad or a keyboard (navigation, speech): activity, not a touch."""
        self.last_activity = time.monotonic()
        self.counters["keys"] = self.counters.get("keys", 0) + 1

    def idle_seconds(self, now: float | None = None) -> float:
        return (now or time.monotonic()) - self.last_activity

    @property
    def has_personal_data(self) -> bool:
        return bool(self.card or self.applicant or self.attachments or (self.engine and self.engine.answers))

    def remember_personal(self, *values: Any) -> None:
        redact.remember(*values)

    def wipe(self) -> None:
        """Forget everything personal. Language and accessibility choices go too: a new visitor."""
        for att in self.attachments.values():
            att.data = b""
            att.preview_png = None
        self.attachments.clear()
        self.applicant.clear()
        self.applicant_source = ""
        self.applicant_auth = {}
        self.card = None
        self.engine = None
        self.flow = None
        self.outcome = None
        redact.forget_all()
