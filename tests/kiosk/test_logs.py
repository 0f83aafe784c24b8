import logging

import pytest

from common import redact
from kiosk.logs import RedactingFilter

CITIZEN = {
    "id": "001093047064",
    "old_id": "171234567",
    "name": "Nguyễn Thị Thu Hương",
    "name_upper": "ỨNG HOÀNG HIỆP",
    "dob": "05/01/1993",
    "phone": "0912 345 678",
    "address": "Số 12 ngõ 34 phố Đội Cấn, phường Ba Đình, Thành phố Hà Nội",
}

LINES = [
    "card read ok for {id} ({name})",
    "DG13: id={id} old={old_id} dob={dob}",
    "applicant {name_upper} phone {phone}",
    "residence: {address}",
    "phone +84912345678 and ISO dob 1993-01-05 and compact 05011993",
    "MRZ IDVNM0930470641001093047064<<2",
]


@pytest.fixture
def captured():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    h = Keep()
    h.addFilter(RedactingFilter())
    log = logging.getLogger("test.redaction")
    log.addHandler(h)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, records
    log.removeHandler(h)


@pytest.mark.parametrize("template", LINES)
def test_personal_data_never_reaches_a_log_line(captured, template):
    log, records = captured
    log.info(template.format(**CITIZEN))
    line = records[-1]
    for part in ["001093047064", "171234567", "Nguyễn", "Hương", "ỨNG HOÀNG", "05/01/1993", "345 678",
                 "Đội Cấn", "Ba Đình", "0912345678", "1993-01-05", "05011993", "093047064"]:
        assert part not in line, (part, line)


def test_args_are_redacted_too(captured):
    log, records = captured
    log.warning("citizen %s id %s", CITIZEN["name"], CITIZEN["id"])
    assert "Nguyễn" not in records[-1] and CITIZEN["id"] not in records[-1]
    assert records[-1].startswith("citizen <name> id <id>")


def test_tracebacks_are_redacted(captured):
    log, records = captured
    try:
        raise ValueError(f"bad birth date for {CITIZEN['id']}")
    except ValueError:
        log.exception("failed")
    assert CITIZEN["id"] not in records[-1] and "ValueError" in records[-1]


def test_session_values_are_redacted_verbatim(captured):
    log, records = captured
    redact.remember("Mường Tè", "Ê Đê")  # words no pattern can know to be personal
    log.info("ethnicity Ê Đê from Mường Tè")
    assert "Mường Tè" not in records[-1] and "Ê Đê" not in records[-1]
    redact.forget_all()
    log.info("ethnicity Ê Đê")
    assert "Ê Đê" in records[-1]


def test_technical_lines_stay_readable(captured):
    log, records = captured
    log.info("printer sim: 3 jobs, 2048 bytes, status ok in 12.5 ms; flow khai-sinh v3 sha256 ab12")
    assert records[-1] == "printer sim: 3 jobs, 2048 bytes, status ok in 12.5 ms; flow khai-sinh v3 sha256 ab12"


def test_the_visit_layer_matches_any_case_and_spelling(captured):
    log, records = captured
    redact.remember("Hầu Thị Lan", "001185012345")
    log.info("typed HẦU THỊ LAN, then hau thi lan, id 001 185 012 345")
    assert records[-1] == "typed <personal>, then <personal>, id <personal>"


def test_personal_values_logged_typed_are_masked_by_the_filter(captured):
    log, records = captured
    log.info("card read for %s, CAN %s", redact.pii("y bih", "name"), redact.pii("123456", "can"))
    assert records[-1] == "card read for <name>, CAN <can>"


def test_setup_logging_filters_every_handler_and_the_embedded_central_logs_through_them(tmp_path):
    """uvicorn keeps handlers of its own unless told not to: central.server.LOG_CONFIG sends its
    records (an "Exception in ASGI application" traceback quoting a dossier) to the root handlers."""
    import logging.config

    from central.server import LOG_CONFIG
    from common.redact import RedactingFilter
    from kiosk.logs import setup_logging

    root = logging.getLogger()
    level = root.level
    setup_logging("INFO", tmp_path / "kiosk.log")
    try:
        ours = [h for h in root.handlers if getattr(h, "_kiosk", False)]
        assert len(ours) == 2 and all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in ours)
        logging.config.dictConfig(LOG_CONFIG)  # what uvicorn.Config does with log_config
        assert not logging.getLogger("uvicorn.error").handlers and logging.getLogger("uvicorn").propagate
        logging.getLogger("uvicorn.error").error("Exception in ASGI application: body {'full_name': 'Giàng A Páo'}")
        for h in ours:
            h.flush()
        text = (tmp_path / "kiosk.log").read_text(encoding="utf-8")
        assert "Exception in ASGI application" in text and "Páo" not in text and "<name>" in text
    finally:
        for h in list(root.handlers):
            if getattr(h, "_kiosk", False):
                root.removeHandler(h)
                h.close()
        root.setLevel(level)
