"""face_check: the live face against the chip photo, with a liveness challenge, or a member of staff.

The citizen presses "Bắt đầu"; a worker thread reads the camera, measures each frame's landmarks
(devices.face.liveness) and walks the challenge — look straight (then the face is matched against
the chip photo, DG2, embedded once), blink, turn the head to the side asked (drawn at random) — while
the screen shows the preview with an oval guide and says each prompt aloud. A failed try says why
(not the same face, no blink or turn seen, no face); after :data:`MAX_TRIES` failures, or when the
citizen presses "Nhờ cán bộ xác nhận", a help call goes out (``open_help_call``) and a member of
officer confirms with the one-time code the console gave them when they acknowledged the call
(central/help_confirm.py: the dossier names their account), or, when central cannot be reached, with
the kiosk's staff PIN (``app.check_pin``: kiosk.pin_guard's back-off and lock-out).

The dossier gets the outcome and its numbers (flows.steps.face_check.record); the frames, the
chip photo and the embeddings live in this screen's variables only and are dropped when it is left
and when the visit ends (the chip photo with ``session.card``).

On the simulated camera a "[Mô phỏng]" row puts the card holder, someone else or a printed photo
in front of it, and the simulated person does what the screen asks (``SimCamera.act``).
"""
from __future__ import annotations

import logging
import random
import threading
import time

from kivy.clock import Clock
from kivy.graphics import Color, Line
from kivy.uix.image import Image

from flows.steps import face_check as kind
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import footer
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.camera_view import show_frame
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, theme

log = logging.getLogger(__name__)

MAX_TRIES = 3
PHASE_TIMEOUT_S = 8.0     # each phase of the challenge (look, blink, turn) gives up after this long
FRAME_S = 0.08            # the worker's pace at most (~12 frames a second)


class FaceCheckScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self._visit = None
        self._reset()
        self._preview_ev = None

    # --- state of one visit ------------------------------------------------------------------
    def _reset(self) -> None:
        self.state = "intro"        # intro | running | result | staff | done
        self.tries = 0              # failed tries so far
        self.prompt = "look"
        self.message = ""
        self.last = {}              # the last try's numbers (distance, liveness)
        self._stop = threading.Event()
        self._worker = None
        self._latest = None         # the worker's last frame, for the preview (BGR)
        self._ref = None            # the chip photo's embedding
        self.staff_mode = "code"    # how staff confirm: the officer's code (central) or the kiosk PIN (offline)

    def on_pre_enter(self, *args):
        a = app()
        if self._visit is not a.session or (a.session.engine and kind.outcome(a.session.engine) is None
                                            and self.state == "done"):
            self._stop_worker()
            self._visit = a.session
            self._reset()
        if a.session.engine is not None and kind.outcome(a.session.engine) in kind.LETS_THROUGH:
            self.state = "done"
        cam = a.services.camera
        if hasattr(cam, "show_face") and self.state == "intro":
            cam.show_face("card_holder")   # the simulated citizen stands in front of the kiosk
        super().on_pre_enter(*args)

    def on_leave(self, *args):
        self._stop_worker()
        self._stop_preview()
        cam = app().services.camera
        if hasattr(cam, "show_face"):
            cam.show_face(None)      # the simulated person steps away: the desk is under the camera again
        if self.state == "running":
            self.state = "intro"
        self._latest = None
        self._ref = None

    # --- layout ----------------------------------------------------------------------------------
    def build_body(self, body):
        a = app()
        lang = a.lang
        top = Column(spacing=8)
        if self.state == "staff":
            top.add_widget(Text(tr("face.staff_intro", lang), role="body", bold=True))
        else:
            top.add_widget(Text(tr("face.intro", lang), role="body"))
        if self.tries and self.state not in ("done", "staff"):
            top.add_widget(Text(tr("face.tries", lang, n=min(self.tries + 1, MAX_TRIES), total=MAX_TRIES),
                                role="body", color=theme().muted))
        body.add_widget(top)
        if self.state == "staff":
            self._build_staff(body, lang)
            return
        if self.state == "done":         # nothing to look at any more: the camera's picture is gone
            from kivy.uix.widget import Widget

            self.preview = None
            body.add_widget(Text("✓", role="huge", halign="center", color=theme().ok))
            body.add_widget(Widget())
        else:
            self.preview = Image(fit_mode="contain") if hasattr(Image, "fit_mode") else Image()
            self.preview.bind(pos=self._draw_oval, size=self._draw_oval)
            body.add_widget(self.preview)
        said = {"running": tr(f"face.{self.prompt}", lang), "done": tr(self._done_key(), lang)}.get(self.state, "")
        self.prompt_label = Text(said, role="title", bold=True, halign="center",
                                 color=theme().ok if self.state == "done" else None)
        body.add_widget(self.prompt_label)
        self.msg = error_text(self.message)
        body.add_widget(self.msg)
        cam = a.services.camera
        if hasattr(cam, "show_face") and self.state in ("intro", "result"):
            row = Row(spacing=SPACING_MIN)
            for key, who in (("face.sim_holder", "card_holder"), ("face.sim_stranger", "stranger"),
                             ("face.sim_printed", "printed")):
                row.add_widget(BigButton(tr(key, lang), kind="secondary", on_press=lambda w=who: self._sim(w)))
            body.add_widget(row)
        buttons = [BigButton(tr("nav.back", lang), kind="secondary", on_press=self.on_back)]
        if self.state != "done":
            buttons.append(BigButton(tr("face.ask_staff", lang), kind="secondary", on_press=self.ask_staff))
        if self.state == "intro":
            buttons.append(BigButton(tr("face.start", lang), kind="primary", on_press=self.start))
        elif self.state == "result":
            buttons.append(BigButton(tr("face.try_again", lang), kind="primary", on_press=self.start))
        elif self.state == "done":
            buttons.append(BigButton(tr("nav.next", lang), kind="primary", on_press=self.on_next))
        body.add_widget(footer(*buttons))
        self._start_preview()

    def _done_key(self) -> str:
        engine = app().session.engine
        return "face.staff_ok" if engine is not None and kind.outcome(engine) == "fallback_staff" else "face.passed"

    def _build_staff(self, body, lang):
        """The officer's one-time code (central names who confirmed), or, when central cannot be
        reached, the kiosk's staff PIN (the dossier then says only that the PIN was used)."""
        from kiosk.ui.widgets.keyboard import NumPad, VnField

        from kivy.uix.boxlayout import BoxLayout

        # the field and its message beside the keypad, not above it: stacked, they pushed the
        # screen's title under the text
        left = Column(spacing=8)
        if self.staff_mode == "pin":
            left.add_widget(Text(tr("face.staff_pin_intro", lang), role="body"))
            self.pin = VnField("staff_pin", tr("face.staff_pin", lang), kind="pin", secret=True, max_len=12)
            switch = BigButton(tr("face.use_code", lang), kind="secondary", on_press=lambda: self._staff_mode("code"))
        else:
            self.pin = VnField("staff_code", tr("face.staff_code", lang), kind="pin", max_len=6)
            switch = BigButton(tr("face.use_pin", lang), kind="secondary", on_press=lambda: self._staff_mode("pin"))
        left.add_widget(self.pin)
        self.msg = error_text(self.message)
        left.add_widget(self.msg)
        pad = NumPad(on_done=self._check_pin if self.staff_mode == "pin" else self._check_code)
        row = BoxLayout(orientation="horizontal", spacing=SPACING_MIN, size_hint_y=None, height=pad.height)
        holder = BoxLayout(orientation="vertical")
        holder.add_widget(left)
        holder.add_widget(BoxLayout())
        row.add_widget(holder)
        row.add_widget(pad)
        body.add_widget(row)
        body.add_widget(BoxLayout())
        body.add_widget(footer(BigButton(tr("nav.back", lang), kind="secondary", on_press=self._leave_staff), switch))
        self.pin.focus()

    def _staff_mode(self, mode: str) -> None:
        self.staff_mode, self.message = mode, ""
        self.refresh()

    def show_keyboard(self, field):
        if self.state != "staff":
            super().show_keyboard(field)

    def _draw_oval(self, *_):
        """The oval guide: where the face should be, in the middle of the picture."""
        p = self.preview
        p.canvas.after.clear()
        w, h = p.norm_image_size if p.texture is not None else p.size
        oh = 0.78 * min(h, p.height)
        ow = 0.72 * oh
        cx, cy = p.center_x, p.center_y + 0.03 * oh
        with p.canvas.after:
            Color(*theme().primary[:3], 1)
            Line(ellipse=(cx - ow / 2, cy - oh / 2, ow, oh), width=4)

    # --- preview ---------------------------------------------------------------------------------
    def _start_preview(self):
        a = app()
        if self._preview_ev is not None or self.state not in ("intro", "running", "result"):
            return

        def ready(_cam):
            if self._preview_ev is None and self.state in ("intro", "running", "result"):
                self._preview_ev = Clock.schedule_interval(self._update_preview, 1 / 10)

        a.run_async(a.services.open_camera, on_done=ready, on_error=self._camera_failed)

    def _stop_preview(self):
        if self._preview_ev is not None:
            self._preview_ev.cancel()
            self._preview_ev = None

    def _update_preview(self, _dt):
        frame = self._latest
        if frame is None and self.state != "running":
            cam = app().services.camera
            frame = cam.frame() if cam is not None else None
        if frame is None or getattr(self, "preview", None) is None or self.preview.parent is None:
            return
        show_frame(self.preview, frame, 640, mirror=True)   # a mirror, as citizens expect
        self._draw_oval()

    def _camera_failed(self, exc):
        from common.errors import user_message

        self._stop_preview()
        self.message = user_message(exc, app().lang, "Máy ảnh chưa sẵn sàng. Xin nhờ cán bộ xác nhận.",
                                    "The camera is not ready. Please ask staff to confirm.")
        if self.state == "running":
            self.state = "result"
        self.refresh()

    # --- simulation ------------------------------------------------------------------------------
    def _sim(self, who: str) -> None:
        cam = app().services.camera
        cam.show_face(who)

    # --- the check -------------------------------------------------------------------------------
    def start(self) -> None:
        a = app()
        card = a.session.card
        photo = getattr(card, "photo_jpeg", None) if card is not None else None
        if not photo or a.session.applicant_source != "chip":
            self.message = tr("face.no_photo", a.lang)
            self.refresh()
            return
        from devices import face

        if not face.available():
            self.message = tr("face.unavailable", a.lang)
            self.refresh()
            return
        self._stop_worker()
        self.state, self.prompt, self.message = "running", "look", ""
        self._stop = threading.Event()
        self.refresh()
        self._say(self.prompt)
        cam = a.services.camera
        turn = random.SystemRandom().choice(("left", "right"))
        self._worker = threading.Thread(target=self._run, args=(cam, photo, turn, self._stop), daemon=True,
                                        name="face-check")
        self._worker.start()

    def _stop_worker(self) -> None:
        self._stop.set()
        self._worker = None

    def _run(self, cam, photo: bytes, turn: str, stop: threading.Event) -> None:
        """The worker: the chip photo's embedding once, then frames until the challenge ends."""
        from devices.face import Challenge, decode_photo, face_embedding, match, observe, shared_model

        try:
            model = shared_model()
            if self._ref is None:
                got = face_embedding(decode_photo(photo), model, small=True)
                self._ref = None if got is None else got[0]
            if self._ref is None:
                self._post(stop, "no_face_reference", None, None)
                return
            cam.open()
            ch = Challenge(turn=turn, phase_timeout_s=PHASE_TIMEOUT_S)
            matched, said, acted, t0 = None, "look", None, time.monotonic()
            act = getattr(cam, "act", None)     # the simulated person does what the screen asks, once per prompt
            while not stop.is_set():
                started = time.monotonic()
                frame = cam.frame()
                self._latest = frame
                rgb = frame[:, :, ::-1]
                before = ch.phase
                ch.feed(observe(model, rgb, started - t0))
                if before == "look" and ch.phase != "look" and matched is None:
                    matched = match(None, rgb, model=model, reference_embedding=self._ref)
                    if not matched.passed:
                        self._post(stop, matched.reason, matched, ch)
                        return
                if ch.done:
                    self._post(stop, "passed" if ch.phase == "passed" else ch.reason, matched, ch)
                    return
                if ch.prompt != said:
                    said = ch.prompt
                    Clock.schedule_once(lambda *_, p=said: self._show_prompt(p, stop))
                if act is not None and acted != ch.prompt:
                    acted = ch.prompt
                    act(acted)
                time.sleep(max(0.0, FRAME_S - (time.monotonic() - started)))
        except Exception as exc:  # noqa: BLE001 - the citizen gets the staff path, the log the cause
            log.warning("face check failed: %s: %s", type(exc).__name__, exc)
            self._post(stop, "error", None, None)

    def _post(self, stop, reason, matched, ch) -> None:
        if not stop.is_set():
            Clock.schedule_once(lambda *_: self._finished(reason, matched, ch, stop))

    def _show_prompt(self, prompt: str, stop) -> None:
        if stop.is_set() or self.state != "running":
            return
        self.prompt = prompt
        if getattr(self, "prompt_label", None) is not None:
            self.prompt_label.text = tr(f"face.{prompt}", app().lang)
        self._say(prompt)

    def _say(self, key: str) -> None:
        a = app()
        try:
            a.read_aloud(tr(f"face.{key}", a.lang))
        except Exception as exc:  # noqa: BLE001 - no sound is no reason to stop the check
            log.info("prompt not spoken: %s", exc)

    def _finished(self, reason: str, matched, ch, stop) -> None:
        if stop.is_set():
            return
        a = app()
        engine = a.session.engine
        self._worker = None
        liveness = "passed" if ch is not None and ch.phase == "passed" else ("failed" if ch is not None and ch.done else "not_checked")
        facts = {"distance": matched.distance if matched is not None else None,
                 "threshold": matched.threshold if matched is not None else None,
                 "model": matched.model if matched is not None else None, "liveness": liveness}
        self.last = facts
        log.info("face check: %s (liveness %s)", reason, liveness)   # no image, no number that identifies
        if reason == "passed":
            kind.record(engine, "passed", tries=self.tries + 1, **facts)
            self.state, self.message = "done", ""
            self._say("passed")
            self.refresh()
            return
        self.tries += 1
        kind.record(engine, "failed", tries=self.tries, **facts)
        self.message = tr({"no_match": "face.no_match", "no_face_live": "face.no_face", "no_face": "face.no_face",
                           "no_blink": "face.not_live", "no_turn": "face.not_live"}.get(reason, "face.unavailable"), a.lang)
        self.state = "result"
        if self.tries >= MAX_TRIES or reason in ("no_face_reference", "error"):
            if self.tries >= MAX_TRIES:
                self.message = tr("face.too_many", a.lang, total=MAX_TRIES)
            self.ask_staff()
            return
        self.refresh()

    # --- staff fallback --------------------------------------------------------------------------
    def ask_staff(self) -> None:
        self._stop_worker()
        self._stop_preview()
        self.state = "staff"
        self.refresh()
        self.on_call_staff()      # the help call (kiosk/ui/widgets/help_call.py open_help_call)

    def _leave_staff(self) -> None:
        self.state, self.message = ("result" if self.tries else "intro"), ""
        self.refresh()

    def _check_code(self) -> None:
        from kiosk.ui.widgets.help_call import current_call

        a = app()
        code = self.pin.text.strip()
        self.pin.clear()
        if len(code) != 6 or not code.isdigit():
            self.msg.text = tr("face.staff_code", a.lang)
            return
        self.msg.text = tr("face.staff_checking", a.lang)
        call = current_call()
        a.run_async(lambda: a.services.confirm_identity(call, code), on_done=self._confirmed, on_error=self._code_refused)

    def _confirmed(self, account: str) -> None:
        a = app()
        if self.state != "staff" or a.session.engine is None:
            return    # the visit ended or the citizen went back while central answered
        self._staff_confirmed(f"officer:{account}")

    def _code_refused(self, exc) -> None:
        from common.errors import user_message

        if self.state != "staff":
            return
        if getattr(exc, "code", "") == "confirm_offline":
            self.staff_mode = "pin"      # nothing to check the code against: the PIN is the way through
            self.message = user_message(exc, app().lang)
            self.refresh()
            return
        self.msg.text = user_message(exc, app().lang)

    def _staff_confirmed(self, confirmed_by: str) -> None:
        a = app()
        facts = {k: v for k, v in self.last.items() if k != "liveness"}
        kind.record(a.session.engine, "fallback_staff", confirmed_by=confirmed_by, tries=self.tries,
                    liveness=self.last.get("liveness", "not_checked"), **facts)
        log.info("face check: confirmed by staff (%s) after %d tries", confirmed_by.split(":")[0], self.tries)
        self.state, self.message = "done", ""
        self.refresh()

    def _check_pin(self) -> None:
        a = app()
        verdict = a.check_pin(self.pin.text)
        self.pin.clear()
        if verdict.ok:
            self._staff_confirmed("staff_pin")
            return
        if verdict.locked:
            self.msg.text = tr("maint.locked", a.lang)
        elif verdict.wait_s > 0:
            self.msg.text = tr("maint.wait", a.lang, seconds=int(verdict.wait_s + 0.999))
        else:
            self.msg.text = tr("maint.wrong", a.lang)

    def on_next(self) -> None:
        a = app()
        if not a.next_step():
            self.message = " ".join(m for m in a.session.engine.errors(self.step).values())
            self.refresh()
