"""Kept print jobs are sealed with a key derived from the outbox key (issue #16): a receipt that
waits for a reprint holds a name and an ID number, as a dossier in the outbox does."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.sealing import MAGIC, Sealer
from devices.printer import PrinterError, open_printer
from kiosk.outbox_key import FileKeySource, load_or_create_key
from kiosk.print_spool import PURPOSE, seal_spool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ticket_data():
    from datetime import datetime

    return {"number": "A012", "service": "Hộ tịch", "counter": "3", "issued_at": datetime(2026, 11, 23, 8, 15),
            "people_ahead": 4, "centre_name": "Trung tâm Phục vụ hành chính công phường Ba Đình"}


def sim_printer(tmp_path, paper="out"):
    return open_printer({"backend": "sim", "spool_dir": str(tmp_path / "spool"), "sim_paper": paper})


def test_a_kept_job_is_sealed_and_reprints_byte_for_byte(tmp_path, ticket_data):
    key_file = tmp_path / "outbox.key"
    load_or_create_key(key_file)
    printer = sim_printer(tmp_path)
    assert seal_spool(printer, FileKeySource(key_file))
    payload = printer.render("ticket", ticket_data)
    with pytest.raises(PrinterError) as err:
        printer.print_bytes(payload, "ticket")
    kept = tmp_path / "spool" / f"{err.value.job_id}.bin"
    blob = kept.read_bytes()
    assert blob.startswith(MAGIC) and payload[200:264] not in blob
    assert Sealer(load_or_create_key(key_file), PURPOSE).open(blob, err.value.job_id) == payload

    printer.simulate(paper="ok")
    start = len(printer.transport.model.printed)
    (job,) = printer.reprint()
    assert bytes(printer.transport.model.printed[start:]) == payload and job.job_id == err.value.job_id
    assert printer.pending() == []


def test_a_sealed_job_cannot_be_read_without_its_key_or_under_another_name(tmp_path, ticket_data):
    load_or_create_key(tmp_path / "a.key")
    load_or_create_key(tmp_path / "b.key")
    printer = sim_printer(tmp_path)
    seal_spool(printer, FileKeySource(tmp_path / "a.key"))
    with pytest.raises(PrinterError):
        printer.print_layout("ticket", ticket_data)
    other = sim_printer(tmp_path, paper="ok")  # a technician's command without the key
    with pytest.raises(PrinterError) as err:
        other.reprint()
    assert err.value.code == "sealed"
    seal_spool(other, FileKeySource(tmp_path / "b.key"))  # another machine's key
    with pytest.raises(PrinterError) as err:
        other.reprint()
    assert err.value.code == "sealed" and other.pending()


def test_without_the_outbox_key_nothing_is_kept_in_clear(tmp_path, ticket_data):
    printer = sim_printer(tmp_path)
    assert not seal_spool(printer, FileKeySource(tmp_path / "missing.key"))  # never created here
    assert printer.spool_dir is None and not (tmp_path / "missing.key").exists()
    with pytest.raises(PrinterError) as err:
        printer.print_layout("ticket", ticket_data)
    assert err.value.job_id is None and not (tmp_path / "spool").exists()


def test_the_kiosk_seals_its_spool_and_the_cli_reprints_it(tmp_path):
    from kiosk.config import load_config
    from kiosk.services import KioskServices

    cfg_file = tmp_path / "kiosk.toml"
    cfg_file.write_text(
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[outbox]\npath = "{tmp_path / "outbox.sqlite3"}"\nkey_file = "{tmp_path / "outbox.key"}"\n'
        f'[flows]\nbundle_dir = "{tmp_path / "flows"}"\n'
        f'[central]\nurl = "http://127.0.0.1:9"\ndatabase = "{tmp_path / "c.sqlite3"}"\n'
        f'[devices.printer]\nspool_dir = "{tmp_path / "spool"}"\nsim_paper = "out"\n', encoding="utf-8")
    services = KioskServices(load_config(cfg_file))
    services.start()
    try:
        assert services.printer.sealer is not None
        # central is unreachable: the ticket comes from a block of numbers kept for this kiosk
        from common import clock

        services._queue_blocks().add("a", {"prefix": "A", "day": clock.today().isoformat(), "first": 1, "last": 20})
        outcome = services.issue_ticket("a", "Tiếp nhận hồ sơ")
        assert outcome.number == "A001" and outcome.offline
        assert not outcome.printed and outcome.print_error.code == "paper_out"
    finally:
        services.stop()
    (kept,) = (tmp_path / "spool").glob("*.bin")
    assert kept.read_bytes().startswith(MAGIC)
    cfg_file.write_text(cfg_file.read_text(encoding="utf-8").replace('sim_paper = "out"', 'sim_paper = "ok"'),
                        encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg_file), "print", "reprint"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "reprinted job" in out.stdout and not list((tmp_path / "spool").glob("*.bin"))


def test_the_default_sim_printer_keeps_no_receipt_on_disk(tmp_path):
    from kiosk.config import load_config

    assert load_config(None)["devices.printer"]["out_dir"] == ""
    out = subprocess.run([sys.executable, "-m", "kiosk", "print", "ticket", "--number", "5"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "rendering" not in out.stdout  # no .png/.bin written by the sim
    assert json.dumps(out.stdout)  # printed a line
