"""Citizen-facing texts of the kiosk shell, Vietnamese first, English second.

Procedure texts come from the flow definitions; device and validation messages come from the
errors that carry ``message_vi`` / ``message_en``; the texts of a step kind's screen live with the
kind (``kiosk/ui/steps/<kind>.py``, ``STRINGS``). ``tr(key, lang)`` finds both and falls back to
Vietnamese.
"""
from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("Ki-ốt dịch vụ công", "Public service kiosk"),
    "home.welcome": ("Xin chào! Quý khách cần làm gì?", "Hello! What would you like to do?"),
    "home.procedure": ("Làm thủ tục hành chính", "File an application"),
    "home.ticket": ("Lấy số thứ tự", "Take a queue number"),
    "home.lookup": ("Tra cứu hồ sơ", "Check an application"),
    "home.rating": ("Đánh giá mức độ hài lòng", "Rate our service"),
    "home.no_filing": ("Ki-ốt tạm thời chưa nhận được hồ sơ. Xin mời Quý khách đến quầy tiếp nhận; "
                       "Quý khách vẫn có thể lấy số thứ tự và tra cứu hồ sơ tại đây.",
                       "This kiosk cannot take applications right now. Please go to the reception desk; "
                       "you can still take a queue number and check an application here."),
    "home.hint": ("Chạm vào nút để bắt đầu. Cần hỗ trợ? Hãy hỏi cán bộ tại quầy.",
                  "Touch a button to start. Need help? Ask the staff at the desk."),
    "lang.switch": ("English", "Tiếng Việt"),
    "text.large": ("Chữ to", "Large text"),
    "text.normal": ("Chữ thường", "Normal text"),
    "contrast": ("Tương phản cao", "High contrast"),
    "nav.back": ("◀ Quay lại", "◀ Back"),
    "nav.restart": ("Làm lại từ đầu", "Start over"),
    "nav.next": ("Tiếp tục ▶", "Continue ▶"),
    "nav.home": ("Về trang chủ", "Home"),
    "nav.help": ("Xem hướng dẫn", "Watch help"),
    "nav.listen": ("Đọc to", "Read aloud"),
    "picker.title": ("Chọn thủ tục", "Choose a procedure"),
    "picker.search": ("Tìm thủ tục (gõ không dấu cũng được)", "Search (accents optional)"),
    "picker.scan": ("Hoặc quét mã QR thủ tục trên tờ hướng dẫn", "Or scan the procedure QR on a leaflet"),
    "picker.none": ("Không tìm thấy thủ tục phù hợp.", "No matching procedure."),
    "picker.all": ("Tất cả", "All"),
    "lookup.title": ("Tra cứu hồ sơ", "Check an application"),
    "lookup.scan": ("Đưa mã QR trên biên nhận vào máy quét, hoặc nhập mã hồ sơ và mã tra cứu.",
                    "Scan the QR on your receipt, or type the application code and lookup key."),
    "lookup.code": ("Mã hồ sơ", "Application code"),
    "lookup.secret": ("Mã tra cứu", "Lookup key"),
    "lookup.button": ("Tra cứu", "Look up"),
    "lookup.not_found": ("Không tìm thấy hồ sơ. Xin kiểm tra lại mã.", "Not found. Please check the codes."),
    "lookup.offline": ("Không kết nối được hệ thống. Xin thử lại sau ít phút.",
                       "Cannot reach the system. Please try again in a few minutes."),
    "status.received": ("Đã tiếp nhận", "Received"),
    "status.processing": ("Đang giải quyết", "In progress"),
    "status.done": ("Đã có kết quả", "Result ready"),
    "status.returned": ("Trả lại, cần bổ sung", "Returned for completion"),
    "rating.title": ("Quý khách có hài lòng không?", "Are you satisfied?"),
    "rating.very": ("Rất hài lòng", "Very satisfied"),
    "rating.ok": ("Hài lòng", "Satisfied"),
    "rating.not": ("Không hài lòng", "Not satisfied"),
    "rating.why": ("Vì sao Quý khách chưa hài lòng?", "Why were you not satisfied?"),
    "rating.reason.wait": ("Chờ lâu", "Long wait"),
    "rating.reason.hard": ("Khó sử dụng", "Hard to use"),
    "rating.reason.staff": ("Thái độ phục vụ", "Staff attitude"),
    "rating.reason.other": ("Lý do khác", "Other"),
    "goodbye.title": ("Cảm ơn Quý khách!", "Thank you!"),
    "goodbye.text": ("Thông tin của Quý khách đã được xóa khỏi ki-ốt.", "Your data has been erased from the kiosk."),
    "idle.title": ("Quý khách còn ở đây không?", "Are you still there?"),
    "idle.text": ("Phiên làm việc sẽ kết thúc và dữ liệu bị xóa sau {n} giây.",
                  "The session ends and your data is erased in {n} seconds."),
    "idle.stay": ("Tôi vẫn đang dùng", "I'm still here"),
    "error.title": ("Xin lỗi, đã có lỗi xảy ra", "Sorry, something went wrong"),
    "error.text": ("Ki-ốt sẽ quay về trang chủ. Hồ sơ đã nộp không bị mất. Nếu cần, xin hỏi cán bộ tại quầy.",
                   "The kiosk will return home. Submitted applications are safe. Ask the staff if needed."),
    "maint.title": ("Chế độ bảo trì", "Maintenance mode"),
    "maint.pin": ("Nhập mã PIN kỹ thuật viên", "Technician PIN"),
    "maint.wrong": ("Sai mã PIN", "Wrong PIN"),
    "kb.space": ("dấu cách", "space"),
    "kb.done": ("Xong", "Done"),
    "kb.clear": ("Xóa hết", "Clear"),
}


def tr(key: str, lang: str = "vi", **kwargs) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        from kiosk.ui.steps import strings

        pair = strings().get(key, (key, key))
    vi, en = pair
    text = en if lang == "en" else vi
    return text.format(**kwargs) if kwargs else text


def pick(texts: dict | str | None, lang: str = "vi") -> str:
    """A {vi, en} dict from a flow definition (or a plain string) in the session's language."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")
