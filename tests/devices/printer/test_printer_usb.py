"""The usb backend: printing, DLE EOT status over the bulk IN endpoint, and the spool rule.

There is no USB printer (nor any USB device, nor a kernel USB stand-in such as dummy_hcd or
usbip) on the machines these tests run on, so the printer is a STAND-IN AT THE BOTTOM OF PYUSB:
:class:`FakeLibusb` implements pyusb's backend interface (``usb.backend.IBackend``, the layer
libusb-1.0 fills in production) and ``usb.core.find`` is pointed at it. Everything above it is the
real code: pyusb's ``Device``, descriptor parsing, ``find_descriptor``, interface claiming and
its timeout exception, then ``UsbTransport``, ``Printer``, the spool and the ``kiosk`` CLI. Behind
the fake's bulk endpoints sits ``devices.printer.emulator.PrinterModel``, the same printer the sim
backend and the TCP emulator use: what reaches bulk OUT is parsed as ESC/POS, a DLE EOT is
answered on bulk IN with the byte a real printer in that state sends, and a printer that ignores
DLE EOT leaves bulk IN empty until the read times out. What the fake cannot show: a real
printer's endpoint numbers, its timing, and vendor quirks (zero-length packets are covered by
``zlp_before_answer``). One test runs the real CLI as a subprocess on this machine's own
libusb, where no such printer exists.
"""
from __future__ import annotations

import array
import errno
import functools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

usb_core = pytest.importorskip("usb.core")
import usb.backend  # noqa: E402

from devices.printer import PrinterError, PrinterModel, open_printer, render_preview  # noqa: E402
from kiosk.tools.cli import main  # noqa: E402

VID, PID = 0x0416, 0x5011  # a common ESC/POS printer's ids
OUT_EP, IN_EP = 0x03, 0x81  # not python-escpos' assumed 0x01/0x82: the endpoints are read from the descriptors
ROOT = Path(__file__).resolve().parents[3]


class FakeLibusb(usb.backend.IBackend):
    """One USB printer-class device (interface 0: class 7, bulk OUT 0x03, bulk IN 0x81) as
    libusb would report it, wired to a PrinterModel. ``plugged``, ``busy`` (another process
    claimed the interface) and ``in_endpoint`` (False: a unidirectional printer) set the scene."""

    def __init__(self, model: PrinterModel | None = None, *, plugged: bool = True, in_endpoint: bool = True):
        self.model = model or PrinterModel(576)
        self.plugged = plugged
        self.busy = False
        self.in_endpoint = in_endpoint
        self.kernel_driver = True  # usblp owns a freshly plugged printer
        self.zlp_before_answer = False
        self.claimed: set[int] = set()
        self.configuration = 1
        self._in = bytearray()
        self._cond = threading.Condition()

    # --- enumeration and descriptors --------------------------------------------------------
    def enumerate_devices(self):
        return ["printer"] if self.plugged else []

    def get_device_descriptor(self, dev):
        return SimpleNamespace(bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
                               bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=VID, idProduct=PID, bcdDevice=0x0100,
                               iManufacturer=0, iProduct=0, iSerialNumber=0, bNumConfigurations=1, address=4,
                               bus=1, port_number=2, port_numbers=(2,), speed=2)

    def get_configuration_descriptor(self, dev, config):
        if config != 0:
            raise IndexError(config)
        return SimpleNamespace(bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1,
                               bConfigurationValue=1, iConfiguration=0, bmAttributes=0xC0, bMaxPower=50,
                               extra_descriptors=[])

    def get_interface_descriptor(self, dev, intf, alt, config):
        if intf != 0 or alt != 0:
            raise IndexError((intf, alt))
        return SimpleNamespace(bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0,
                               bNumEndpoints=2 if self.in_endpoint else 1, bInterfaceClass=7,
                               bInterfaceSubClass=1, bInterfaceProtocol=2 if self.in_endpoint else 1,
                               iInterface=0, extra_descriptors=[])

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        address = (OUT_EP, IN_EP)[ep]
        return SimpleNamespace(bLength=7, bDescriptorType=5, bEndpointAddress=address, bmAttributes=0x02,
                               wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[])

    # --- the device handle ------------------------------------------------------------------
    def _alive(self):
        if not self.plugged:
            raise usb_core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)

    def open_device(self, dev):
        self._alive()
        return SimpleNamespace(dev=dev)

    def close_device(self, dev_handle):
        pass

    def get_configuration(self, dev_handle):
        self._alive()
        return self.configuration

    def set_configuration(self, dev_handle, config_value):
        self._alive()
        self.configuration = config_value

    def is_kernel_driver_active(self, dev_handle, intf):
        self._alive()
        return self.kernel_driver

    def detach_kernel_driver(self, dev_handle, intf):
        self._alive()
        self.kernel_driver = False

    def attach_kernel_driver(self, dev_handle, intf):
        self._alive()
        self.kernel_driver = True

    def claim_interface(self, dev_handle, intf):
        self._alive()
        if self.busy or self.kernel_driver:
            raise usb_core.USBError("Resource busy", -6, errno.EBUSY)
        self.claimed.add(intf)

    def release_interface(self, dev_handle, intf):
        self.claimed.discard(intf)

    # --- bulk transfers: OUT feeds the printer model, IN carries its answers ------------------
    def bulk_write(self, dev_handle, ep, intf, data, timeout):
        self._alive()
        assert ep == OUT_EP and intf in self.claimed
        reply = self.model.feed(bytes(data))
        if reply:
            with self._cond:
                self._in += reply
                self._cond.notify_all()
        return len(data)

    def bulk_read(self, dev_handle, ep, intf, buff, timeout):
        self._alive()
        assert ep == IN_EP and intf in self.claimed
        with self._cond:
            if not self._cond.wait_for(lambda: self._in or self.zlp_before_answer, timeout / 1000):
                raise usb_core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
            if not self._in:  # a zero-length packet, as some printers send before they have an answer
                self.zlp_before_answer = False
                return 0
            n = min(len(buff), len(self._in))
            buff[:n] = array.array("B", self._in[:n])
            del self._in[:n]
            return n


