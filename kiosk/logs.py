"""Logging set-up: every record passes the personal-data redaction filter before any handler.

The filter (``common.redact.RedactingFilter``) lives in ``common`` so that processes without the
kiosk (the central system's worker processes) put the same one on their handlers."""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from common.redact import LOG_FORMAT, RedactingFilter

__all__ = ["RedactingFilter", "setup_logging"]

_FORMAT = LOG_FORMAT


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
