"""The outbox's typed errors, in their own module so the outbox and its key source share them
without importing each other."""
from __future__ import annotations

from common.errors import BilingualError


class OutboxError(BilingualError):
    """The outbox cannot do what was asked; ``message_vi`` can be shown to the citizen."""

    message_vi = "Máy không lưu được hồ sơ. Vui lòng liên hệ cán bộ tại quầy để được hỗ trợ."
    message_en = "The kiosk could not save your application. Please ask the staff at the desk."
    # ``message_en`` stays the plain class text a citizen may read on the English screen; the
    # technician's text (paths, the key's store) is ``detail=``, which ``str()`` carries for logs


class OutboxFull(OutboxError):
    """The disk is full: the dossier was NOT saved (the transaction rolled back)."""

    message_vi = "Bộ nhớ của máy đã đầy nên chưa lưu được hồ sơ. Vui lòng liên hệ cán bộ tại quầy."
    message_en = "The kiosk's storage is full, so your application was not saved. Please ask the staff at the desk."


class OutboxKeyError(OutboxError):
    """The outbox key is missing, unreachable, locked, malformed or does not decrypt the stored data.

    ``str()`` is for technicians (it names the key's store, never the key);
    ``message_vi`` is the Vietnamese line for the technician or the citizen.
    """

    message_vi = "Khóa mã hóa của hộp hồ sơ chờ gửi không dùng được; vui lòng báo cán bộ kỹ thuật, không xóa dữ liệu."
    message_en = "The kiosk cannot use its storage key; please tell the technical staff, and delete nothing."
