"""The serial backend over a real pty pair made by socat; the far end runs the printer model."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from devices.printer import PrinterModel, open_printer, render_preview


pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


@pytest.fixture
def pty_pair(tmp_path):
    a, b = tmp_path / "kiosk", tmp_path / "printer"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not (a.exists() and b.exists()):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("socat did not create the pty pair")
        time.sleep(0.02)
    yield str(a), str(b)
    proc.terminate()
    proc.wait(timeout=5)


@pytest.fixture
def serial_printer(pty_pair):
    import serial

    host_end, printer_end = pty_pair
    model = PrinterModel(576)
    port = serial.Serial(printer_end, 19200, timeout=0.05)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            data = port.read(4096)
            if data:
                reply = model.feed(data)
                if reply:
                    port.write(reply)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield host_end, model
    stop.set()
    t.join(timeout=2)
    port.close()


def test_ticket_over_serial(serial_printer, tmp_path, ticket_data, same_pixels):
    device, model = serial_printer
    p = open_printer({"backend": "serial", "device": device, "baudrate": 19200, "timeout_s": 2.0,
                      "spool_dir": str(tmp_path / "spool")})
    with p:
        assert p.status().paper == "ok"
        job = p.print_layout("ticket", ticket_data)
        model.set_state(paper="near_end")
        st = p.status()  # answered only after the far end has consumed the whole job
    assert st.paper == "near_end" and st.online is True
    assert job.bytes_sent == len(model.printed)
    assert same_pixels(model.render().image, render_preview("ticket", ticket_data, "80mm"))


def test_paper_out_over_serial(serial_printer, tmp_path, ticket_data):
    from devices.printer import PrinterError

    device, model = serial_printer
    model.set_state(paper="out")
    p = open_printer({"backend": "serial", "device": device, "timeout_s": 2.0, "spool_dir": str(tmp_path / "spool")})
    with p, pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "paper_out" and p.pending() == [err.value.job_id]
    assert model.printed == b""


def test_the_kiosk_holds_its_serial_port_exclusively(serial_printer, tmp_path, ticket_data):
    import serial

    device, model = serial_printer
    p = open_printer({"backend": "serial", "device": device, "timeout_s": 2.0, "spool_dir": str(tmp_path / "spool")})
    with p:
        p.print_layout("ticket", ticket_data)
        # a second process (another kiosk, a technician's tool) that asks for the port exclusively is refused
        with pytest.raises(serial.SerialException, match="Could not exclusively lock"):
            serial.Serial(device, 19200, exclusive=True)
    serial.Serial(device, 19200, exclusive=True).close()  # released on close


def test_a_port_another_process_holds_is_busy_and_nothing_is_sent(serial_printer, tmp_path, ticket_data):
    import serial

    from devices.printer import PrinterError

    device, model = serial_printer
    holder = serial.Serial(device, 19200, exclusive=True)  # stands in for another process printing
    try:
        p = open_printer({"backend": "serial", "device": device, "timeout_s": 0.5,
                          "spool_dir": str(tmp_path / "spool")})
        with pytest.raises(PrinterError) as err:
            p.open()
        assert err.value.code == "busy" and "in use by another process" in str(err.value)
        assert err.value.message_vi == "Máy in đang được một chương trình khác sử dụng. Vui lòng báo cán bộ kỹ thuật."
        h = p.health()
        assert h.state.value == "failed" and "another process" in h.detail and h.facts["status"]["busy"] is True
        with pytest.raises(PrinterError) as err:
            p.print_layout("ticket", ticket_data)
        assert err.value.code == "busy" and p.pending() == [err.value.job_id]
    finally:
        holder.close()
    assert model.printed == b""
    [job] = p.reprint()  # the other process let go
    assert job.job_id == err.value.job_id and p.pending() == [] and model.printed
    p.close()
