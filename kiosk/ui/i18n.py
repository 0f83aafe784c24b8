"""Citizen-facing texts of the kiosk shell, Vietnamese first, English second.

Procedure texts come from the flow definitions; device and validation messages come from the
errors that carry ``message_vi`` / ``message_en``; every text of the kiosk's own screens, each
step kind's included, is in ``texts.yaml`` beside this module. ``tr(key, lang)`` falls back to the
key itself (a test checks every key the screens ask for exists).
"""
from __future__ import annotations

from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).resolve().parent / "texts.yaml"


def _load() -> dict[str, tuple[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {key: (pair["vi"], pair["en"]) for key, pair in data.items()}


STRINGS: dict[str, tuple[str, str]] = _load()  # key → (Vietnamese, English), from texts.yaml


def tr(key: str, lang: str = "vi", **kwargs) -> str:
    vi, en = STRINGS.get(key, (key, key))
    text = en if lang == "en" else vi
    return text.format(**kwargs) if kwargs else text


def pick(texts: dict | str | None, lang: str = "vi") -> str:
    """A {vi, en} dict from a flow definition (or a plain string) in the session's language."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")
