"""Errors a person reads: one base for every package, Vietnamese first, English second.

Devices, flows, the client and the outbox raise subclasses of :class:`BilingualError`; screens
show :func:`user_message` of whatever they caught, so a citizen never sees a traceback or an
English-only text, and each screen does not need its own ``getattr`` dance. No Kivy here: the
devices and the central system import it too.
"""
from __future__ import annotations


class BilingualError(Exception):
    """``message_vi`` for the citizen or technician, ``message_en`` for the English screen and logs.

    Subclasses set class-level defaults; an instance may carry a more precise text. ``code`` is a
    stable machine-readable reason where a package has one. Messages never hold personal data:
    they end up in logs and support bundles.
    """

    message_vi = "Đã có lỗi xảy ra. Quý khách vui lòng thử lại hoặc báo cán bộ hỗ trợ."
    message_en = "Something went wrong."
    code = ""

    def __init__(self, *, en: str | None = None, vi: str | None = None, code: str = "", detail: str = ""):
        # keyword-only, the one constructor of every subclass: en=/vi= never swap places
        if en:
            self.message_en = en
        if vi:
            self.message_vi = vi
        if code:
            self.code = code
        self.detail = detail
        # str(): the English text plus the technician's detail, for logs; never shown to citizens
        super().__init__(f"{self.message_en} ({detail})" if detail else self.message_en)

    def message(self, lang: str = "vi") -> str:
        return self.message_vi if lang == "vi" else self.message_en


def user_message(exc: BaseException, lang: str = "vi", fallback_vi: str | None = None,
                 fallback_en: str | None = None) -> str:
    """What a screen shows for ``exc``: its own message in ``lang``, else the fallback, else a
    generic apology. Never ``str(exc)`` of an unknown error: that is for logs, not citizens."""
    if isinstance(exc, BilingualError):
        return exc.message(lang)
    if lang == "vi":
        return fallback_vi or BilingualError.message_vi
    return fallback_en or fallback_vi or BilingualError.message_en
