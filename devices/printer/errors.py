"""Printer errors: a reason code for code, a plain message for the citizen (Vietnamese) and for
the technician (English). Messages never carry personal data."""
from __future__ import annotations

from common.errors import BilingualError

# English texts say what happened, not what became of the job: a job is kept only when the spool
# is on, and ``job_id`` says so (the CLI prints it; the kiosk's screen tells the citizen to ask staff).
_MESSAGES = {
    "paper_out": ("Máy in đã hết giấy. Vui lòng báo cán bộ tại quầy để được in lại phiếu.",
                  "The printer is out of paper."),
    "cover_open": ("Nắp máy in đang mở. Vui lòng báo cán bộ tại quầy để được in lại phiếu.",
                   "The printer cover is open."),
    "offline": ("Máy in đang tạm ngừng hoạt động. Vui lòng báo cán bộ tại quầy.",
                "The printer reports it is offline."),
    "printer_error": ("Máy in đang báo lỗi. Vui lòng báo cán bộ tại quầy để được in lại phiếu.",
                      "The printer reports an error (cutter, print head or mechanism)."),
    "unreachable": ("Không kết nối được với máy in. Vui lòng báo cán bộ tại quầy.",
                    "Cannot reach the printer."),
    "no_status": ("Máy in không xác nhận đã in xong nên phiếu có thể chưa được in ra. "
                  "Vui lòng báo cán bộ tại quầy để kiểm tra và in lại phiếu nếu cần.",
                  "The printer took the job but did not confirm it could print it; the receipt may not have printed."),
    "busy": ("Máy in đang được một chương trình khác sử dụng. Vui lòng báo cán bộ kỹ thuật.",
             "The printer's port is in use by another process; nothing was sent."),
    "not_configured": ("Máy in chưa được cài đặt đúng. Vui lòng báo cán bộ kỹ thuật.",
                       "The printer is not configured (host, device or USB ids missing in [devices.printer]); nothing was printed."),
    "bad_data": ("Thiếu hoặc sai thông tin để in phiếu. Vui lòng báo cán bộ tại quầy.",
                 "The layout data is missing or invalid."),
    "unknown_layout": ("Không có mẫu phiếu này. Vui lòng báo cán bộ tại quầy.",
                       "No such layout."),
    "no_job": ("Không có phiếu nào chờ in lại.", "No such job in the spool."),
    "sealed": ("Không mở được phiếu đang chờ in lại. Vui lòng báo cán bộ kỹ thuật.",
               "The kept job is sealed with the outbox key, which this command could not load (or it was altered)."),
}


class PrinterError(BilingualError):
    """``code`` is one of the keys above (its texts are the defaults); ``detail`` is the
    technician's text, in ``str()`` only; ``job_id`` names the spooled job when one was kept."""

    def __init__(self, *, code: str = "", detail: str = "", job_id: str | None = None, en: str | None = None,
                 vi: str | None = None):
        code = code or self.code
        default_vi, default_en = _MESSAGES.get(code, (None, None))
        super().__init__(en=en or default_en, vi=vi or default_vi, code=code, detail=detail)
        self.job_id = job_id


class LayoutError(PrinterError):
    """The layout does not exist (``code="unknown_layout"``) or the data given to it is missing or wrong."""

    code = "bad_data"
