"""Maintenance mode behind a hidden gesture and the technician PIN: the same diagnostics as the CLI."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from common import clock
from common.errors import user_message
from kiosk.ui.i18n import tr
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.step import error_text
from kiosk.ui.theme import SPACING_MIN
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller
from kiosk.ui.widgets.keyboard import NumPad, VnField


class PinScreen(KioskScreen):
    title_key = "maint.pin"
    show_restart = False

    def build_body(self, body):
        lang = app().lang
        # the field and its message as one block, no spacer: at ×2 text the field, the keypad and
        # "◀ Quay lại" only just fit under the title, and a body taller than its room is drawn
        # over the title
        self.pin = VnField("pin", tr("maint.pin", lang), kind="pin", secret=True, max_len=12)
        top = Column(spacing=0)
        top.add_widget(self.pin)
        self.msg = error_text()
        top.add_widget(self.msg)
        body.add_widget(top)
        body.add_widget(NumPad(on_done=self._check))
        self.pin.focus()

    def show_keyboard(self, field):
        pass  # the keypad is always there

    def _check(self):
        a = app()
        verdict = a.check_pin(self.pin.text)
        self.pin.clear()
        if verdict.ok:
            a.go("maintenance")
        elif verdict.locked:
            self.msg.text = tr("maint.locked", a.lang)
        elif verdict.wait_s > 0:
            self.msg.text = tr("maint.wait", a.lang, seconds=int(verdict.wait_s + 0.999))
        else:
            self.msg.text = tr("maint.wrong", a.lang)


class MaintenanceScreen(KioskScreen):
    title_key = "maint.title"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.report = ""

    def reset(self):
        self.report = ""

    def on_pre_enter(self, *args):
        self.report = "…"
        super().on_pre_enter(*args)
        self._run_diag()

    def on_leave(self, *args):
        app().listen_for_qr(None)
        if getattr(self, "_cam_ev", None):
            self._cam_ev.cancel()

    def build_body(self, body):
        row = Row(spacing=SPACING_MIN)
        row.add_widget(BigButton("Chẩn đoán / Diagnose", kind="secondary", on_press=self._run_diag))
        row.add_widget(BigButton("Hồ sơ chờ / Outbox", kind="secondary", on_press=self._outbox))
        row.add_widget(BigButton("Nhật ký / Log tail", kind="secondary", on_press=self._log_tail))
        row.add_widget(BigButton("Khởi động lại / Restart", kind="danger", on_press=self._restart))
        body.add_widget(row)
        row = Row(spacing=SPACING_MIN)
        row.add_widget(BigButton("Đọc thẻ thử / Card", kind="secondary", on_press=self._test_card))
        row.add_widget(BigButton("Quét QR thử / QR", kind="secondary", on_press=self._test_qr))
        row.add_widget(BigButton("Camera", kind="secondary", on_press=self._test_camera))
        row.add_widget(BigButton("In trang thử / Test page", kind="secondary", on_press=self._test_page))
        body.add_widget(row)
        col = Column(spacing=6)
        self.out = Text(self.report, role="small")
        col.add_widget(self.out)
        body.add_widget(scroller(col))
        body.add_widget(BigButton(tr("nav.home", app().lang), kind="primary", on_press=lambda: app().end_session()))

    def _set(self, text):
        self.report = text
        self.out.text = text

    def _run_diag(self):
        a = app()

        def work():
            from kiosk.diagnostics import format_table, run_all

            return format_table(run_all(a.cfg, services=a.services))

        a.run_async(work, on_done=self._set, on_error=lambda e: self._set(f"diagnostics failed: {type(e).__name__}: {e}"))

    def _test_page(self):
        a = app()

        def work():

            job = a.services.printer.print_layout("test_page", {"kiosk_id": a.cfg["kiosk"]["id"],
                                                                 "printed_at": clock.now()})
            return f"test page printed: {getattr(job, 'bytes_sent', '?')} bytes"

        a.run_async(work, on_done=self._set, on_error=lambda e: self._set(user_message(e, "vi", str(e))))

    def _outbox(self):
        a = app()

        def work():
            import json

            status = a.services.outbox.status() if a.services.outbox else {"error": "outbox not open"}
            bundles = a.services.bundles.status() if a.services.bundles else {}
            return "outbox: " + json.dumps(status, default=str, ensure_ascii=False, indent=1) + \
                "\nflow bundle: " + json.dumps(bundles, default=str, ensure_ascii=False, indent=1)

        a.run_async(work, on_done=self._set, on_error=lambda e: self._set(f"{type(e).__name__}: {e}"))

    def _test_card(self):
        """A test read of the card on the reader (sim: the sample card through its QR key).
        Only the outcome is shown, never the card holder's data."""
        a = app()

        def work():
            from devices.idcard import AccessKey
            from devices.qr.scanner import SIM_CITIZEN_QR

            if a.cfg["devices.idcard"]["backend"] != "sim":
                return "Đặt thẻ thử lên đầu đọc rồi chạy `kiosk diag idcard --can NNNNNN` trên máy kỹ thuật."
            card = a.services.read_card(AccessKey.from_qr(SIM_CITIZEN_QR), groups=("DG1", "DG13"))
            checks = ", ".join(f"{k}={getattr(v, 'status', v)}" for k, v in card.checks.items())
            return f"card read OK with {card.access_control}; {checks}"

        self._set("…")
        a.run_async(work, on_done=self._set,
                    on_error=lambda e: self._set(user_message(e, "vi", type(e).__name__)))

    def _test_qr(self):
        a = app()
        self._set("Đưa một mã QR vào máy quét… / Show a QR code to the scanner…")
        if a.cfg["devices.qr"]["backend"] == "sim":
            a.services.scanner.inject(b"kiosk://flow/khai-sinh")

        def got(payload: bytes):
            from devices.qr.payloads import PayloadError, parse_any

            a.listen_for_qr(None)
            try:
                kind = type(parse_any(payload)).__name__
            except PayloadError as exc:
                kind = f"not ours ({exc.code})"
            self._set(f"QR read OK: {len(payload)} bytes, {kind}")  # the content may be personal

        a.listen_for_qr(got)

    def _test_camera(self):
        a = app()

        def work():
            import cv2

            cam = a.services.open_camera()
            frame = cam.frame()
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            focus = cv2.Laplacian(gray, cv2.CV_64F).var()
            return f"camera OK: {frame.shape[1]}×{frame.shape[0]}, focus {focus:.0f}, brightness {gray.mean():.0f}/255"

        self._set("…")
        a.run_async(work, on_done=self._set, on_error=lambda e: self._set(user_message(e, "vi", str(e))))

    def _log_tail(self):
        path = Path(app().cfg["logging"]["file"] or "")
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            self._set("\n".join(lines))
        else:
            self._set("no log file configured")

    def _restart(self):
        a = app()
        a.stop()
        os.execv(sys.executable, [sys.executable] + sys.argv)
