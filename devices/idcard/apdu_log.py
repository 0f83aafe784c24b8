"""The APDU log on disk, for technicians: one small text file per card read, newest ``keep`` kept.

A read's log lines (:class:`devices.idcard.session.ChipSession`) name each command, its P1P2, Lc
and Le, the file identifiers SELECT asks for, answer lengths and status words: never a data byte,
a key, the CAN or the MRZ. :func:`format_log` (pure) adds a header (when, which reader, which quirks
entry, how the read ended) and passes every line through :func:`common.redact.redact` once more, so
a detail text that carried a value is still cleaned. :class:`ApduLogWriter` writes it as
``<folder>/read-YYYYmmdd-HHMMSS-NNN.log`` (mode 0600, folder 0700) and deletes the oldest files
beyond ``keep``; the support bundle (``kiosk diag bundle``) picks the folder up.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from common import clock
from common.redact import redact

log = logging.getLogger(__name__)

PREFIX = "read-"
_NAME = re.compile(r"read-\d{8}-\d{6}-\d{3}\.log")


def format_log(lines: Iterable[str], *, at: dt.datetime, reader: str = "", quirks: Mapping | None = None,
               outcome: str = "", stats: Mapping | None = None) -> str:
    """The text of one read's log. ``quirks``: :meth:`ReaderQuirks.summary`; ``stats``: the read's
    counters (apdus, block, seconds)."""
    head = [f"# card read at {at.isoformat(timespec='seconds')}"]
    if reader:
        head.append(f"# reader: {reader}")
    if quirks:
        parts = [f"entry {quirks.get('entry')}", f"sizes {quirks.get('read_sizes')}",
                 f"protocols {','.join(quirks.get('protocols') or [])}"]
        if quirks.get("firmware"):
            parts.append(f"firmware {quirks['firmware']}")
        head.append("# quirks: " + ", ".join(parts))
        for key in ("overrides", "warnings"):
            for text in quirks.get(key) or []:
                head.append(f"# {key[:-1]}: {text}")
    if stats:
        head.append("# stats: " + ", ".join(f"{k} {stats[k]}" for k in ("apdus", "block", "seconds") if k in stats))
    if outcome:
        head.append(f"# outcome: {outcome}")
    return "\n".join(redact(line) for line in [*head, *lines]) + "\n"


class ApduLogWriter:
    """Writes each read's log into ``folder`` and keeps the newest ``keep`` files (0: none)."""

    def __init__(self, folder: str | os.PathLike, keep: int = 20):
        self.folder = Path(folder)
        self.keep = int(keep)

    def write(self, text: str, at: dt.datetime | None = None) -> Path | None:
        """Write one log; a full disk or a read-only folder is logged, never raised: the card read
        it describes has happened either way."""
        if self.keep <= 0:
            return None
        at = at or clock.now()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self._create(text, at)
            self.prune()
            return path
        except OSError as exc:
            log.warning("APDU log not written to %s: %s", self.folder, exc)
            return None

    def _create(self, text: str, at: dt.datetime) -> Path:
        stamp = f"{PREFIX}{at:%Y%m%d-%H%M%S}"
        # two reads in one second (or a frozen test clock): number on after the last one of that
        # second, never into a gap pruning left, so the names keep sorting in write order
        taken = [int(p.name[len(stamp) + 1:-4]) for p in self.files() if p.name.startswith(stamp + "-")]
        for n in range(max(taken, default=-1) + 1, 1000):
            path = self.folder / f"{stamp}-{n:03d}.log"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return path
        raise FileExistsError(f"{stamp}-999.log")

    def files(self) -> list[Path]:
        """This writer's files, oldest first (the name sorts by time)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if _NAME.fullmatch(p.name) and p.is_file())

    def prune(self) -> None:
        for old in self.files()[:-self.keep] if self.keep > 0 else self.files():
            try:
                old.unlink()
            except FileNotFoundError:
                pass
