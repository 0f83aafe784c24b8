"""The Kivy application: screens, the citizen session, idle wipe, errors, threads.

Kivy owns the main thread. Anything that may block (card, printer, camera, network) goes through
``run_async`` and comes back with ``Clock.schedule_once``; a stuck device never freezes the screen.
"""
from __future__ import annotations

import logging
import math
import threading
import time
import traceback

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from common import clock
from kiosk.config import Config
from kiosk.services import KioskServices
from kiosk.session import Session
from kiosk.ui.steps import screen_for
from kiosk.ui.theme import FONT_SIZES, HIGH_CONTRAST, NORMAL

log = logging.getLogger(__name__)


class _FriendlyErrors(ExceptionHandler):
    """Any exception escaping a callback: log it (redacted), show the error screen, go home."""

    def __init__(self, app: "KioskApp"):
        self.app = app

    def handle_exception(self, exc):
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        log.error("unexpected error: %s", "".join(traceback.format_exception(exc)))
        try:
            self.app.show_error()
        except Exception:  # noqa: BLE001 - never loop on the error screen itself
            log.exception("error screen failed")
        return ExceptionManager.PASS


class KioskApp(App):
    title = "Ki-ốt dịch vụ công"

    def __init__(self, cfg: Config, services: KioskServices | None = None, **kw):
        super().__init__(**kw)
        fix_mmap_threshold()
        self.cfg = cfg
        self.services = services or KioskServices(cfg)
        self.session = Session(lang=cfg["kiosk"]["language"])
        self.input_method = "telex"
        self.focused_field = None
        self._qr_listener = None
        self._qr_thread = None
        self.card_left_behind = False  # a card still on the reader when the last visit ended
        self._stopping = threading.Event()
        self._workers: set[threading.Thread] = set()
        self._secret_taps: list[float] = []
        self.idle_modal = None
        self.on_screen_change = []  # test/demo hooks: called with the new screen's name

    # --- look ---------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.session.lang

    @property
    def theme(self):
        return HIGH_CONTRAST if self.session.high_contrast else NORMAL

    @property
    def sizes(self) -> dict:
        return FONT_SIZES["large" if self.session.large_text else "normal"]

    def build(self):
        from kiosk.ui.screens import all_screens

        register_fonts()
        self._errors_handler = _FriendlyErrors(self)
        ExceptionManager.add_handler(self._errors_handler)
        Window.clearcolor = self.theme.bg
        self.sm = ScreenManager(transition=NoTransition())
        for screen in all_screens():
            self.sm.add_widget(screen)
        self.sm.bind(current=lambda _sm, name: [h(name) for h in list(self.on_screen_change)])
        root = FloatLayout()
        root.add_widget(self.sm)
        Window.bind(on_touch_down=self._on_any_touch, on_textinput=self._on_textinput, on_key_down=self._on_key_down)
        self._idle_event = Clock.schedule_interval(self._idle_tick, 1.0)
        return root

    def on_start(self):
        threading.Thread(target=self._start_services, name="services-start", daemon=True).start()
        self._qr_thread = threading.Thread(target=self._qr_loop, name="qr-listener", daemon=True)
        self._qr_thread.start()

    def _start_services(self):
        if self.services.registry is None:
            self.services.start()
        if self.services.card_events is not None:
            self.services.card_events.listen(self._card_event)
        Clock.schedule_once(lambda *_: self.sm.current_screen.refresh() if self.sm.current == "home" else None)

    def on_stop(self):
        self._stopping.set()
        # the QR listener first: a thread still inside OpenCV or zbar when the interpreter exits is
        # killed mid-C++ ("terminate called without an active exception", SIGABRT)
        if self._qr_thread is not None:
            self._qr_thread.join(5)
        self.services.stop()  # closing the devices ends the reads still under way
        end = time.monotonic() + 5
        for t in list(self._workers):
            t.join(max(0.0, end - time.monotonic()))
        self._let_go_of_the_window()

    def _let_go_of_the_window(self) -> None:
        """Kivy's window, clock and exception manager outlive the app in the same process (the
        tests and the demo start one app after another): unbind every handler, cancel every tick
        and take every widget off the window, or the stopped app would keep taking keys and
        touches, going idle and drawing over the next one. (Kivy's own App.stop removes the
        window's children while iterating over them, which skips every other one.)"""
        from kivy.uix.modalview import ModalView

        try:
            screen = self.sm.current_screen
            if screen is not None:
                screen.dispatch("on_leave")  # a screen's own ticks (camera preview, progress) stop there
        except Exception:  # noqa: BLE001 - stopping must finish whatever a screen does
            log.exception("leaving the last screen at stop failed")
        Window.unbind(on_touch_down=self._on_any_touch, on_textinput=self._on_textinput, on_key_down=self._on_key_down)
        if getattr(self, "_idle_event", None) is not None:
            self._idle_event.cancel()
        if self.__dict__.get("_access") is not None:  # made on first use only
            self._access.close()
        if getattr(self, "_errors_handler", None) in ExceptionManager.handlers:
            ExceptionManager.remove_handler(self._errors_handler)
        for child in list(Window.children):
            if isinstance(child, ModalView):
                child.dismiss(animation=False)
            if child.parent is Window:
                Window.remove_widget(child)

    # --- navigation -------------------------------------------------------------------------------
    def go(self, name: str) -> None:
        self.focus_field(None)
        if self.sm.current == name:
            self.sm.current_screen.refresh()
        else:
            self.sm.current = name

    def start_flow(self, flow) -> None:
        from flows import FlowEngine

        k = self.cfg["kiosk"]
        self.session.flow = flow
        self.session.engine = FlowEngine(flow, today=clock.today(), kiosk_unit={
            "province_code": k["province_code"], "commune_code": k["commune_code"], "name": k["commune"]})
        self.show_step()

    def show_step(self) -> None:
        self.go(screen_for(self.session.engine.step.kind))  # each kind names its screen: kiosk/ui/steps

    def next_step(self) -> bool:
        engine = self.session.engine
        if not engine.next():
            return False
        if engine.done:
            self.go("goodbye")
        else:
            self.show_step()
        return True

    def go_back(self) -> None:
        engine = self.session.engine
        current = self.sm.current
        if current.startswith("step-") and engine is not None:
            if engine.back():
                self.show_step()
                return
            self.go("picker")
            return
        self.go("home")

    def start_over(self) -> None:
        self.end_session()

    def end_session(self, to: str = "home") -> None:
        """Wipe the visit and go home. Called by goodbye, the idle timeout and 'start over'."""
        self.close_idle_warning()
        from kiosk.ui.widgets.help_call import forget_help_call

        forget_help_call()  # the visit's call is cancelled (unless staff took it) and forgotten
        self.close_panels()
        self.focus_field(None)
        self.access.end_visit(); self.stop_speaking()  # noqa: E702 - nothing said stays for the next visitor
        self.session.wipe()
        for screen in self.sm.screens:  # what one visitor typed (a search, a code) is not shown to the next
            reset = getattr(screen, "reset", None)
            if reset:
                reset()
        self.session = Session(lang=self.cfg["kiosk"]["language"])
        self.card_left_behind = self.services.card_present  # home reminds until it is taken
        Window.clearcolor = self.theme.bg
        self.services.between_sessions()
        self.go(to)
        Clock.schedule_once(lambda *_: release_memory(), 0.5)  # after the home screen is drawn

    def close_panels(self) -> None:
        """Close any panel still open over the screen (help video, calendar, address picker):
        the next visitor must not find the last one's address in it, nor its video still playing."""
        from kivy.uix.modalview import ModalView

        for w in list(Window.children):
            if isinstance(w, ModalView):
                w.dismiss(force=True, animation=False)

    def show_error(self) -> None:
        self.go("error")

    # --- settings -----------------------------------------------------------------------------------
    def toggle_language(self):
        self.session.lang = "en" if self.session.lang == "vi" else "vi"
        self.sm.current_screen.refresh()

    def toggle_large_text(self):
        self.session.large_text = not self.session.large_text
        self.sm.current_screen.refresh()

    def toggle_contrast(self):
        self.session.high_contrast = not self.session.high_contrast
        Window.clearcolor = self.theme.bg
        self.sm.current_screen.refresh()

    def cycle_input_method(self):
        order = ["telex", "vni", "off"]
        self.input_method = order[(order.index(self.input_method) + 1) % len(order)]
        if self.focused_field is not None and self.focused_field.kind == "text":
            self.focused_field.composer.method = self.input_method

    # --- typing -------------------------------------------------------------------------------------
    def focus_field(self, field) -> None:
        if self.focused_field is not None and self.focused_field is not field:
            self.focused_field.set_focused(False)
        self.focused_field = field
        if field is not None:
            field.set_focused(True)
            host = field.parent
            while host is not None and not hasattr(host, "show_keyboard"):
                host = host.parent
            host = host or self.sm.current_screen
            if hasattr(host, "show_keyboard"):
                host.show_keyboard(field) if _takes_arg(host.show_keyboard) else host.show_keyboard()

    def type_char(self, ch: str) -> None:
        if self.focused_field is not None:
            self.session.typed()
            self.focused_field.key(ch)

    def type_backspace(self) -> None:
        if self.focused_field is not None:
            self.session.typed()
            self.focused_field.backspace()

    def _on_textinput(self, _window, text):
        for ch in text:
            self.type_char(ch)

    def _on_key_down(self, _window, key, scancode, codepoint, modifiers):
        # the keypad and the arrows, Tab, Enter, Backspace (kiosk/ui/access.py; the map is
        # [accessibility] in the config): focus, press, back, the speech mode's keys
        if self.access.on_key(key, scancode, codepoint, modifiers):
            return True
        if key == 8:  # backspace on a hardware keyboard
            self.type_backspace()
            return True
        if key == 27:  # Esc must not close the kiosk app
            return True
        return False

    # --- keypad navigation and the speech mode (kiosk/ui/access.py) -----------------------------------
    @property
    def access(self):
        nav = self.__dict__.get("_access")
        if nav is None:
            from kiosk.ui.access import Access

            nav = self.__dict__["_access"] = Access(self)
        return nav

    @property
    def spoken(self) -> list:
        """(screen, text) of every public text said in this visit (tests read it; cleared at its end)."""
        return self.access.spoken

    @property
    def speech_mode(self) -> bool:
        return self.session.speech_mode

    def read_screen(self) -> None:
        """A tap on the toolbar's "Đọc to": this screen, once."""
        self.access.read_screen()

    def start_speech_mode(self) -> None:
        """Holding "Đọc to" 1.5 s, or the keypad's speech key: every screen, focus, error and the
        idle warning spoken until the visit ends or the citizen stops it."""
        self.access.start_speech()

    def stop_speech_mode(self) -> None:
        self.access.stop_speech()

    def stop_speaking(self) -> None:
        self._speech_seq = getattr(self, "_speech_seq", 0) + 1  # a rendering still under way is not played
        sound = getattr(self, "_speech_sound", None)
        if sound is not None:
            sound.stop()

    # --- the QR scanner, always listening; the current screen decides what a payload means ------------
    def listen_for_qr(self, callback) -> None:
        self._qr_listener = callback

    def _qr_loop(self):
        while not self._stopping.is_set():
            scanner = self.services.scanner
            if scanner is None:
                time.sleep(0.3)
                continue
            try:
                payload = scanner.read(timeout=0.3)
            except Exception as exc:  # noqa: BLE001 - a bad scan must not kill the listener
                log.warning("QR scanner: %s", type(exc).__name__)
                time.sleep(0.5)
                continue
            if payload and self._qr_listener is not None:
                cb = self._qr_listener
                Clock.schedule_once(lambda *_, p=payload: cb(p) if self._qr_listener is cb else None)

    # --- the card reader: the current screen decides what laying or lifting a card means -------------
    def _card_event(self, present: bool) -> None:
        Clock.schedule_once(lambda *_: self._dispatch_card(present))

    def _dispatch_card(self, present: bool) -> None:
        if not present:
            self.card_left_behind = False
        else:
            self.session.touched()  # laying a card is the citizen acting, as a touch is
        handler = getattr(self.sm.current_screen, "on_card", None)
        if handler is not None:
            handler(present)

    # --- worker threads -----------------------------------------------------------------------------
    def run_async(self, fn, on_done=None, on_error=None) -> threading.Thread:
        def work():
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - handed to the screen, which explains it
                log.warning("background task failed: %s", "".join(traceback.format_exception(exc)))
                if on_error:
                    Clock.schedule_once(lambda *_, e=exc: on_error(e))
                else:
                    Clock.schedule_once(lambda *_: self.show_error())
                return
            if on_done:
                Clock.schedule_once(lambda *_, r=result: on_done(r))

        t = threading.Thread(target=work, daemon=True)
        self._workers = {w for w in self._workers if w.is_alive()} | {t}  # joined at stop
        t.start()
        return t

    # --- read-aloud ---------------------------------------------------------------------------------
    def read_aloud(self, text: str, cache: bool = True) -> None:
        """Speak ``text`` in the current language: kiosk.ui.speech renders it with espeak-ng in a
        worker thread (cached under <data_dir>/speech), SoundLoader plays it. A recorded
        media/help/<flow>/<step>.wav wins for the current step's own Vietnamese text. Pass
        ``cache=False`` for text that may hold the citizen's data (nothing of it stays on disk)."""
        from pathlib import Path

        from kiosk.ui import speech
        from kiosk.ui.i18n import pick

        pre = None
        engine, flow = self.session.engine, getattr(self.session, "flow", None)
        if self.lang == "vi" and engine is not None and flow is not None and not engine.done:
            step = engine.step
            if any(own and own in (text or "") for own in (pick(step.text, "vi") if step.text else "", pick(step.title, "vi"))):
                pre = Path(self.cfg["paths"]["media_dir"]) / "help" / flow.id / f"{step.id}.wav"
        folder = Path(self.cfg["paths"]["data_dir"]) / "speech"
        acc = self.cfg["accessibility"]
        rate = self.session.speech_rate or acc["speech_rate"]
        volume = self.session.speech_volume if self.session.speech_volume is not None else acc["speech_volume"]
        if rate != acc["speech_rate"]:
            pre = None  # a recording has one pace: the citizen asked for another
        if cache:
            self.access.record(self.sm.current, text)  # public text only (tests read it)
        self._speech_seq = seq = getattr(self, "_speech_seq", 0) + 1

        def play(path):
            from kivy.core.audio import SoundLoader

            if seq != self._speech_seq:  # a later request (or "stop") came while this one rendered
                if not cache and path.parent.name == "once":
                    path.unlink(missing_ok=True)
                return
            old = getattr(self, "_speech_sound", None)
            if old is not None:
                old.stop()  # a new request interrupts the one still speaking
            self._speech_sound = SoundLoader.load(str(path))  # SDL2 reads the whole file here
            if not cache and path.parent.name == "once":
                path.unlink(missing_ok=True)
            if self._speech_sound is not None:
                self._speech_sound.volume = volume
                self._speech_sound.play()

        self.run_async(lambda: speech.speak(text, self.lang, cache_dir=folder, prerendered=pre, cache=cache, rate=rate),
                       on_done=play, on_error=lambda exc: log.warning("read-aloud failed: %s", type(exc).__name__))

    # --- idle wipe ----------------------------------------------------------------------------------
    def _on_any_touch(self, _window, _touch):
        self.session.touched()
        return False

    def idle_limits(self) -> tuple[float, float]:
        """(seconds idle before the wipe, seconds of warning before it). The speech mode
        multiplies both ([accessibility] timeout_multiplier): listening takes longer than looking."""
        k = self.cfg["kiosk"]
        factor = self.cfg["accessibility"]["timeout_multiplier"] if self.session.speech_mode else 1.0
        timeout, warning = k["idle_timeout_s"] * factor, k["idle_warning_s"] * factor
        if self.sm.current == "pay":
            # the citizen is paying on their phone, not touching the kiosk: no "are you still there?"
            # before the pay screen itself says to pay at the counter ([payments] wait_s)
            timeout = max(timeout, float(self.cfg["payments"]["wait_s"]) + warning)
        return timeout, warning

    def _idle_tick(self, _dt):
        if self.sm.current in ("home", "error"):
            return
        timeout, warning = self.idle_limits()
        idle = self.session.idle_seconds()
        if idle >= timeout:
            log.info("idle timeout: session wiped")
            self.end_session()
        elif idle >= timeout - warning:
            # the seconds still left, rounded up: 19.6 s left shows 20, not 19 (the tick is 1 s)
            self.show_idle_warning(math.ceil(timeout - idle))
        else:
            self.close_idle_warning()

    def show_idle_warning(self, seconds_left: int) -> None:
        """WCAG 2.2.1: shown and said at least 20 s before the wipe (config check enforces
        idle_warning_s ≥ 20), with one large "Tôi cần thêm thời gian" that the keypad's focus
        lands on; the citizen may extend as often as needed (at least 10 times by the rule)."""
        from kiosk.ui.i18n import tr
        from kiosk.ui.widgets.idle import IdleWarning

        if self.idle_modal is None:
            self.idle_modal = IdleWarning(on_stay=self._stay)
            self.idle_modal.update(seconds_left)
            self.idle_modal.open()
            # said to everyone, not only in the speech mode: a citizen who looked away hears it
            self.read_aloud(self.idle_modal.speech_text)
        elif seconds_left == 10 and self.session.speech_mode and self.idle_modal.last_said != 10:
            self.idle_modal.last_said = 10
            self.read_aloud(tr("idle.text", self.lang, n=10))
        self.idle_modal.update(seconds_left)

    def close_idle_warning(self) -> None:
        if self.idle_modal is not None:
            self.idle_modal.dismiss()
            self.idle_modal = None

    def _stay(self):
        """ "Tôi cần thêm thời gian": the whole timeout again, as often as asked."""
        self.session.touched()
        self.session.idle_extensions += 1
        self.close_idle_warning()

    # --- maintenance ----------------------------------------------------------------------------------
    def secret_tap(self) -> None:
        now = time.monotonic()
        self._secret_taps = [t for t in self._secret_taps if now - t < 3.0] + [now]
        if len(self._secret_taps) >= 5:
            self._secret_taps.clear()
            self.go("pin")

    def check_pin(self, pin: str):
        """The maintenance PIN through kiosk.pin_guard (back-off, lock-out): a Verdict. Refusals
        reach the province with the next heartbeat."""
        from kiosk.pin_guard import guard_for

        guard = guard_for(self.cfg)
        verdict = guard.check(pin)
        heartbeat = self.services.heartbeat
        if heartbeat is not None and not verdict.ok:
            heartbeat.report("maintenance_pin", guard.health(), title="maintenance PIN", title_vi="Mã PIN bảo trì")
        return verdict