@pytest.fixture
def libusb(monkeypatch):
    """The fake libusb under the real pyusb: ``usb.core.find`` enumerates only its device."""
    fake = FakeLibusb()
    monkeypatch.setattr(usb_core, "find", functools.partial(usb_core.find, backend=fake))
    return fake


def _usb(tmp_path, **kw):
    return open_printer({"backend": "usb", "usb_vendor": VID, "usb_product": PID, "timeout_s": 0.3,
                         "spool_dir": str(tmp_path / "spool"), **kw})


@pytest.fixture
def config(tmp_path):
    from kiosk.outbox_key import load_or_create_key

    load_or_create_key(tmp_path / "outbox.key")  # kept jobs are sealed with it (kiosk.print_spool)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[outbox]\nkey_file = "{tmp_path / "outbox.key"}"\n'
                    f'[devices.printer]\nbackend = "usb"\nusb_vendor = {VID}\nusb_product = {PID}\n'
                    f'timeout_s = 0.3\nspool_dir = "{tmp_path / "spool"}"\n', encoding="utf-8")
    return str(path)


# --- printing and the spool -------------------------------------------------------------------
def test_ok_printer_prints_and_the_job_leaves_the_spool(libusb, tmp_path, ticket_data, same_pixels):
    p = _usb(tmp_path)
    with p:
        assert libusb.kernel_driver is False and libusb.claimed == {0}  # usblp detached while the kiosk holds it
        job = p.print_layout("ticket", ticket_data)
        assert p.pending() == []
        st = p.status()
    assert st.reachable is True and st.paper == "ok" and st.online is True and st.cover_open is False
    assert libusb.kernel_driver is True and libusb.claimed == set()  # given back on close
    assert job.bytes_sent == len(libusb.model.printed)
    assert same_pixels(libusb.model.render().image, render_preview("ticket", ticket_data, "80mm"))
    assert libusb.model.queries.count(1) == 3  # before the job, after it, and asked above


def test_paper_out_keeps_the_job_and_reprint_after_loading_paper_removes_it(libusb, tmp_path, ticket_data):
    libusb.model.set_state(paper="out")
    p = _usb(tmp_path)
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "paper_out" and p.pending() == [err.value.job_id]
    assert libusb.model.printed == b"" and libusb.model.discarded == b""  # nothing was sent
    assert p.health().state.value == "needs_attention"
    libusb.model.set_state(paper="ok")
    [job] = p.reprint()
    assert job.job_id == err.value.job_id and p.pending() == []
    assert job.bytes_sent == len(libusb.model.printed)
    p.close()


def test_paper_running_out_during_the_job_keeps_it(libusb, tmp_path, ticket_data):
    libusb.model.runs_out_after = 2_000
    p = _usb(tmp_path)
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "paper_out" and "after printing" in str(err.value)
    assert p.pending() == [err.value.job_id] and libusb.model.discarded  # the roll ended mid-job
    p.close()


