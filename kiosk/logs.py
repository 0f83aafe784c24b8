"""Logging set-up: every record passes the personal-data redaction filter before any handler."""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from common.redact import redact


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it, and freezes it so handlers cannot re-expand args."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the log line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        return True


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record, not at setup: a command
    run in-process (tests, the maintenance screen) must not keep a stream that was closed since."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup_logging(level: str = "INFO", file: str | os.PathLike | None = None) -> None:
    """Root logger → stderr (and a rotating file), each handler behind the redaction filter."""
    root = logging.getLogger()
    root.setLevel(level)
    for h in list(root.handlers):
        if getattr(h, "_kiosk", False):
            root.removeHandler(h)
    handlers: list[logging.Handler] = [_StderrHandler()]
    if file:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(logging.Formatter(_FORMAT))
        h.addFilter(RedactingFilter())
        h._kiosk = True  # type: ignore[attr-defined]
        root.addHandler(h)