def release_memory() -> None:
    """Between visits: collect the last visit's widgets and give freed heap back to the OS.

    Every screen is rebuilt per visit; without the trim glibc keeps the freed arenas and a kiosk
    that runs all day grows by hundreds of MB (measured: 556 → 402 MB after one trim)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc from moving its mmap threshold.

    glibc raises the threshold to the size of any large block it frees (up to 32 MB). Camera
    frames and image arrays are such blocks, so after the first one every later buffer of a few MB
    lands in the heap, and the heap stays as high as its highest moment. Fixed, large buffers keep
    mappings of their own and go back to the OS the moment they are freed. bench_ui measures it
    against the moving threshold: lower at the peak and mostly at home; after a visit, no difference.
    Returns False where there is no glibc."""
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-3, threshold))  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        return False


def register_fonts() -> None:
    """One font on screen and on paper: the bundled DejaVu Sans covers every Vietnamese letter and
    the symbols the screens use (◀ ▶ ✓ ☐ ⌫ …), which Kivy's Roboto lacks."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from devices.printer.fonts import FONT_DIR, FONT_FILES  # the receipt's font, the one place it is named

    regular, bold = FONT_DIR / FONT_FILES["regular"], FONT_DIR / FONT_FILES["bold"]
    # no silent fallback: Roboto shows ◀ ▶ ★ ⌫ as empty boxes, so a missing font is an install error
    LabelBase.register(DEFAULT_FONT, str(regular), fn_bold=str(bold))


def _takes_arg(fn) -> bool:
    import inspect

    try:
        return len(inspect.signature(fn).parameters) >= 1
    except (TypeError, ValueError):
        return False
