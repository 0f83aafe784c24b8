"""Public test corpora made by others (photos of QR codes, real passports' security objects) live
outside this repository.

Data that comes from other projects is not committed here: the steering repository places it
under its ``shared/corpora/<name>/`` (beside this checkout: ``../shared/corpora``), or a developer
points ``KIOSK_CORPORA`` at a folder holding the same layout. What this repository keeps per corpus
is its own text: a README (source, commit, licence, what was taken) and a ``SHA256SUMS`` manifest,
so that a corpus is used only when every file is exactly the one measured.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def base() -> Path:
    return Path(os.environ.get("KIOSK_CORPORA") or ROOT.parent / "shared" / "corpora")


def locate(name: str, manifest: Path) -> tuple[Path | None, str]:
    """(the corpus folder, "") when every file ``manifest`` lists is there with its hash; else
    (None, why not) — the reason names the folder looked in."""
    folder = base() / name
    if not folder.is_dir():
        return None, (f"corpus {name!r} is not on this machine: looked in {folder} (the steering repo's "
                      "shared/corpora, or $KIOSK_CORPORA)")
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, rel = line.split(maxsplit=1)
        path = folder / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return None, f"corpus {name!r} in {folder} differs from {manifest}: {rel}"
    return folder, ""
