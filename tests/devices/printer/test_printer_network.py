"""A network printer emulated on 127.0.0.1: a real TCP listener that parses what it receives."""
from __future__ import annotations

import socket

import pytest

from devices.printer import NetworkPrinterEmulator, PrinterError, PrinterModel, open_printer, render_preview



def _net(emu, tmp_path, **kw):
    return open_printer({"backend": "network", "host": emu.host, "port": emu.port, "timeout_s": 1.0,
                         "spool_dir": str(tmp_path / "spool"), "profile": "80mm", **kw})


def test_receipt_over_tcp_is_pixel_equal_to_the_preview_and_its_qr_decodes(tmp_path, receipt_data, decode_qr,
                                                                             same_pixels):
    with NetworkPrinterEmulator() as emu:
        with _net(emu, tmp_path) as p:
            job = p.print_layout("receipt", receipt_data)
            assert p.status().paper == "ok"  # a query after the job: all bytes were processed
        paper = emu.model.render()
    assert job.bytes_sent == len(emu.model.printed) and job.png_path is None
    assert emu.model.queries.count(4) == 3  # checked before, after, and asked above
    assert same_pixels(paper.image, render_preview("receipt", receipt_data, "80mm"))
    assert decode_qr(paper.image) == [receipt_data["lookup_qr"]]
    assert paper.qr_payloads == [receipt_data["lookup_qr"].encode()]
    assert len(paper.cuts) == 1


def test_ticket_on_58mm(tmp_path, ticket_data, same_pixels):
    with NetworkPrinterEmulator(PrinterModel(384)) as emu:
        with _net(emu, tmp_path, profile="58mm") as p:
            p.print_layout("ticket", ticket_data)
            p.status()
        assert same_pixels(emu.model.render().image, render_preview("ticket", ticket_data, "58mm"))


def test_paper_out_keeps_the_job_and_reprint_sends_it_once(tmp_path, ticket_data, same_pixels):
    with NetworkPrinterEmulator(PrinterModel(paper="out")) as emu:
        with _net(emu, tmp_path) as p:
            with pytest.raises(PrinterError) as err:
                p.print_layout("ticket", ticket_data)
            assert err.value.code == "paper_out" and "hết giấy" in err.value.message_vi
            assert p.pending() == [err.value.job_id]
            assert emu.model.printed == b"" and emu.model.discarded == b""  # nothing was sent
            emu.model.set_state(paper="ok")
            [job] = p.reprint()
            assert job.job_id == err.value.job_id and p.pending() == []
            assert p.reprint() == []  # nothing sent twice
            p.status()
        assert same_pixels(emu.model.render().image, render_preview("ticket", ticket_data, "80mm"))


def test_cover_open(tmp_path, ticket_data):
    with NetworkPrinterEmulator(PrinterModel(cover_open=True)) as emu:
        with _net(emu, tmp_path) as p:
            assert p.status().cover_open is True
            with pytest.raises(PrinterError) as err:
                p.print_layout("ticket", ticket_data)
            assert err.value.code == "cover_open" and p.pending()


def test_printer_that_ignores_status_queries_is_unknown_and_keeps_the_job(tmp_path, ticket_data):
    with NetworkPrinterEmulator(PrinterModel(answers_status=False)) as emu:
        p = _net(emu, tmp_path, timeout_s=0.3)
        with p:
            st = p.status()
            assert st.reachable is True and not st.known and st.paper == "unknown"
            assert p.health().state.value == "needs_attention"  # it can be asked: silence is not "ok"
            with pytest.raises(PrinterError) as err:
                p.print_layout("ticket", ticket_data)  # unknown before does not stop the job ...
            # ... but only an answer after it takes it out of the spool
            assert err.value.code == "no_status" and p.pending() == [err.value.job_id]
        # sent once; asked once above (a silent printer is not asked again for a while: the check
        # before the job cost nothing) and once after the job, which is always asked
        assert emu.model.printed and emu.model.queries == [1, 1]


class GoesQuiet(PrinterModel):
    """A printer whose status channel stops answering once it has taken a job (busy firmware,
    a half-dead network module), until ``wakes`` is set."""
    wakes = False

    def answer(self, n):
        return b"" if self.printed and not self.wakes else super().answer(n)


def test_network_printer_that_stops_answering_after_a_job_leaves_it_spooled(tmp_path, ticket_data):
    with NetworkPrinterEmulator(GoesQuiet()) as emu:
        with _net(emu, tmp_path, timeout_s=0.3) as p:
            with pytest.raises(PrinterError) as err:
                p.print_layout("ticket", ticket_data)
            e = err.value
            assert e.code == "no_status" and "after printing" in str(e) and p.pending() == [e.job_id]
            assert emu.model.queries == [1, 2, 4, 1]  # answered before the job, silent after it
            assert "job(s) waiting" not in p.health().detail  # the silence is what health reports first
            emu.model.wakes = True
            [job] = p.reprint()
            assert job.job_id == e.job_id and p.pending() == []


def test_unreachable_printer_keeps_the_job(tmp_path, ticket_data):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    p = open_printer({"backend": "network", "host": "127.0.0.1", "port": port, "timeout_s": 0.5,
                      "spool_dir": str(tmp_path / "spool")})
    assert p.health().state.value == "failed"
    with pytest.raises(PrinterError) as err:
        p.print_layout("ticket", ticket_data)
    assert err.value.code == "unreachable" and p.pending() == [err.value.job_id]


def test_concurrent_jobs_do_not_interleave(tmp_path, ticket_data):
    import threading

    with NetworkPrinterEmulator() as emu:
        with _net(emu, tmp_path) as p:
            errors = []

            def job(n):
                try:
                    p.print_layout("ticket", {**ticket_data, "number": str(n)})
                except Exception as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            p.status()
        assert errors == []
        paper = emu.model.render()  # parses only if no job was cut into another
        assert len(paper.cuts) == 4 and emu.model.discarded == b""
