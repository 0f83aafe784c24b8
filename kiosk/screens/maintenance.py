"""Maintenance mode behind a hidden gesture and the technician PIN: the same diagnostics as the CLI."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import tr
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BigButton, Column, Row, Text, app, scroller, theme
from kiosk.widgets.keyboard import NumPad, VnField


class PinScreen(KioskScreen):
    title_key = "maint.pin"
    show_restart = False

    def build_body(self, body):
        lang = app().lang
        self.pin = VnField("pin", tr("maint.pin", lang), kind="pin", secret=True, max_len=12)
        body.add_widget(self.pin)
        self.msg = Text("", role="body", color=theme().danger)
        body.add_widget(self.msg)
        body.add_widget(BoxLayout())
        body.add_widget(NumPad(on_done=self._check))
        self.pin.focus()

    def show_keyboard(self, field):
        pass  # the keypad is always there

    def _check(self):
        a = app()
        ok = a.check_pin(self.pin.text)
        self.pin.clear()
        if ok:
            a.go("maintenance")
        else:
            self.msg.text = tr("maint.wrong", a.lang)


class MaintenanceScreen(KioskScreen):
    title_key = "maint.title"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.report = ""

    def on_pre_enter(self, *args):
        self.report = "…"
        super().on_pre_enter(*args)
        self._run_diag()

    def build_body(self, body):
        row = Row(spacing=12)
        row.add_widget(BigButton("Chẩn đoán / Diagnose", kind="secondary", on_press=self._run_diag))
        row.add_widget(BigButton("In trang thử / Test page", kind="secondary", on_press=self._test_page))
        row.add_widget(BigButton("Nhật ký / Log tail", kind="secondary", on_press=self._log_tail))
        row.add_widget(BigButton("Khởi động lại / Restart", kind="danger", on_press=self._restart))
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
            import datetime as dt

            job = a.services.printer.print_layout("test_page", {"kiosk_id": a.cfg["kiosk"]["id"],
                                                                 "printed_at": dt.datetime.now()})
            return f"test page printed: {getattr(job, 'bytes_sent', '?')} bytes"

        a.run_async(work, on_done=self._set, on_error=lambda e: self._set(getattr(e, "message_vi", str(e))))

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
