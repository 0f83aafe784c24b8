"""The citizen of the real-hardware boot test, in its own process (Kivy has one window per process).

Boots the kiosk from the configuration file given, exactly as ``kiosk --config F run`` builds it
(KioskApp, KioskServices.start: every device from its backend table), and files one procedure
through the touchscreen. What a citizen does with the devices themselves goes through the same OS
interfaces a real kiosk uses:

* the card's QR: typed by the "scanner" into the other end of a socat pseudo-terminal,
  CR-terminated (``--qr serial``), or shown to the camera by swapping the video file the
  ``opencv`` camera backend reads (``--qr camera``: the file camera loops, so the next loop shows
  the new scene);
* the card: the virtual card connects to pcscd's vpcd reader only when the screen asks for it,
  so laying the card (a pcscd event) starts the read; it is lifted at goodbye;
* documents: the same camera, showing a photographed paper on a desk.

Writes a JSON summary to ``--result`` for the test to check against the printer listener and the
central system.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _card_on_reader(reader_name: str) -> bool:
    from devices.idcard.errors import CardError
    from devices.idcard.pcsc import PcscTransport

    try:
        return PcscTransport(reader_name).card_present()
    except CardError:
        return False


class Hands:
    # no face stands before the file camera: the face check (khai sinh) takes the staff path with the
    # PIN test_real_hardware_boot.py hashes into the config (kiosk/ui/steps/face_check.py)
    staff_pin = "975310"

    def __init__(self, args, app):
        self.args, self.app = args, app
        self.card = None
        self.verified = False

    def show_qr(self) -> None:
        from devices.qr.scanner import SIM_CITIZEN_QR

        if self.args.qr == "serial":
            import serial

            with serial.Serial(self.args.scanner_end, 9600, timeout=1) as dev:
                dev.write(SIM_CITIZEN_QR.encode("utf-8") + b"\r")  # the scanner's CR suffix
                dev.flush()
        else:
            self.scene("card")

    def scene(self, name: str) -> None:
        tmp = Path(self.args.video + ".swap")
        tmp.write_bytes(Path(self.args.scenes, f"{name}.avi").read_bytes())
        os.replace(tmp, self.args.video)  # atomic: the camera reopens a whole file

    def lay_card(self) -> None:
        from devices.idcard.vcard.vpcd import VpcdCard

        # vpcd ignores the first connection after a card vanished mid-APDU: try again until
        # pcscd reports the card (the same as tests/devices/idcard/conftest.py)
        for _ in range(4):
            self.card = VpcdCard("default").start()
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if _card_on_reader(self.args.reader):
                    return
                time.sleep(0.05)
            self.card.stop()
        raise RuntimeError("pcscd did not see the virtual card")

    def lift_card(self) -> None:
        if self.card is not None:
            self.card.stop()
            self.card = None

    # --- what kiosk.ui.steps.identify calls --------------------------------------------------------
    def present_card(self, w) -> None:
        from kiosk.ui.i18n import tr

        d, lang = w.d, self.app.lang
        self.show_qr()  # the QR first, the card not on the reader yet
        d.wait_for(lambda: d.has_text(tr("identify.lay_card", lang)[:30]), 30, "the ask to lay the card")
        w.shot("identify-waiting-for-card")
        self.lay_card()  # pcscd reports it: the read starts by itself, no touch
        d.wait_for(lambda: bool(self.app.session.applicant), 90, "the chip read over pcscd")
        self.verified = bool(getattr(self.app.session.card, "verified", False))
        if self.args.qr == "camera":
            self.scene("page")  # the card is put away; a paper is laid under the camera


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--flow", required=True)
    p.add_argument("--qr", choices=("serial", "camera"), required=True)
    p.add_argument("--scanner-end", help="the pty the test's scanner types into (--qr serial)")
    p.add_argument("--video", required=True, help="the file the opencv camera reads")
    p.add_argument("--scenes", required=True, help="folder with card.avi and page.avi")
    p.add_argument("--reader", required=True, help="the PC/SC reader's name")
    p.add_argument("--shots", required=True)
    p.add_argument("--result", required=True)
    args = p.parse_args(argv)

    from kiosk.ui.display import prepare_kivy_env

    prepare_kivy_env(Path(args.shots) / ".kivy", want_xvfb=False)
    from kiosk.config import load_config
    from kiosk.tools.demo import running_app
    from kiosk.tools.journeys import walk_procedure
    from kiosk.tools.touch_robot import Driver
    from kiosk.ui.i18n import tr

    cfg = load_config(args.config)
    summary: dict = {}
    with running_app(cfg, central=False) as app:
        d = Driver(app, args.shots)
        d.wait_screen("home")
        d.wait_for(lambda: app.services.registry is not None, 30, "the services")
        summary["startup_problems"] = list(app.services.startup_problems)
        summary["backends"] = {
            "idcard": type(app.services.reader.transport).__name__,
            "qr": type(app.services.scanner).__name__,
            "camera": type(app.services.open_camera()).__name__,
            "printer": app.services.printer.transport.describe(),
            "outbox_key": app.services.outbox.key_source.kind,
        }
        hands = Hands(args, app)
        res = walk_procedure(d, args.flow, hands=hands)
        # the visit ended with the card still on the reader: goodbye and home remind the citizen
        summary["reminded"] = d.has_text(tr("card.take_back", app.lang))
        d.wait_screen("home", 20)
        summary["reminded_at_home"] = d.has_text(tr("card.take_back", app.lang))
        d.screenshot("home-card-left")
        hands.lift_card()  # pcscd reports the removal: the reminder goes
        d.wait_for(lambda: not d.has_text(tr("card.take_back", app.lang)), 15, "the reminder to go")
        summary["reminder_gone"] = True
        summary.update(verified_card=hands.verified, code=res.code, provisional=res.provisional, screens=res.screens, touches=res.touches,
                       spooled=app.services.printer.pending())
    Path(args.result).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
