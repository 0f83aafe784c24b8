"""`make demo`: walk citizen journeys headless on simulated devices against the embedded central
system, and keep a screenshot of every screen plus the printed receipts.

Also the harness the UI tests use: ``demo_config(tmp)`` makes a self-contained configuration
(its own data folder and a free port for the central system) and ``running_app(cfg)`` starts the
real Kivy app in-process.
"""
from __future__ import annotations

import contextlib
import json
import shutil
import socket
import time
from pathlib import Path

DEFAULT_FLOWS = ("khai-sinh", "chung-thuc-ban-sao", "tam-tru")
# walked again by keys only with the speech mode on (issue 18: people who cannot see the screen)
KEYPAD_FLOWS = ("khai-sinh",)
# the simulated bank's gateway secret: only a simulated demo's central ever holds it
DEMO_GATEWAY_SECRET = "demo-bank-gateway-secret-not-for-real-use"
# the counter the demo's receipts send the citizen to ([kiosk] result_counter; empty: the general wording)
DEMO_RESULT_COUNTER = "Quầy số 2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_config(folder: Path, port: int | None = None, extra: str = "", flows_dir: Path | None = None,
                result_counter: str = ""):
    """Every file the kiosk writes goes under ``folder`` (the repository's var/ is the installed
    kiosk's; a demo or a test must not touch it): each writable path is named here, and a path
    in this file resolves from ``folder`` (tests/kiosk/test_demo_config.py checks every key).
    ``result_counter``: ``[kiosk] result_counter`` (`make demo` names one, DEMO_RESULT_COUNTER, so
    its receipts say a real counter; tests keep the general wording unless they set it)."""
    import re

    from kiosk.config import load_config
    from kiosk.deployment import DEMO_PAYMENT_ACCOUNT

    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    if result_counter:  # into the caller's [kiosk] table if it has one (TOML allows one table of a name)
        line = f"result_counter = {json.dumps(result_counter, ensure_ascii=False)}\n"
        if re.search(r"^\[kiosk\][ \t]*$", extra, flags=re.M):
            extra = re.sub(r"^\[kiosk\][ \t]*\n", lambda m: m.group(0) + line, extra, count=1, flags=re.M)
        else:
            extra = "[kiosk]\n" + line + extra
    override = folder / "kiosk.toml"
    override.write_text(
        "# made by kiosk.tools.demo: a self-contained kiosk with its own data folder\n"
        "[paths]\ndata_dir = \"var\"\n"
        + (f"flows_dir = \"{flows_dir}\"\n" if flows_dir else "") +
        "[logging]\nfile = \"var/log/kiosk.log\"\n"
        f"[central]\nurl = \"http://127.0.0.1:{port}\"\ndatabase = \"var/central.sqlite3\"\n"
        # the fee paid by VietQR (issue 22): a test account, and the gateway secret the embedded
        # central checks and the simulated bank signs with (kiosk.services.sim_pay → kiosk.sim_bank)
        f"payment_gateway_secret = \"{DEMO_GATEWAY_SECRET}\"\n"
        "[payments]\nenabled = true\n"
        f"bank_bin = \"{DEMO_PAYMENT_ACCOUNT[0]}\"\naccount = \"{DEMO_PAYMENT_ACCOUNT[1]}\"\n"
        "account_name = \"TRUNG TAM PVHCC BA DINH\"\n"
        "[outbox]\npath = \"var/outbox.sqlite3\"\nkey_file = \"var/outbox.key\"\n"
        "[flows]\nbundle_dir = \"var/flows\"\n"
        "[devices.printer]\nout_dir = \"var/printer\"\nspool_dir = \"var/printer/spool\"\n" + extra,
        encoding="utf-8",
    )
    return load_config(override)


@contextlib.contextmanager
def running_app(cfg, central: bool = True):
    """The real app, prepared but driven by the caller (no blocking ``run()``)."""
    from kivy.base import EventLoop

    from kiosk.ui.app import KioskApp

    server = None
    if central:
        from central.server import run_in_thread

        server = run_in_thread(cfg)
    app = KioskApp(cfg)
    app.central_server = server  # tests stop and restart it to cut the network
    app.services.start()
    app._run_prepare()
    try:
        for _ in range(5):
            EventLoop.idle()
        yield app
    finally:
        app.stop()
        if app.central_server is not None:
            app.central_server.stop()