def test_silent_printer_is_unknown_not_ok_and_the_job_stays_spooled(libusb, tmp_path, ticket_data):
    libusb.model.answers_status = False  # present and taking bytes, never answering DLE EOT
    p = _usb(tmp_path)
    st = p.status()
    assert st.reachable is True and not st.known and st.can_print is None
    h = p.health()
    assert h.state.value == "needs_attention" and "did not answer" in h.detail and h.facts["reads_status"] is True
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    e = err.value
    assert e.code == "no_status" and p.pending() == [e.job_id]
    assert "có thể chưa được in" in e.message_vi and "in lại" in e.message_vi
    assert libusb.model.printed  # it was sent (it may well be on the paper): staff look, then reprint or discard
    meta = json.loads((tmp_path / "spool" / f"{e.job_id}.json").read_text())
    assert meta["kept_because"] == "no_status"
    p.discard(e.job_id)
    assert p.pending() == []
    p.close()


def test_zero_length_packet_before_the_answer_is_not_an_answer(libusb, tmp_path):
    libusb.zlp_before_answer = True
    with _usb(tmp_path) as p:
        assert p.status().paper == "ok"


def test_unplugged_mid_session_fails_then_recovers_when_plugged_back(libusb, tmp_path, ticket_data):
    p = _usb(tmp_path)
    with p:
        p.print_layout("ticket", ticket_data)
        libusb.plugged = False
        h = p.health()
        assert h.state.value == "failed" and h.facts["status"]["reachable"] is False
        with pytest.raises(PrinterError) as err:
            p.print_layout("ticket", ticket_data)
        assert err.value.code == "unreachable" and p.pending() == [err.value.job_id]
        libusb.plugged = True
        libusb.kernel_driver = True  # the kernel binds usblp again on re-plug
        assert [j.job_id for j in p.reprint()] == [err.value.job_id]
        assert p.pending() == []


def test_interface_claimed_by_another_process_is_busy(libusb, tmp_path, ticket_data):
    libusb.busy = True
    p = _usb(tmp_path)
    with pytest.raises(PrinterError) as err:
        p.open()
    assert err.value.code == "busy" and "another process" in str(err.value)
    assert libusb.kernel_driver is True  # usblp was detached for the claim, and given back
    h = p.health()
    assert h.state.value == "failed" and h.facts["status"]["busy"] is True
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "busy" and p.pending() == [err.value.job_id]


def test_printer_without_bulk_in_cannot_read_and_prints_like_the_file_backend(libusb, tmp_path, ticket_data):
    libusb.in_endpoint = False
    p = _usb(tmp_path)
    st = p.status()
    assert st.reachable is None and not st.known
    h = p.health()
    assert h.state.value == "ok" and "unknown" in h.detail and h.facts["reads_status"] is False
    assert "no bulk IN" in h.facts["backend"]
    p.print_layout("ticket", ticket_data)
    assert p.pending() == [] and libusb.model.printed
    p.close()


# --- `kiosk printer status` and `kiosk print` --------------------------------------------------
def test_cli_status_not_plugged_in_fails_with_exit_1(libusb, config, capsys):
    libusb.plugged = False  # usb.core.find returns None
    assert main(["--config", config, "printer", "status", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "failed" and data["facts"]["status"]["reachable"] is False
    assert "not plugged in" in data["detail"]


def test_cli_status_silent_printer_is_not_ok_and_exits_1(libusb, config, capsys):
    libusb.model.answers_status = False
    assert main(["--config", config, "printer", "status", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "needs_attention" and data["facts"]["status"]["can_print"] is None


def test_cli_status_ready_printer_exits_0(libusb, config, capsys):
    assert main(["--config", config, "printer", "status"]) == 0
    out = capsys.readouterr().out
    assert "health:     ok: ready" in out and "paper:      ok" in out


def test_cli_print_not_plugged_in_keeps_the_job_it_says_it_kept(libusb, config, capsys):
    libusb.plugged = False
    assert main(["--config", config, "print", "ticket"]) == 1
    err = capsys.readouterr().err
    assert "Không kết nối được với máy in" in err and "kept in the spool" in err
    assert main(["--config", config, "printer", "jobs"]) == 0
    assert "ticket" in capsys.readouterr().out
    libusb.plugged = True
    assert main(["--config", config, "print", "reprint"]) == 0
    assert "reprinted job" in capsys.readouterr().out
    assert main(["--config", config, "printer", "jobs"]) == 0
    assert "no jobs waiting" in capsys.readouterr().out


def test_cli_status_subprocess_on_this_machines_libusb(tmp_path):
    # No fake here: the real pyusb and whatever libusb this machine has. No printer with these
    # ids is plugged in (or there is no libusb at all): either way the printer cannot be reached.
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[devices.printer]\nbackend = "usb"\nusb_vendor = 65534\nusb_product = 65533\n'
                   f'spool_dir = "{tmp_path / "spool"}"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(cfg), "printer", "status", "--json"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["state"] == "failed" and data["facts"]["status"]["can_print"] is False
    assert time.monotonic() - t0 < 60
