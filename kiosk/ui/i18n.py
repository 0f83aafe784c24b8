"""Citizen-facing texts of the kiosk shell, Vietnamese first, English second.

Procedure texts come from the flow definitions; device and validation messages come from the
errors that carry ``message_vi`` / ``message_en``. ``tr(key, lang)`` falls back to Vietnamese.
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
    "identify.title": ("Xác thực bằng thẻ căn cước", "Identify with your ID card"),
    "identify.place": ("Đặt thẻ căn cước lên đầu đọc và giữ yên trong khi đọc.",
                       "Place your ID card on the reader and keep it still."),
    "identify.qr": ("Đưa mã QR ở mặt thẻ vào máy quét", "Hold the QR code on your card to the scanner"),
    "identify.can": ("Nhập 6 số cuối số định danh", "Type the last 6 digits of your ID number"),
    "identify.manual": ("Tôi không có thẻ gắn chip: nhập tay", "No chip card: type my details"),
    "identify.reading": ("Đang đọc thẻ, xin giữ yên thẻ…", "Reading the card, keep it still…"),
    "identify.done": ("Đã đọc thẻ của: {name}", "Card read: {name}"),
    "identify.sim": ("[Mô phỏng] Quét mã QR của thẻ mẫu", "[Simulation] Scan the sample card's QR"),
    "identify.read": ("Đọc thẻ", "Read card"),
    "identify.verified": ("Dữ liệu trên thẻ đã được xác thực chữ ký số.", "The card's data is digitally verified."),
    "identify.unverified": ("Chưa xác thực được chữ ký số của thẻ; cán bộ sẽ đối chiếu khi tiếp nhận.",
                            "The card's signature could not be checked; staff will verify it."),
    "identify.checks_failed": ("Dữ liệu trên thẻ không xác thực được. Vui lòng gặp cán bộ tại quầy.",
                               "The card data could not be verified. Please see the staff at the desk."),
    "identify.missing": ("Thẻ không có các thông tin: {fields}. Quý khách sẽ nhập ở bước sau.",
                         "The card lacks: {fields}. You will type them later."),
    "form.required": ("Vui lòng điền thông tin này.", "Please fill this in."),
    "form.from_card": ("Lấy từ thẻ căn cước", "From your ID card"),
    "form.yes": ("Có", "Yes"),
    "form.calendar": ("Chọn ngày trên lịch", "Pick on a calendar"),
    "form.no": ("Không", "No"),
    "docs.title": ("Giấy tờ kèm theo", "Supporting documents"),
    "docs.capture": ("Chụp giấy tờ", "Photograph"),
    "docs.retake": ("Chụp lại", "Retake"),
    "docs.keep": ("Dùng ảnh này", "Use this photo"),
    "docs.done": ("Đã chụp", "Captured"),
    "docs.optional": ("(không bắt buộc)", "(optional)"),
    "docs.required_missing": ("Vui lòng chụp các giấy tờ bắt buộc.", "Please photograph the required documents."),
    "docs.place": ("Đặt giấy tờ lên khay, thẳng và đủ sáng, rồi bấm Chụp.",
                   "Lay the paper flat on the tray in good light, then press Photograph."),
    "unit.title": ("Nơi giải quyết hồ sơ", "Where your application is handled"),
    "unit.hint": ("Quý khách có thể nộp tại đây cho bất kỳ xã, phường nào trong tỉnh.",
                  "You may file here for any commune of the province."),
    "unit.search": ("Tìm xã, phường", "Search communes"),
    "unit.chosen": ("Đã chọn: {name}", "Chosen: {name}"),
    "review.title": ("Kiểm tra lại thông tin", "Check your details"),
    "review.applicant": ("Người nộp hồ sơ", "Applicant"),
    "review.documents": ("Giấy tờ", "Documents"),
    "review.unit": ("Nơi giải quyết", "Handled by"),
    "review.fee": ("Lệ phí", "Fee"),
    "review.appointment": ("Ngày hẹn trả kết quả (dự kiến)", "Expected result date"),
    "guide.due_if_now": ("Nếu nộp hồ sơ bây giờ, ngày hẹn trả kết quả là", "If you file now, the result is due on"),
    "consent.title": ("Đồng ý xử lý dữ liệu cá nhân", "Consent to personal data processing"),
    "consent.agree": ("Tôi đồng ý", "I agree"),
    "consent.needed": ("Cần có sự đồng ý của Quý khách để nộp hồ sơ.", "Your consent is needed to file."),
    "submit.title": ("Nộp hồ sơ", "Submit"),
    "submit.button": ("Nộp hồ sơ", "Submit application"),
    "submit.sending": ("Đang gửi hồ sơ…", "Sending your application…"),
    "receipt.title": ("Đã tiếp nhận hồ sơ", "Application received"),
    "receipt.code": ("Mã hồ sơ: {code}", "Application code: {code}"),
    "receipt.printed": ("Biên nhận đã được in. Xin nhận giấy ở khe máy in.",
                        "Your receipt has been printed. Please take it from the printer."),
    "receipt.provisional": (
        "Mạng đang gián đoạn: hồ sơ đã được lưu an toàn và sẽ tự động gửi khi có mạng. "
        "Xin giữ biên nhận tạm có mã {code}.",
        "The network is down: your application is stored safely and will be sent automatically. "
        "Keep the provisional receipt with code {code}.",
    ),
    "receipt.print_failed": ("Máy in đang gặp sự cố: {reason} Xin báo cán bộ để in lại biên nhận.",
                             "The printer has a problem: {reason} Ask the staff to reprint your receipt."),
    "receipt.finish": ("Hoàn tất", "Finish"),
    "ticket.title": ("Lấy số thứ tự", "Take a queue number"),
    "ticket.choose": ("Chọn lĩnh vực cần giải quyết", "Choose the service"),
    "ticket.number": ("Số thứ tự của Quý khách: {number}", "Your number: {number}"),
    "ticket.ahead": ("Số phiếu đã phát trước Quý khách hôm nay: {n}", "Tickets issued before yours today: {n}"),
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


def group_thousands(value, lang: str = "vi", at_least: int = 10000) -> str | None:
    """50000000 → "50.000.000" (Vietnamese groups thousands with dots, English with commas);
    None for small or non-integer values, which read fine as they are."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != int(number) or abs(number) < at_least:
        return None
    return f"{int(number):,}".replace(",", "." if lang == "vi" else ",")
