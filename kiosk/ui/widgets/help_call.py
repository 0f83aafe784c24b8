"""The "Gọi cán bộ hỗ trợ" panel (issue 18): a person one touch away, from every screen.

``open_help_call()`` is what the header's button calls. The first touch in a visit sends a call
(``KioskServices.call_help``, in a worker thread: the outbox keeps it when central cannot be
reached); the panel then says "Đang gọi cán bộ…", "Cán bộ đang đến" once a staff member
acknowledges it (asked every few seconds in a worker), or, offline, that the call is kept and the
information desk is there too; it counts the time waited each second. "Hủy gọi" cancels the call;
"Đóng" only closes the panel: the call stays, and opening the panel again shows the same call.
One call per visit: ``forget_help_call()`` (the app's ``end_session`` calls it) cancels a call
still waiting and forgets it, so the next visitor starts with none.

The panel's root (the ModalView) has ``speech_text``: what speech mode says when it opens (kept up
to date as the call's state changes).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.ui.i18n import pick, tr
from kiosk.ui.theme import TOUCH_MIN
from kiosk.ui.widgets.common import Background, BigButton, Column, Row, Text, app, scroller, sizes, theme

log = logging.getLogger(__name__)

POLL_S = 3.0              # how often the panel asks whether a staff member acknowledged
KEEP_AWAKE_S = 30 * 60    # as long as a call is sent at all (kiosk.services.HELP_CALL_MAX_AGE)


@dataclass
class _Visit:
    """The help call of one visit (one ``app().session``)."""

    session: object
    pressed: float = field(default_factory=time.monotonic)  # the first touch: the time waited counts from it
    call: object = None       # kiosk.services.HelpCall once the worker has made it
    sending: bool = True
    error: object = None      # why the call could not be made at all (no outbox and no network)
    forgotten: bool = False   # the visit ended while the call was still being made


_visit: _Visit | None = None
_panel: "HelpCallPanel | None" = None


def open_help_call() -> "HelpCallPanel":
    """Open the panel: a new call the first time in a visit, else the visit's call as it stands."""
    global _visit, _panel
    a = app()
    if _visit is not None and _visit.session is not a.session:
        forget_help_call()  # a new visitor and nobody told us: the last one's call is not theirs
    if _visit is not None and _visit.call is not None and not _visit.call.active and not _visit.sending:
        _visit = None  # cancelled or expired: a touch now is a new call
    if _panel is not None and _panel.is_open:
        return _panel
    new = _visit is None
    if new:
        _visit = _Visit(a.session)
    _panel = HelpCallPanel(_visit)
    _panel.open()
    if new:
        _send(_visit)
    return _panel


def forget_help_call() -> None:
    """The visit ends: close the panel, cancel a call still waiting (in a worker) and forget it."""
    global _visit, _panel
    visit, panel = _visit, _panel
    _visit, _panel = None, None
    if panel is not None:
        panel.close()
    if visit is None:
        return
    visit.forgotten = True
    call = visit.call
    if call is not None and call.state in ("sent", "queued_offline"):
        _cancel_in_background(call)


def current_call():
    """The visit's call (``kiosk.services.HelpCall``), or None: for tests and the header button."""
    return _visit.call if _visit is not None else None


def _send(visit: _Visit) -> None:
    a = app()
    session = a.session
    engine, flow = session.engine, getattr(session, "flow", None)
    step = engine.step if engine is not None and not engine.done else None
    args = dict(
        flow_id=flow.id if flow is not None else "",
        step_id=step.id if step is not None else "",
        step_title=pick(step.title, a.lang) if step is not None else "",
        screen=a.sm.current if getattr(a, "sm", None) is not None else "",
        waiting_s=time.monotonic() - session.started,
        language=a.lang,
    )

    def done(call):
        visit.call, visit.sending = call, False
        if visit.forgotten:  # the visit ended while the call was being made
            if call.active:
                _cancel_in_background(call)
            return
        if _panel is not None and _panel.visit is visit:
            _panel.show()
            _panel.start_polling()

    def failed(exc):
        visit.error, visit.sending = exc, False
        if _panel is not None and _panel.visit is visit:
            _panel.show()

    a.run_async(lambda: a.services.call_help(**args), on_done=done, on_error=failed)


def _cancel_in_background(call) -> None:
    services = app().services

    def work():
        try:
            services.cancel_help_call(call)
        except Exception as exc:  # noqa: BLE001 - the citizen has moved on; the log says why
            log.warning("help call %s: cancel failed: %s", call.uuid[:8], type(exc).__name__)

    threading.Thread(target=work, name="help-call-cancel", daemon=True).start()


