"""How the applicant was identified, in words for the officer who works the dossier (issue 21): the
chip's checks and the face check's outcome from ``applicant.authentication`` — never an image.

A pure function of the dossier body's applicant; the dossier page shows its rows under "Người nộp".
"""
from __future__ import annotations

CHIP = {"PACE": "Đọc chip an toàn (PACE)", "BAC": "Đọc chip (BAC)", "none": "Không đọc chip"}
CHECK_WORDS = {"ok": "đạt", "failed": "KHÔNG ĐẠT", "not_checked": "chưa kiểm tra"}
# the names devices/idcard gives its checks (reader.py, passive.py), as an officer says them
CHECK_NAMES = {"hashes": "dữ liệu nguyên vẹn", "signature": "chữ ký của cơ quan cấp thẻ", "chain": "chứng thư gốc tin cậy",
               "validity": "chứng thư còn hạn", "chip_authentication": "chip thật (CA)",
               "active_authentication": "chip thật (AA)", "mrz_check_digits": "số kiểm tra MRZ",
               "consistency": "thông tin khớp nhau", "id_number": "số định danh hợp lệ"}


def _number(x) -> str:
    return f"{x:.2f}".replace(".", ",") if isinstance(x, (int, float)) and not isinstance(x, bool) else "?"


def face_text(auth: dict) -> str:
    """One line: passed with its numbers, who confirmed, or that the procedure does not ask it."""
    outcome = auth.get("face_match")
    face = auth.get("face") if isinstance(auth.get("face"), dict) else {}
    if outcome == "passed":
        live = " Đã kiểm tra người thật (chớp mắt, quay đầu)." if face.get("liveness") == "passed" else ""
        return (f"Khớp với ảnh trong chip (khoảng cách {_number(face.get('distance'))}, ngưỡng "
                f"{_number(face.get('threshold'))}).{live}")
    if outcome == "fallback_staff":
        who = str(face.get("confirmed_by") or "")
        tries = face.get("tries")
        after = f" sau {tries} lần máy so không được" if isinstance(tries, int) and tries > 0 else ""
        if who.startswith("officer:"):
            return f"Cán bộ {who[len('officer:'):]} đã xem thẻ và người nộp, xác nhận là một người{after}."
        return f"Cán bộ xác nhận bằng mã PIN của ki-ốt{after} (khi ki-ốt mất mạng: không ghi được tên cán bộ)."
    if outcome == "not_required":
        return "Thủ tục này không yêu cầu so khuôn mặt."
    if outcome == "failed":
        return "KHÔNG KHỚP — cần kiểm tra lại người nộp tại quầy."
    return "Không có thông tin."


def identity_rows(applicant: dict) -> list[tuple[str, str, str]]:
    """(Vietnamese label, English label, text) rows: the chip's checks, then the face check."""
    auth = applicant.get("authentication") if isinstance(applicant.get("authentication"), dict) else {}
    rows = []
    if applicant.get("source") == "chip":
        checks = auth.get("checks") if isinstance(auth.get("checks"), dict) else {}
        words = [f"{CHECK_NAMES.get(k, k)}: {CHECK_WORDS.get(v, str(v))}" for k, v in checks.items()]
        rows.append(("Thẻ căn cước", "ID card", "; ".join([CHIP.get(auth.get("access_control"), "Đọc chip")] + words)))
    if auth.get("face_match") or applicant.get("source") in ("chip", "qr", "typed"):
        rows.append(("Khuôn mặt", "Face check", face_text(auth)))
    return rows
