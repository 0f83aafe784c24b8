"""Agree and submit (one screen: a short summary, the consent text, one button) and the receipt,
shown on screen with its "Việc cần làm" (what to do next) block and as it was printed.

Issue #18: consent and submit were two screens, the second one empty, with "◀ Quay lại" exactly
where "Tiếp tục ▶" had been for eight screens. Now the one filled button, "Tôi đồng ý và nộp hồ
sơ", is bottom-right, where "Tiếp tục ▶" was on every earlier screen, and back stays bottom-left."""
from __future__ import annotations

import datetime as dt

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.progressbar import ProgressBar

from common import clock
from common.errors import user_message
from common.money import fee_text
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import footer
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.ui.widgets.common import BigButton, Column, Text, app, scroller, theme
from kiosk.ui.widgets.text_role import NOTICE, spoken_as


def _hour(at, lang: str) -> str:
    return f"{at.hour} giờ {at:%M}" if lang == "vi" else f"{at.hour}:{at:%M}"


def _come_back(received, appointment):
    """When to come back: the same rule the paper receipt prints (devices.printer.receipt_data)."""
    from devices.printer.receipt_data import come_back_at

    return come_back_at(received, appointment, app().cfg["kiosk"].get("office_opens") or None)


def counter_text(receipt: dict | None, lang: str) -> str:
    """The counter that returns the result: as printed, else the kiosk's, else the general words."""
    counter = (receipt or {}).get("counter") or app().cfg["kiosk"].get("result_counter") or ""
    return counter or tr("receipt.counter_default", lang)


def papers_lines(engine, lang: str) -> list[tuple[str, str]]:
    """The papers, as the receipt will list them: the photos taken on the documents steps (a
    paper by its name and number of photos; "Không chụp" when none: a photo may be optional, as
    for chứng thực bản sao) and the originals to show at the counter (flows' originals_to_bring)."""
    from flows.steps.receipt import originals_to_bring

    photos = [f"{pick(d.name, lang)} ({tr('submit.photos', lang, n=len(engine.attachments[d.id]))})"
              for d in engine.flow.documents if engine.attachments.get(d.id)]
    lines = [(tr("submit.papers", lang), "; ".join(photos) or tr("submit.no_photos", lang))]
    originals = [pick(d.name, lang) for d in originals_to_bring(engine)]
    if originals:
        lines.append((tr("submit.originals", lang), "; ".join(originals)))
    return lines


