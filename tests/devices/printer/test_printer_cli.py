"""`kiosk print …` and `kiosk printer status` against the sim backend, through kiosk.tools.cli.main."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kiosk.tools.cli import main

SAMPLE = Path(__file__).resolve().parents[3] / "devices" / "printer" / "samples" / "receipt.json"


@pytest.fixture
def config(tmp_path):
    def make(**printer):
        # the kiosk's outbox key, which seals kept jobs (kiosk.print_spool); the CLI never makes one
        from kiosk.outbox_key import load_or_create_key

        load_or_create_key(tmp_path / "outbox.key")
        lines = ['[outbox]', f'key_file = "{tmp_path / "outbox.key"}"',
                 "[devices.printer]", f'out_dir = "{tmp_path / "out"}"', f'spool_dir = "{tmp_path / "spool"}"']
        for k, v in printer.items():
            lines.append(f"{k} = {json.dumps(v)}")
        path = tmp_path / "kiosk.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)
    return make


def test_print_receipt_writes_preview_and_sim_output(config, tmp_path, capsys, decode_qr, same_pixels):
    out = tmp_path / "r.png"
    assert main(["--config", config(), "print", "receipt", "--dossier", str(SAMPLE), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "printed receipt" in text
    pngs = list((tmp_path / "out").glob("*.png"))
    assert len(pngs) == 1 and len(list((tmp_path / "out").glob("*.bin"))) == 1
    preview = Image.open(out)
    assert same_pixels(preview, Image.open(pngs[0]))  # what the sim reconstructed from the bytes
    assert decode_qr(preview) == [json.loads(SAMPLE.read_text())["lookup_qr"]]


def test_ticket_test_page_and_preview_only(config, tmp_path):
    cfg = config()
    assert main(["--config", cfg, "print", "ticket", "--number", "7", "--service", "Chứng thực",
                 "--counter", "2"]) == 0
    assert main(["--config", cfg, "print", "test", "--profile", "58mm", "--out", str(tmp_path / "t.png"),
                 "--preview-only"]) == 0
    assert Image.open(tmp_path / "t.png").width == 384
    assert len(list((tmp_path / "out").glob("*.png"))) == 1  # the preview-only run printed nothing


def test_paper_out_exit_code_message_and_reprint(config, tmp_path, capsys):
    assert main(["--config", config(sim_paper="out"), "print", "ticket"]) == 1
    err = capsys.readouterr().err
    assert "Máy in đã hết giấy" in err and "kept in the spool" in err and "Traceback" not in err
    assert main(["--config", config(sim_paper="out"), "printer", "status"]) == 1
    assert "paper:      out" in capsys.readouterr().out
    assert main(["--config", config(), "printer", "jobs"]) == 0
    assert "ticket" in capsys.readouterr().out
    assert main(["--config", config(), "print", "reprint"]) == 0
    assert "reprinted job" in capsys.readouterr().out
    assert list((tmp_path / "spool").glob("*.bin")) == []


def test_status_json(config, capsys):
    assert main(["--config", config(sim_paper="near_end"), "printer", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "needs_attention" and data["facts"]["status"]["paper"] == "near_end"


def test_bad_receipt_file(config, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["--config", config(), "print", "receipt", "--dossier", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"dossier_code": "X"}), encoding="utf-8")
    assert main(["--config", config(), "print", "receipt", "--dossier", str(partial)]) == 1
    assert "Thiếu hoặc sai thông tin" in capsys.readouterr().err


def test_emulate_command_receives_a_network_job(tmp_path, ticket_data, same_pixels, capsys):
    import socket
    import threading

    from devices.printer import open_printer, render_preview

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rc = []
    t = threading.Thread(target=lambda: rc.append(main(["printer", "emulate", "--port", str(port), "--jobs", "1",
                                                        "--out-dir", str(tmp_path / "emu")])))
    t.start()
    p = open_printer({"backend": "network", "host": "127.0.0.1", "port": port, "timeout_s": 2.0,
                      "spool_dir": str(tmp_path / "spool")})
    for _ in range(100):  # the listener may need a moment to come up
        try:
            p.open()
            break
        except Exception:
            threading.Event().wait(0.05)
    with p:
        p.print_layout("ticket", ticket_data)
    t.join(timeout=30)
    assert rc == [0]
    assert same_pixels(Image.open(tmp_path / "emu" / "job-001.png"), render_preview("ticket", ticket_data))


def _free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_print_to_an_unreachable_printer_keeps_the_job_it_names(config, capsys):
    # the job is spooled before the connection is tried, so "kept in the spool" is true
    import re

    cfg = config(backend="network", host="127.0.0.1", port=_free_port(), timeout_s=0.5)
    assert main(["--config", cfg, "print", "ticket"]) == 1
    err = capsys.readouterr().err
    assert "Không kết nối được với máy in" in err
    job = re.search(r"job (\S+) kept in the spool", err).group(1)
    assert main(["--config", cfg, "printer", "jobs"]) == 0
    out = capsys.readouterr().out
    assert job in out and "ticket" in out and "kept: unreachable" in out


def test_silent_network_printer_via_the_cli_status_exit_1_and_job_kept(config, tmp_path, capsys):
    from devices.printer import NetworkPrinterEmulator, PrinterModel

    with NetworkPrinterEmulator(PrinterModel(answers_status=False)) as emu:
        cfg = config(backend="network", host=emu.host, port=emu.port, timeout_s=0.3)
        assert main(["--config", cfg, "printer", "status", "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["state"] == "needs_attention" and data["facts"]["reads_status"] is True
        assert main(["--config", cfg, "print", "ticket"]) == 1
        err = capsys.readouterr().err
        assert "có thể chưa được in" in err and "kept in the spool" in err and "kiosk print discard" in err
        [job] = [p.stem for p in (tmp_path / "spool").glob("*.bin")]
        assert emu.model.printed  # sent: it may be on the paper
    assert main(["--config", cfg, "print", "discard", job]) == 0  # staff saw it printed
    assert "discarded job" in capsys.readouterr().out
    assert list((tmp_path / "spool").glob("*")) == []
    assert main(["--config", cfg, "print", "discard", job]) == 1
    assert "Không có phiếu nào chờ in lại" in capsys.readouterr().err


def test_status_of_the_file_backend_cannot_read_and_exits_0(config, tmp_path, capsys):
    cfg = config(backend="file", device=str(tmp_path / "lp0"))
    assert main(["--config", cfg, "printer", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "ok" and data["facts"]["reads_status"] is False
    assert data["facts"]["status"]["can_print"] is None and "cannot read" in data["detail"]
