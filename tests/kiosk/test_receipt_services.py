"""The receipt's "Việc cần làm" block filled by the kiosk, Kivy-free (issue #18, point 3):
``KioskServices.submit`` with the real outbox, the simulated printer and the real central system
over HTTP prints the counter the kiosk names, the hour its counters open and the originals the
flow says the citizen must bring; the provisional slip (central unreachable) names them too."""
from __future__ import annotations

import hashlib

import pytest

from testkit.central import free_port, start_central


def _services(folder, extra: str):
    from kiosk.services import KioskServices
    from kiosk.tools.demo import demo_config

    port = free_port()
    cfg = demo_config(folder, port=port, extra=extra)
    services = KioskServices(cfg)
    services.start()
    return cfg, port, services


def _visit(services, choices):
    from common import clock
    from flows.sample import walk
    from kiosk.session import Attachment, Session

    session = Session()
    session.flow = services.registry.get("khai-sinh")
    session.engine = engine = walk(session.flow, clock.today(), choices)
    # the sample walk lists stand-in photos; the outbox keeps a dossier only with their bytes
    for doc_id in list(engine.attachments):
        data = f"photo of {doc_id}".encode()
        sha = hashlib.sha256(data).hexdigest()
        engine.attachments[doc_id] = []
        engine.set_attachment(doc_id, sha, len(data), "image/jpeg")
        session.attachments[doc_id] = Attachment(doc_id, data, "image/jpeg", sha)
    return session


def _printed(outcome, layout: str) -> str:
    from devices.printer.layout import text_lines

    assert outcome.printed, outcome.print_error
    return "\n".join(text_lines(layout, outcome.receipt))


@pytest.fixture
def kiosk(tmp_path):
    cfg, port, services = _services(tmp_path / "kiosk", '[kiosk]\nresult_counter = "Quầy số 3"\noffice_opens = "07:30"\n')
    k = cfg["kiosk"]
    central = start_central(str(tmp_path / "central.sqlite3"), port=port, kiosk_id=k["id"],
                            secret=cfg["central"]["kiosk_secret"])
    yield services
    services.stop()
    central.stop()


def test_the_receipt_names_the_counter_the_hour_and_the_originals(kiosk):
    # born at a hospital: the Giấy chứng sinh is needed, its original goes to the counter; the
    # marriage certificate is only "Chỉ khi …" (the officer decides) and is not demanded
    out = kiosk.submit(_visit(kiosk, {"birth_place_kind": "co_so_y_te", "relationship": "me"}))
    assert not out.provisional
    printed = _printed(out, "receipt")
    assert out.receipt["counter"] == "Quầy số 3" and out.receipt["originals"] == ["Giấy chứng sinh"]
    at = out.receipt["come_back_at"]
    assert f"Đến nhận kết quả từ {at.hour} giờ {at:%M} ngày {at:%d/%m/%Y}, tại Quầy số 3." in printed
    if at.date() != out.received_at.date():  # on another day: from the hour the counters open
        assert (at.hour, at.minute) == (7, 30)
    assert "Mang theo bản chính các giấy tờ:\n– Giấy chứng sinh\n" in printed
    assert "Giấy chứng nhận kết hôn" not in printed
    assert "quầy tiếp nhận và trả kết quả" not in printed
    # bringing the receipt and looking it up are items of the block now, not said again as notes
    notes = out.receipt["notes"]
    assert len(notes) == 1 and "91/2025/QH15" in notes[0]
    assert printed.count("Mang theo phiếu này và thẻ căn cước.") == 1
    # the screen's preview is the paper
    assert out.preview_png.startswith(b"\x89PNG")


def test_the_provisional_slip_names_the_counter_and_the_originals(tmp_path):
    cfg, _port, services = _services(tmp_path / "kiosk", '[kiosk]\nresult_counter = "Quầy số 3"\n')
    try:  # no central system on that port: the dossier waits in the outbox
        out = services.submit(_visit(services, {"birth_place_kind": "ngoai_co_so_y_te", "relationship": "me"}))
    finally:
        services.stop()
    assert out.provisional
    printed = _printed(out, "provisional_receipt")
    assert "mang phiếu này đến Quầy số 3" in printed
    assert "Mang theo bản chính các giấy tờ:\n– Giấy của người làm chứng hoặc giấy cam đoan về việc sinh" in printed
    assert "Giấy chứng sinh" not in printed


def test_without_a_counter_the_receipt_says_the_general_counter(tmp_path):
    cfg, port, services = _services(tmp_path / "kiosk", "")
    assert (cfg["kiosk"]["result_counter"], cfg["kiosk"]["office_opens"]) == ("", "08:00")
    central = start_central(str(tmp_path / "central.sqlite3"), port=port, kiosk_id=cfg["kiosk"]["id"],
                            secret=cfg["central"]["kiosk_secret"])
    try:
        out = services.submit(_visit(services, {"birth_place_kind": "co_so_y_te", "relationship": "me"}))
    finally:
        services.stop()
        central.stop()
    assert ", tại quầy tiếp nhận và trả kết quả." in _printed(out, "receipt")


@pytest.mark.parametrize("value", ["8h", "25:00", "8:00", "08:60"])
def test_office_opens_must_be_an_hour(tmp_path, value):
    from kiosk.config import ConfigError
    from kiosk.tools.demo import demo_config

    with pytest.raises(ConfigError, match="kiosk.office_opens"):
        demo_config(tmp_path, extra=f'[kiosk]\noffice_opens = "{value}"\n')
