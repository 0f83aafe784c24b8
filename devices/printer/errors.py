"""Printer errors: a reason code for code, a plain message for the citizen (Vietnamese) and for
the technician (English). Messages never carry personal data."""
from __future__ import annotations

from common.errors import BilingualError

_MESSAGES = {
    "paper_out": ("Máy in đã hết giấy. Vui lòng báo cán bộ tại quầy để được in lại phiếu.",
                  "The printer is out of paper; the job is kept for reprinting."),
    "cover_open": ("Nắp máy in đang mở. Vui lòng báo cán bộ tại quầy để được in lại phiếu.",
                   "The printer cover is open; the job is kept for reprinting."),
    "offline": ("Máy in đang tạm ngừng hoạt động. Vui lòng báo cán bộ tại quầy.",
                "The printer reports it is offline; the job is kept for reprinting."),
    "unreachable": ("Không kết nối được với máy in. Vui lòng báo cán bộ tại quầy.",
                    "Cannot reach the printer; the job is kept for reprinting."),
    "bad_data": ("Thiếu hoặc sai thông tin để in phiếu. Vui lòng báo cán bộ tại quầy.",
                 "The layout data is missing or invalid."),
    "unknown_layout": ("Không có mẫu phiếu này. Vui lòng báo cán bộ tại quầy.",
                       "No such layout."),
    "no_job": ("Không có phiếu nào chờ in lại.", "No such job in the spool."),
}


class PrinterError(BilingualError):
    """``reason`` is one of the keys above; ``job_id`` names the spooled job when one was kept."""

    def __init__(self, reason: str, detail: str = "", job_id: str | None = None):
        vi, en = _MESSAGES[reason]
        super().__init__(en + (f" ({detail})" if detail else ""), vi, code=reason)
        self.reason = reason
        self.job_id = job_id


class LayoutError(PrinterError):
    """The layout does not exist or the data given to it is missing or wrong."""

    def __init__(self, detail: str, reason: str = "bad_data"):
        super().__init__(reason, detail)