def waited_text(seconds: int, lang: str) -> str:
    """"Đã chờ 1 phút 05 giây" / "Waiting for 1 min 05 s"."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    if minutes:
        return tr("help_call.waited_min", lang, m=minutes, s=secs)
    return tr("help_call.waited_s", lang, s=secs)


class HelpCallPanel(ModalView):
    def __init__(self, visit: _Visit, **kw):
        super().__init__(size_hint=(0.72, None), auto_dismiss=False, **kw)
        self.visit = visit
        self.is_open = False
        self.speech_text = ""
        self._stop = threading.Event()
        self._polling = False
        self._tick_event = None
        lang = app().lang
        box = BoxLayout(orientation="vertical", padding=40, spacing=24)
        Background.paint(box, theme().bg, radius=16)
        body = Column(spacing=24)
        self.title = Text(tr("help_call.title", lang), role="title", bold=True, halign="center")
        self.status = Text("", role="title", bold=True, halign="center")
        self.status.font_size = int(sizes()["title"] * 1.4)  # the answer the citizen waits for: the largest words
        self.detail = Text("", role="body", halign="center")
        self.waited = Text("", role="body", halign="center")
        for w in (self.title, self.status, self.detail, self.waited):
            body.add_widget(w)
        box.add_widget(scroller(body))  # ×2 text: the words scroll, the buttons stay
        height = max(TOUCH_MIN + 16, int(sizes()["button"] * 1.5))
        buttons = Row(spacing=24, height=height)
        self.cancel_button = BigButton(tr("help_call.cancel", lang), kind="secondary", on_press=self._cancel, height=height)
        self.close_button = BigButton(tr("help_call.close", lang), kind="primary", on_press=self.close, height=height)
        buttons.add_widget(self.cancel_button)
        buttons.add_widget(self.close_button)
        box.add_widget(buttons)
        self.add_widget(box)

        def fit(*_):  # as tall as its words need, at most 85 % of the screen (then they scroll)
            from kivy.core.window import Window

            self.height = min(Window.height * 0.85, body.minimum_height + height + 24 + 80)

        body.bind(minimum_height=fit)
        fit()
        self.bind(on_dismiss=self._dismissed)
        self.show()

    # --- life ---------------------------------------------------------------------------------------
    def open(self, *args, **kw):
        self.is_open = True
        kw.setdefault("animation", False)
        super().open(*args, **kw)
        # twice a second: the time waited moves each second, and the visit is kept awake well
        # inside the app's own once-a-second idle check
        self._tick_event = Clock.schedule_interval(self._tick, 0.5)
        if self.visit.call is not None and self.visit.call.active:
            self.start_polling()

    def close(self) -> None:
        """"Đóng": the panel goes, the call stays (the visit keeps it)."""
        self.dismiss(animation=False)

    def _dismissed(self, *_):
        self.is_open = False
        self._stop.set()
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None

    def start_polling(self) -> None:
        if self._polling or not self.is_open:
            return
        self._polling = True
        call, stop, services = self.visit.call, self._stop, app().services

        def loop():
            while not stop.wait(POLL_S):
                try:
                    services.help_call_state(call)
                except Exception as exc:  # noqa: BLE001 - the next look may work; the panel stays
                    log.warning("help call %s: state unknown: %s", call.uuid[:8], type(exc).__name__)
                Clock.schedule_once(lambda *_: self.show() if self.is_open else None)
                if not call.active:
                    return

        threading.Thread(target=loop, name="help-call-poll", daemon=True).start()

    def _cancel(self) -> None:
        """"Hủy gọi": the call is cancelled (in a worker) and the panel goes."""
        global _visit
        visit = self.visit
        if _visit is visit:
            _visit = None
        visit.forgotten = True
        if visit.call is not None and visit.call.state in ("sent", "queued_offline", "acknowledged"):
            _cancel_in_background(visit.call)
        self.close()

    def _tick(self, _dt) -> None:
        waited = time.monotonic() - self.visit.pressed
        self.waited.text = waited_text(int(waited), app().lang)
        call = self.visit.call
        if (self.visit.sending or (call is not None and call.active)) and waited < KEEP_AWAKE_S:
            # someone waiting for a staff member is not an idle visitor: the visit is not wiped
            # under them (not counted as a touch either)
            app().session.last_activity = time.monotonic()

    # --- what it says -----------------------------------------------------------------------------
    def show(self) -> None:
        lang = app().lang
        call, visit = self.visit.call, self.visit
        if visit.sending:
            status, detail = tr("help_call.calling", lang), ""
        elif call is None:  # the call could not be made at all
            status, detail = tr("help_call.failed_title", lang), tr("help_call.failed", lang)
        elif call.state == "acknowledged":
            status, detail = tr("help_call.coming", lang), tr("help_call.coming_text", lang)
        elif call.state == "sent":
            status, detail = tr("help_call.calling", lang), tr("help_call.sent", lang)
        elif call.state == "queued_offline":
            status, detail = tr("help_call.calling", lang), tr("help_call.offline", lang)
        elif call.state == "expired":
            status, detail = tr("help_call.failed_title", lang), tr("help_call.expired", lang)
        else:  # cancelled (by staff's side or another screen): nothing waits any more
            status, detail = tr("help_call.cancelled", lang), ""
        self.title.text = tr("help_call.title", lang)
        self.status.text, self.detail.text = status, detail
        self.waited.text = waited_text(int(time.monotonic() - visit.pressed), lang)
        self.cancel_button.text = tr("help_call.cancel", lang)
        self.close_button.text = tr("help_call.close", lang)
        # what speech mode says on opening: the state, what to do, and the two buttons
        self.speech_text = " ".join(t for t in (
            tr("help_call.title", lang) + ".", status, detail,
            tr("help_call.buttons", lang)) if t)
