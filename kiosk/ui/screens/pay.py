"""Pay the fee at the kiosk (issue 22): between "Tôi đồng ý và nộp hồ sơ" and the receipt, for a
dossier central confirmed with a fee above 0 and ``[payments] enabled``.

The amount in đồng (common.money.fee_text, the words of the review and the receipt), a VietQR code
any Vietnamese bank's app reads (common.vietqr: the centre's account, the amount, the dossier code
as the payment's one reference), the account's holder and number, and the dossier code as the
transfer's message. The screen asks central every ``poll_s`` seconds; "Đã nhận thanh toán" once the
bank's gateway told central, then the receipt is printed, saying it was paid. "Nộp tại quầy" is
there from the start (the citizen may have no bank app); after ``wait_s`` the screen says plainly
that the citizen can finish and pay at the desk. A payment central flagged (an amount that differs
from the fee) sends the citizen to the desk, never to pay again.

No back button: the dossier is filed, there is nothing to go back to. The receipt is printed when
the screen is left in any way, the idle wipe included (as it always was once a dossier was filed).

In the simulated demo ("[Mô phỏng]", like the identify screen's), a small button makes the
simulated bank send central the signed notification (kiosk.services.KioskServices.sim_pay).
"""
from __future__ import annotations

import time

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from common.money import fee_text
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen, footer
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller, sizes, theme
from kiosk.ui.widgets.text_role import NOTICE, spoken_as

QR_SIZE = 560  # px on the 1920×1080 panel: ~15 cm, read by a phone held at arm's length


