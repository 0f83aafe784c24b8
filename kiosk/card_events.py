"""Is a card on the reader? The reader's insert/remove events, handed to one listener. Kivy-free.

The identify screen starts a read when the card is laid down and the access key is already known,
and notices a card lifted mid-read; the goodbye and home screens remind a citizen who leaves the
card behind. Events come from pcscd (``SCardGetStatusChange`` in :mod:`devices.idcard.pcsc`) or
the simulated reader's ``sim_insert``/``sim_remove``.

A reader that is unplugged (or pcscd that is not running) at start is looked for again every
``retry_s`` seconds: plugging it in later is enough, as with every other device.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

Listener = Callable[[bool], None]


class CardEvents:
    def __init__(self, reader, retry_s: float = 5.0):
        self.reader = reader
        self.retry_s = retry_s
        self.present: bool | None = None      # None: not known (no reader yet)
        self._listener: Listener | None = None
        self._stop_watch: Callable[[], None] | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> "CardEvents":
        if self._thread is None:
            self._thread = threading.Thread(target=self._attach, name="card-events", daemon=True)
            self._thread.start()
        return self

    def listen(self, listener: Listener | None) -> None:
        """``listener(present)`` is called from a watcher thread on every change."""
        self._listener = listener

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            stop, self._stop_watch = self._stop_watch, None
        if stop is not None:
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - shutting down; the context goes with pcscd anyway
                log.debug("stopping the card watch: %s", exc)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- internals ---------------------------------------------------------------------------------
    def _attach(self) -> None:
        said = False
        while not self._stopped.is_set():
            try:
                stop = self.reader.watch(lambda: self._changed(True), lambda: self._changed(False))
            except Exception as exc:  # noqa: BLE001 - ReaderUnavailable and friends: look again later
                if not said:
                    log.warning("card reader events not available yet (%s); looking again every %.0f s",
                                type(exc).__name__, self.retry_s)
                    said = True
                self._stopped.wait(self.retry_s)
                continue
            with self._lock:
                if self._stopped.is_set():
                    stop()
                    return
                self._stop_watch = stop
            # the watcher reports changes only: the state it started from comes from one question,
            # asked after it started so that a card laid down in between is not missed
            self._changed(self.reader.card_present())
            log.info("card reader events on (%s)", getattr(self.reader, "name", "") or "reader")
            return

    def _changed(self, present: bool) -> None:
        with self._lock:  # the watcher thread and the first question may report at the same time
            if present == self.present:
                return
            self.present = present
        listener = self._listener
        if listener is not None:
            try:
                listener(present)
            except Exception:  # noqa: BLE001 - a screen's handler must not stop the events
                log.exception("card event listener failed")
