"""Printer: time from layout data to printer bytes, and the bytes sent.

Goals: receipt ≤ 150 ms, ticket ≤ 50 ms (80 mm, warm process). Peers measured in the same run:
- the same receipt with the QR as a raster instead of native GS ( k;
- "text mode": the same lines sent as printer text through python-escpos' own code-page
  encoder (``Dummy(profile="TM-T88V").text()``, magic encoding) — smaller and faster, but it is
  counted how many letters it could not encode (printed as '?') on that profile;
- the emulator turning the receipt bytes back into an image (what the sim backend does per job).

    python bench/bench_printer.py        (or: python bench/run.py printer)
"""
from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.printer import escpos_render, get_profile, render_bytes  # noqa: E402
from devices.printer.layout import text_lines, validate  # noqa: E402

RUNS = 30
RECEIPT = json.loads((ROOT / "devices/printer/samples/receipt.json").read_text(encoding="utf-8"))
TICKET = {"number": "A012", "service": "Hộ tịch - Chứng thực", "counter": "3",
          "issued_at": datetime(2026, 11, 23, 8, 15), "people_ahead": 4,
          "centre_name": "Trung tâm Phục vụ hành chính công phường Ba Đình"}


def timed(fn, runs=RUNS):
    fn()  # warm: fonts loaded, widths cached as in a running kiosk
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), max(samples), out


def text_mode(name, data, profile="TM-T88V"):
    """The layout's text sent as printer text via python-escpos' magic code-page encoder."""
    import io
    import contextlib
    from escpos.printer import Dummy

    values = validate(name, data)
    lines = text_lines(name, data)  # the same words the raster path prints
    d = Dummy(profile=profile)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for line in lines:
            d.text(line + "\n")
        if "lookup_qr" in values and values["lookup_qr"]:
            d.qr(values["lookup_qr"], native=True, size=6)
        d.cut()
    out = d.output
    letters = sum(1 for line in lines for c in line if not c.isascii())
    return out, letters, out.count(b"?") - sum(line.count("?") for line in lines), out.count(b"\x1bt")


def main() -> int:
    cold_t0 = time.perf_counter()
    render_bytes("receipt", RECEIPT, "80mm")
    cold = (time.perf_counter() - cold_t0) * 1000
    r_med, r_max, r_bytes = timed(lambda: render_bytes("receipt", RECEIPT, "80mm"))
    t_med, t_max, t_bytes = timed(lambda: render_bytes("ticket", TICKET, "80mm"))
    r58_med, _, r58_bytes = timed(lambda: render_bytes("receipt", RECEIPT, "58mm"))
    t58_med, _, t58_bytes = timed(lambda: render_bytes("ticket", TICKET, "58mm"))
    raster_qr = get_profile({"base": "80mm", "native_qr": False})
    rq_med, _, rq_bytes = timed(lambda: render_bytes("receipt", RECEIPT, raster_qr))
    tm_med, _, (tm_bytes, tm_letters, tm_lost, tm_hops) = timed(lambda: text_mode("receipt", RECEIPT))
    tt_med, _, (tt_bytes, tt_letters, tt_lost, tt_hops) = timed(lambda: text_mode("ticket", TICKET))
    td_med, _, (td_bytes, td_letters, td_lost, td_hops) = timed(lambda: text_mode("receipt", RECEIPT, "default"))
    em_med, _, _ = timed(lambda: escpos_render.render(r_bytes, 576), runs=10)

    def ok(v, goal):
        return "yes" if v <= goal else "**no**"

    cmd = "python bench/bench_printer.py"
    out = [
        "## Printer: layout data → ESC/POS bytes",
        "",
        f"Command: `{cmd}` — median of {RUNS} warm runs (max in brackets), one process, "
        f"{platform.machine()}, Python {platform.python_version()}. Cold first receipt (fonts loading): "
        f"{cold:.0f} ms.",
        "",
        "| job | path | median ms | goal | met | bytes sent | readable Vietnamese |",
        "|---|---|---:|---:|---|---:|---|",
        f"| receipt 80 mm | raster text + native QR (ours) | {r_med:.1f} ({r_max:.0f}) | 150 | {ok(r_med, 150)} | {len(r_bytes):,} | all letters |",
        f"| ticket 80 mm | raster text (ours) | {t_med:.1f} ({t_max:.0f}) | 50 | {ok(t_med, 50)} | {len(t_bytes):,} | all letters |",
        f"| receipt 58 mm | raster text + native QR (ours) | {r58_med:.1f} | 150 | {ok(r58_med, 150)} | {len(r58_bytes):,} | all letters |",
        f"| ticket 58 mm | raster text (ours) | {t58_med:.1f} | 50 | {ok(t58_med, 50)} | {len(t58_bytes):,} | all letters |",
        f"| receipt 80 mm | raster text + raster QR | {rq_med:.1f} | 150 | {ok(rq_med, 150)} | {len(rq_bytes):,} | all letters |",
        f"| receipt | peer: python-escpos text mode, TM-T88V profile | {tm_med:.1f} | – | – | {len(tm_bytes):,} | {tm_lost} of {tm_letters} accented letters lost as '?', {tm_hops} code-page switches (needs TCVN-3 in the printer) |",
        f"| ticket | peer: python-escpos text mode, TM-T88V profile | {tt_med:.1f} | – | – | {len(tt_bytes):,} | {tt_lost} of {tt_letters} lost as '?', {tt_hops} code-page switches |",
        f"| receipt | peer: python-escpos text mode, generic profile | {td_med:.1f} | – | – | {len(td_bytes):,} | {td_lost} of {td_letters} lost as '?', {td_hops} code-page switches (python-escpos' generic profile assumes every code page exists; a printer without TCVN-3 prints garbage) |",
        f"| receipt | emulator: bytes → image (sim backend's PNG) | {em_med:.1f} | – | – | – | – |",
        "",
        f"Ratios in this run: receipt raster/text-mode time {r_med / tm_med:.1f}×, bytes "
        f"{len(r_bytes) / len(tm_bytes):.0f}×; ticket raster/text-mode time {t_med / tt_med:.1f}×, bytes "
        f"{len(t_bytes) / len(tt_bytes):.0f}×; native QR saves {len(rq_bytes) - len(r_bytes):,} bytes "
        f"({rq_med / r_med:.2f}× the time with raster QR). At 115200 baud a serial printer needs "
        f"{len(r_bytes) * 10 / 115200:.1f} s for the raster receipt; on USB/Ethernet the print head is the limit.",
    ]
    dest = ROOT / "bench" / "results" / "printer.md"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))
    return 0 if r_med <= 150 and t_med <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