def run_demo(out: Path, flows=DEFAULT_FLOWS, keypad_flows=KEYPAD_FLOWS) -> Path:
    """Each of ``flows`` walked by touch, then each of ``keypad_flows`` by keys only with the
    speech mode on (screens in ``screens/keypad-<flow>/``). Writes SUMMARY.txt and SUMMARY.json
    (:func:`journey_summary` per journey)."""
    from kiosk.tools.journeys import appointment_observer, walk_procedure, walk_procedure_by_keys
    from kiosk.tools.touch_robot import Driver

    shots = out / "screens"
    cfg = demo_config(out / "kiosk", result_counter=DEMO_RESULT_COUNTER)
    summary, journeys = [], []
    with running_app(cfg) as app:
        d = Driver(app, shots)
        walks = [(flow_id, False) for flow_id in flows] + [(flow_id, True) for flow_id in keypad_flows]
        for flow_id, by_keys in walks:
            t0 = time.monotonic()
            if by_keys:
                res = walk_procedure_by_keys(app, flow_id, shots_dir=shots / f"keypad-{flow_id}")
            else:
                seen: dict[str, str] = {}
                res = walk_procedure(d, flow_id, observe=appointment_observer(app, seen))
                res.appointment_on_review, res.appointment_on_receipt = seen.get("review", ""), seen.get("receipt", "")
            if res.receipt_png:
                target = out / f"receipt-{flow_id}{'-keypad' if by_keys else ''}.png"
                shutil.copy(res.receipt_png, target)
            how = "keys only, speech on" if by_keys else "touch"
            summary.append(f"{flow_id} ({how}): code {res.code}, {res.touches} touches, {res.typed} keys typed "
                           f"({res.typed_after_chip} after the chip read), {time.monotonic() - t0:.1f} s")
            journeys.append(journey_summary(res))
            d.wait_screen("home", 15)
        _other_services(d, app)
        # the centre behind the kiosk: the officers' console and the TV, in Debian's chromium
        from kiosk.tools.centre_demo import photograph, seed

        centre_shots = photograph(app.central_server, seed(app.central_server, cfg), out / "centre")
        summary.append(f"centre console and display: {len(centre_shots)} screenshots in centre/"
                       if centre_shots else "centre console and display: no screenshots (chromium missing)")
        # the province's admins: a fee changed with four eyes (keys in throwaway tokens), to this kiosk as pilot
        from kiosk.tools import admin_demo

        admin_shots = admin_demo.photograph(app.central_server, cfg, out / "admin")
        summary.append(f"admin console: {len(admin_shots)} screenshots in admin/"
                       if admin_shots else "admin console: no screenshots (chromium missing)")
    (out / "SUMMARY.txt").write_text("\n".join(summary) + "\n", encoding="utf-8")
    (out / "SUMMARY.json").write_text(json.dumps({"journeys": journeys}, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return out


STATE_SHOTS = ("-done", "-camera", "-photo")  # kiosk.tools.journeys: shots of a screen's later states


def journey_summary(res) -> dict:
    """One journey of SUMMARY.json: the effort (touches, typed keys, after the chip), whether it
    was walked by keys only, the screens met (a screen counts once: the shots of its later
    states — a card read, the camera, a photo, papers done — are not new screens) and how many of
    those had their title said, and the appointment date the review screen showed and the receipt
    printed (ISO dates; "" when a screen showed none), and the face check's outcome (``face_match``)."""
    met = len(res.arrivals) if res.arrivals else len([s for s in res.screens if not s.endswith(STATE_SHOTS)])
    return {
        "flow": res.flow_id,
        "touches": res.touches,
        "typed": res.typed,
        "typed_after_chip": res.typed_after_chip,
        "keypad_only": bool(res.keypad_only),
        "screens": met,
        "screens_spoken": res.screens_spoken,
        "appointment_on_review": res.appointment_on_review,
        "appointment_on_receipt": res.appointment_on_receipt,
        # the face check against the chip photo (docs/face.md); a flow without the step does not require it
        "face_match": res.face_match or "not_required",
    }


def _other_services(d, app) -> None:
    from kiosk.ui.i18n import tr

    d.tap(tr("home.ticket", "vi"))
    d.wait_screen("ticket")
    d.screenshot("ticket-choose")
    flows = app.services.registry.by_field()
    d.tap(next(iter(flows.values()))[0].field["vi"])
    d.wait_for(lambda: d.has_text("Số thứ tự"), 20, "the ticket")
    d.screenshot("ticket-issued")
    d.tap(tr("receipt.finish", "vi"))
    d.wait_screen("goodbye")
    app.end_session()
    d.wait_screen("home")
    d.tap(tr("home.lookup", "vi"))
    d.wait_screen("lookup")
    d.screenshot("lookup")
    app.go("home")
    d.wait_screen("home")
    d.tap(tr("lang.switch", "vi"))
    d.screenshot("home-english")
    d.tap(tr("lang.switch", "en"))
    d.tap("A+")
    d.tap("◐")
    d.screenshot("home-large-contrast")