def qr_png(payload: str, scale: int = 12) -> bytes:
    """The payload as a PNG, dark on white with the standard 4-module quiet zone (a bank app
    reads it at any contrast setting of the kiosk: the code is never drawn in theme colours)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make_qr(payload, error="m", boost_error=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


class PayScreen(KioskScreen):
    title_key = "pay.title"
    show_back = False
    own_footer = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.outcome = None
        self.state = "waiting"       # waiting | paid | flagged | finishing
        self.payment = None          # central's payment object, last seen
        self.started = 0.0
        self._png = b""
        self._poll_ev = None
        self._asking = False
        self.sim_button = None

    # --- life cycle -------------------------------------------------------------------------------
    def on_pre_enter(self, *args):
        a = app()
        self.outcome = a.session.outcome
        self.state, self.payment, self._asking = "waiting", None, False
        self.started = time.monotonic()
        try:
            self._png = qr_png(a.services.payment_qr(self.outcome))
        except Exception:  # noqa: BLE001 - an account the code cannot carry: pay at the desk
            self._png = b""
        super().on_pre_enter(*args)
        self._poll_ev = Clock.schedule_interval(self._poll, float(a.cfg["payments"]["poll_s"]))

    def on_leave(self, *args):
        self._stop_polling()
        out, seen = self.outcome, self.payment
        if out is not None:
            # left before the receipt was printed (the idle wipe): the dossier is filed, so its
            # receipt is printed as it always was, saying the fee is paid at the desk (or what
            # central last said). finish_receipt prints once, whoever asks first.
            a = app()
            a.run_async(lambda: a.services.finish_receipt(out, seen))
        self.outcome = None

    def _stop_polling(self):
        if self._poll_ev is not None:
            self._poll_ev.cancel()
            self._poll_ev = None

    # --- what it shows ----------------------------------------------------------------------------
    def kicker(self) -> str:
        a = app()
        return pick(a.session.flow.name, a.lang) if a.session.flow is not None else ""

    def step_indicator(self) -> str:
        """The last step's "Bước 11 trên 11", as the receipt says it: paying is the first half of the
        last step (pay, then take the receipt). The flow is still on its submit step here (the
        receipt step comes once the payment is settled), so the number is the one after it."""
        a = app()
        engine = a.session.engine
        if engine is None or engine.done:
            return ""
        number, total = engine.progress()
        return tr("step.indicator", a.lang, n=min(number + 1, total), total=total)

    def fee(self, lang: str) -> str:
        return fee_text({"amount": self.outcome.payment_due if self.outcome else 0}, lang)

    def speech_intro(self) -> str:
        """What the speech mode says after the title: the amount first, then how to pay."""
        lang = app().lang
        how = [tr("pay.scan", lang)] if self.state == "waiting" and self._png else []
        return ". ".join([tr("pay.amount", lang, fee=self.fee(lang)), *how, self.status_text(lang)])

    def waited_out(self) -> bool:
        return time.monotonic() - self.started >= float(app().cfg["payments"]["wait_s"])

    def status_text(self, lang: str) -> str:
        if self.state == "paid":
            return tr("pay.paid", lang, fee=self.fee(lang))
        if self.state == "finishing":
            return tr("pay.finishing", lang)
        if self.state == "flagged":
            return tr("pay.flagged", lang)
        return tr("pay.wait_over" if self.waited_out() or not self._png else "pay.waiting", lang)

    def build_body(self, body):
        a = app()
        lang = a.lang
        if self.outcome is None:
            body.add_widget(Text("—", role="body"))
            return
        p = a.cfg["payments"]
        row = BoxLayout(spacing=32)
        left = Column(spacing=14, padding=[0, 0, 24, 0])
        left.add_widget(Text(tr("pay.amount", lang, fee=self.fee(lang)), role="title", bold=True))
        if self.state == "waiting" and self._png:  # how to pay, only while paying is what to do
            left.add_widget(Text(tr("pay.scan", lang), role="title", bold=True))
            left.add_widget(Text(tr("pay.how", lang), role="body"))
            if p["account_name"]:
                left.add_widget(Text(tr("pay.bank", lang, name=p["account_name"]), role="body"))
            left.add_widget(Text(tr("pay.account", lang, account=p["account"]), role="body"))
            left.add_widget(Text(tr("pay.content", lang, code=self.outcome.code), role="body", bold=True))
        t = theme()
        colour = {"paid": t.ok, "flagged": t.danger}.get(self.state, t.fg)
        if self.state == "waiting" and (self.waited_out() or not self._png):
            colour = t.danger  # said in the speech mode as news, like an error line
        self.status = Text(self.status_text(lang), role="title", bold=True, color=colour)
        spoken_as(self.status, NOTICE if colour == t.danger else None)  # news for the speech mode, not an error
        left.add_widget(self.status)
        holder = scroller(left)
        holder.size_hint_x = 0.58
        row.add_widget(holder)
        if self._png and self.state == "waiting":  # flagged: no code that invites paying twice
            from io import BytesIO

            from kivy.core.image import Image as CoreImage

            img = Image(size_hint=(None, None), size=(QR_SIZE, QR_SIZE), fit_mode="contain")
            img.texture = CoreImage(BytesIO(self._png), ext="png").texture
            img.texture.mag_filter = "nearest"  # sharp modules, never blurred by scaling
            box = BoxLayout(size_hint_x=0.42)
            box.add_widget(img)
            row.add_widget(box)
        body.add_widget(row)
        self.counter_button = BigButton(tr("pay.counter", lang), kind="secondary", on_press=self.pay_at_counter)
        right = Widget()
        self.sim_button = None
        if self.state == "waiting" and a.services.sim_bank:
            right = BigButton(tr("pay.sim", lang), kind="secondary", on_press=self._simulate,
                              font_size=sizes()["small"])
            right.kiosk_role = "simulation"
            self.sim_button = right
        if self.state in ("paid", "finishing"):
            body.add_widget(footer(Widget(), Widget()))
        else:
            body.add_widget(footer(self.counter_button, right))

    # --- asking central ---------------------------------------------------------------------------
    def _poll(self, _dt=None):
        if self.outcome is None or self.state != "waiting":
            return
        was_over = self.waited_out()
        if self._asking:
            return
        self._asking = True
        a = app()
        code = self.outcome.code
        a.run_async(lambda: a.services.payment(code), on_done=self._answer, on_error=self._no_answer)
        if was_over and self.status.text != tr("pay.wait_over", a.lang):
            self.refresh()  # the wait is over: say so, once

    def _no_answer(self, _exc):
        # central unreachable for a moment: ask again next time; after wait_s the screen says to
        # pay at the desk whatever central does
        self._asking = False

    def _answer(self, payment):
        self._asking = False
        if self.outcome is None or self.state != "waiting":
            return
        self.payment = payment
        state = (payment or {}).get("state")
        if state == "paid":
            self._paid()
        elif state == "flagged":
            self.state = "flagged"
            self._stop_polling()
            self.refresh()

    def _paid(self):
        a = app()
        self.state = "paid"
        self._stop_polling()
        self.refresh()
        if a.session.speech_mode:
            a.read_aloud(tr("pay.paid", a.lang, fee=self.fee(a.lang)))
        self._finish(self.payment)

    def pay_at_counter(self):
        """"Nộp tại quầy": one last question to central (a payment that arrived a second ago counts),
        then the receipt, saying what central said."""
        if self.state in ("paid", "finishing") or self.outcome is None:
            return
        self._stop_polling()
        a = app()
        code, seen = self.outcome.code, self.payment

        def last_look():
            try:
                return a.services.payment(code)
            except Exception:  # noqa: BLE001 - unknown: the receipt says to pay at the desk
                return seen

        self.state = "finishing"
        self.refresh()
        a.run_async(last_look, on_done=lambda p: self._finish(p, printing=True))

    def _finish(self, payment, printing=False):
        a = app()
        out = self.outcome
        if out is None:
            return
        self.state = "finishing" if printing else self.state
        a.run_async(lambda: a.services.finish_receipt(out, payment), on_done=self._printed,
                    on_error=lambda _e: self._printed(out))

    def _printed(self, _outcome):
        a = app()
        if a.sm.current != self.name:
            return
        self.state = "finishing"
        a.next_step()

    def _simulate(self):
        """The demo's stand-in for the citizen's bank app: the simulated bank pays the amount."""
        a = app()
        out = self.outcome
        if out is None:
            return
        a.run_async(lambda: a.services.sim_pay(out.code, out.payment_due), on_done=lambda _r: self._poll())
