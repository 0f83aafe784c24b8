"""The outbox's typed errors, in their own module so the outbox and its key source share them
without importing each other."""
from __future__ import annotations

from kiosk.errors import BilingualError


class OutboxError(BilingualError):
    """The outbox cannot do what was asked; ``message_vi`` can be shown to the citizen."""

    message_vi = "Máy không lưu được hồ sơ. Vui lòng liên hệ cán bộ tại quầy để được hỗ trợ."
    message_en = "The kiosk could not save the dossier."

    def __init__(self, message_en: str, message_vi: str | None = None):
        super().__init__(message_en, message_vi)


class OutboxFull(OutboxError):
    """The disk is full: the dossier was NOT saved (the transaction rolled back)."""

    message_vi = "Bộ nhớ của máy đã đầy nên chưa lưu được hồ sơ. Vui lòng liên hệ cán bộ tại quầy."


class OutboxKeyError(OutboxError):
    """The outbox key is missing, unreachable, locked, malformed or does not decrypt the stored data.

    ``message_en`` is for technicians (it names the key's store, never the key);
    ``message_vi`` is the Vietnamese line for the technician or the citizen.
    """

    message_vi = "Khóa mã hóa của hộp hồ sơ chờ gửi không dùng được; vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu."
