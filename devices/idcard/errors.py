"""Typed errors of the chip card reader.

Every error the citizen may see carries a short Vietnamese message (``message_vi``) and an English
one for the technician (``message_en``). ``ParseError`` is raised by the pure parsers (TLV, MRZ,
DG13, LDS) on malformed bytes; the reader turns it into ``UnsupportedCard`` or ``VerificationFailed``.
"""
from __future__ import annotations

from common.errors import BilingualError


class CardError(BilingualError):
    """``detail=`` is the technical reason for logs (in ``str()``); the messages stay plain for people."""

    message_vi = "Không đọc được thẻ căn cước. Vui lòng thử lại."
    message_en = "The ID card could not be read."


class NoCard(CardError):
    message_vi = "Chưa có thẻ trên đầu đọc. Vui lòng đặt thẻ căn cước lên đầu đọc."
    message_en = "No card on the reader."


class CardRemoved(CardError):
    message_vi = "Thẻ đã bị nhấc ra khi đang đọc. Vui lòng đặt lại thẻ và giữ yên."
    message_en = "The card was removed during the read."


class WrongKey(CardError):
    message_vi = "Mã truy cập thẻ không đúng. Vui lòng kiểm tra 6 số cuối của số định danh cá nhân."
    message_en = "The access key (CAN or MRZ data) was refused by the chip."


class UnsupportedCard(CardError):
    message_vi = "Thẻ này không được hỗ trợ. Vui lòng dùng thẻ căn cước gắn chip."
    message_en = "Unsupported card (not an ICAO eMRTD chip, or an unsupported protocol)."


class VerificationFailed(CardError):
    message_vi = "Dữ liệu trên chip không vượt qua kiểm tra an toàn. Vui lòng liên hệ cán bộ hỗ trợ."
    message_en = "The chip data failed verification."


class ReaderUnavailable(CardError):
    message_vi = "Đầu đọc thẻ chưa sẵn sàng. Vui lòng báo cán bộ hỗ trợ."
    message_en = "The card reader is unplugged or not available."


class CardTimeout(CardError):
    message_vi = "Đọc thẻ quá lâu. Vui lòng đặt lại thẻ và thử lại."
    message_en = "The card read timed out."


class Cancelled(CardError):
    message_vi = "Đã huỷ đọc thẻ."
    message_en = "The card read was cancelled."


class SecureMessagingError(CardError):
    """A response failed its MAC check or its SM structure was wrong (tampered or garbled)."""

    message_vi = "Kết nối với chip không an toàn hoặc bị lỗi. Vui lòng đặt lại thẻ và thử lại."
    message_en = "Secure messaging failed (bad MAC or malformed protected response)."


class ParseError(CardError, ValueError):
    """Malformed bytes handed to a pure parser."""

    message_vi = "Dữ liệu trên thẻ không đúng định dạng."
    message_en = "Malformed data."


class StatusError(CardError):
    """The card answered a non-success status word."""

    message_en = "The card refused a command."

    def __init__(self, *, sw: int, detail: str = "", en: str | None = None, vi: str | None = None, code: str = ""):
        """``sw``: the status word; ``detail``: the command it answered (the SW is appended)."""
        self.sw = sw
        super().__init__(en=en, vi=vi, code=code, detail=f"{detail} SW={sw:04X}".strip())