class SubmitScreen(StepScreen):
    show_back = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sending = False

    def on_pre_enter(self, *args):
        self.sending, self.error = False, ""
        super().on_pre_enter(*args)

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) lines: what is being filed, by whom, where, when, for how much."""
        a = app()
        lang, engine = a.lang, a.session.engine
        unit = engine.handling_unit or engine.default_handling_unit() or {}
        appointment = engine.appointment_date(clock.now())
        at = _come_back(clock.now(), appointment)
        when = (f"{_hour(at, lang)} ngày {at:%d/%m/%Y}" if lang == "vi" else f"{_hour(at, lang)} on {at:%d/%m/%Y}")
        return [
            (tr("submit.procedure", lang), pick(engine.flow.name, lang)),
            (tr("submit.applicant", lang), (a.session.applicant or {}).get("full_name") or "—"),
            (tr("review.unit", lang), unit.get("name") or "—"),
            (tr("review.appointment", lang), when),
            (tr("submit.fee", lang), fee_text(engine.fee(), lang)),
            *papers_lines(engine, lang),
        ]

    def build_body(self, body):
        from flows import consent_text
        from kiosk.ui.screens.review import line

        lang = app().lang
        self.add_intro(body)
        if self.sending:
            body.add_widget(Text(tr("submit.sending", lang), role="title", bold=True, halign="center"))
            self.bar = ProgressBar(max=100, value=10, size_hint_y=None, height=40)
            body.add_widget(self.bar)
            self._ev = Clock.schedule_interval(lambda *_: setattr(self.bar, "value", min(95, self.bar.value + 5)), 0.2)
            body.add_widget(BoxLayout())
            return
        col = Column(spacing=10, padding=[0, 0, 24, 0])
        col.add_widget(Text(tr("submit.summary", lang), role="title", bold=True))
        for label, value in self.summary():
            col.add_widget(line(label, value))
        col.add_widget(Text(tr("submit.consent_heading", lang), role="title", bold=True))
        col.add_widget(Text(pick(consent_text(self.step), lang), role="body"))
        body.add_widget(scroller(col))
        # agreeing and not agreeing told apart in words (Decree 356/2025/NĐ-CP), always in sight
        # right above the button: the button is the agreement, and the desk files without it
        body.add_widget(Text(tr("submit.consent_hint", lang), role="body", bold=True))
        self.msg = error_text(getattr(self, "error", ""))
        body.add_widget(self.msg)
        # the one filled button, bottom-right: where "Tiếp tục ▶" was on every earlier screen
        self.add_footer(body, on_next=self._submit, text_key="submit.agree")

    def _submit(self):
        if self.sending:
            return  # one dossier, one submit: a double tap must not file twice
        from flows import consent_sha256

        a = app()
        engine = a.session.engine
        # the consent is the press of this button: the text shown, in the language shown, now
        engine.set_consent(True, consent_sha256(self.step, a.lang))
        problems = engine.error_details()
        if problems:
            vi, en = next(iter(problems.values()))
            self.error = vi if a.lang == "vi" else en
            self.msg.text = self.error
            return
        self.sending = True
        self.refresh()
        a.run_async(lambda: a.services.submit(a.session), on_done=self._done, on_error=self._failed)

    def _done(self, outcome):
        a = app()
        Clock.unschedule(self._ev) if hasattr(self, "_ev") else None
        a.session.outcome = outcome
        if getattr(outcome, "payment_due", 0):
            a.go("pay")  # kiosk/ui/screens/pay.py: the fee by VietQR, then the receipt that says so
            return
        a.next_step()

    def _failed(self, exc):
        # the outbox write itself failed (disk full, broken storage): nothing was filed
        Clock.unschedule(self._ev) if hasattr(self, "_ev") else None
        self.sending = False
        self.error = user_message(exc, app().lang, "Không lưu được hồ sơ trên ki-ốt. Xin báo cán bộ tại quầy.",
                                  "The kiosk could not store your application. Please tell the staff at the desk.")
        self.refresh()


def payment_item(outcome, fee: str, lang: str) -> str:
    """The fee line once the kiosk took the payment, or not (issue 22), as the paper prints it:
    "Đã thanh toán lệ phí 4.000 đồng lúc 09:12." / "… Chưa thanh toán: nộp tại quầy."; "" where
    the kiosk took no payment (the fee line as before)."""
    payment = getattr(outcome, "payment", None)
    if not payment:
        return ""
    state = payment.get("state")
    if state == "paid":
        paid = fee_text({"amount": payment.get("amount_paid") or outcome.payment_due}, lang)
        try:
            at = dt.datetime.fromisoformat(str(payment.get("paid_at"))).astimezone(clock.VN_TZ)
            time_text = f"{at:%H:%M}"
        except ValueError:
            time_text = "—"
        return tr("receipt.todo_paid", lang, fee=paid, time=time_text)
    return tr("receipt.todo_flagged" if state == "flagged" else "receipt.todo_unpaid", lang, fee=fee)


def todo_items(outcome, lang: str) -> list[str]:
    """The numbered "Việc cần làm" lines of the receipt screen, in ``lang``: the same facts the
    paper prints (amount, hour, counter, originals, lookup code), from the same data."""
    from flows.steps.receipt import originals_to_bring

    a = app()
    engine = a.session.engine
    receipt = outcome.receipt or {}
    counter = counter_text(receipt, lang)
    fee = fee_text(engine.fee(), lang) if engine is not None else receipt.get("fee", "")
    fee_item = payment_item(outcome, fee, lang) or tr("receipt.todo_fee", lang, fee=fee)
    names = [pick(d.name, lang) for d in originals_to_bring(engine)] if engine is not None else []
    if outcome.provisional:
        # with the key the kiosk made for the TAM code, the citizen can look it up once it is sent
        later = (tr("receipt.todo_lookup_provisional", lang, code=outcome.code, secret=outcome.lookup_secret,
                    counter=counter) if outcome.lookup_secret
                 else tr("receipt.todo_later", lang, counter=counter, code=outcome.code))
        items = [tr("receipt.todo_keep", lang), later]
        if fee:
            items.append(tr("receipt.todo_fee", lang, fee=fee))
        if names:
            items.append(tr("receipt.todo_originals", lang, names="; ".join(names)))
        return items
    at = receipt.get("come_back_at") or _come_back(outcome.received_at, outcome.appointment_date)
    items = [fee_item,
             tr("receipt.todo_come", lang, time=_hour(at, lang), date=f"{at:%d/%m/%Y}", counter=counter)]
    if names:
        items.append(tr("receipt.todo_originals", lang, names="; ".join(names)))
    items.append(tr("receipt.todo_bring", lang))
    if outcome.lookup_secret:
        items.append(tr("receipt.todo_lookup", lang, code=outcome.code, secret=outcome.lookup_secret))
    return items


class ReceiptScreen(StepScreen):
    show_back = False

    def build_body(self, body):
        a = app()
        lang = a.lang
        out = a.session.outcome
        if out is None:
            body.add_widget(Text("—", role="body"))
            return
        row = BoxLayout(spacing=24)
        left = Column(spacing=12, padding=[0, 0, 24, 0])
        left.add_widget(spoken_as(Text(tr("receipt.title", lang), role="title", bold=True,
                                       color=theme().ok if not out.provisional else theme().danger),
                                  NOTICE if out.provisional else None))
        # the code on a line of its own, as large as fits: at ×2 text "Mã hồ sơ: 01.00004-…" is
        # wider than the column and Kivy would cut the code itself in two
        left.add_widget(Text(tr("receipt.code_label", lang), role="title", bold=True))
        left.add_widget(OneWord(out.code, role="title", bold=True))
        if out.lookup_secret:
            left.add_widget(Text(tr("receipt.lookup_secret", lang, secret=out.lookup_secret), role="title", bold=True))
        if out.provisional:
            left.add_widget(error_text(tr("receipt.provisional", lang, code=out.code)))
        if out.printed:
            left.add_widget(Text(tr("receipt.printed", lang), role="body"))
        else:
            left.add_widget(error_text(tr("receipt.print_failed", lang, reason=user_message(out.print_error, lang))))
        left.add_widget(Text(tr("receipt.todo", lang), role="title", bold=True))
        for i, item in enumerate(todo_items(out, lang), 1):
            left.add_widget(Text(f"{i}. {item}", role="body"))
        holder = scroller(left)
        holder.size_hint_x = 0.62
        row.add_widget(holder)
        if out.preview_png:
            from io import BytesIO

            from kivy.core.image import Image as CoreImage

            img = Image(size_hint_x=0.38)
            img.texture = CoreImage(BytesIO(out.preview_png), ext="png").texture
            row.add_widget(img)
        body.add_widget(row)
        # the one filled button, bottom-right like every "Tiếp tục ▶" before it
        body.add_widget(footer(self._ticket_button(out, lang), BigButton(tr("receipt.finish", lang), kind="primary",
                                                                         on_press=lambda: a.go("rating"))))

    def _ticket_button(self, out, lang):
        """Originals to show at the counter: a number for it, carrying this dossier's code, so the
        officer who calls it opens the dossier at once. Not for a provisional slip: central does not
        know the dossier yet."""
        from flows.steps.receipt import originals_to_bring

        a = app()
        engine = a.session.engine
        if out.provisional or engine is None or a.session.flow is None or not originals_to_bring(engine):
            return BoxLayout()
        field_vi = a.session.flow.field["vi"]
        return BigButton(tr("receipt.take_ticket", lang), kind="secondary",
                         on_press=lambda: a.sm.get_screen("ticket").for_dossier(field_vi, out.code))


class OneWord(Text):
    """A text that must not be broken (a dossier code): its font shrinks from the role's size
    until the whole of it fits the width on one line."""

    def __init__(self, text: str, role: str = "title", **kw):
        super().__init__(text, role=role, **kw)
        self.base_size = self.font_size
        self.bind(width=self._fit_font)

    def _fit_font(self, *_):
        from kivy.core.text import Label as CoreLabel

        if self.width <= 1:
            return
        probe = CoreLabel(text=self.text, font_size=self.base_size, bold=self.bold, font_name=self.font_name)
        wide = probe.get_extents(self.text)[0]
        room = self.width - 8
        self.font_size = self.base_size if wide <= room else max(12, int(self.base_size * room / wide))
