"""`kiosk run`: the touchscreen application (optionally with the embedded central system)."""
from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("run", help="start the kiosk touchscreen app",
                       description="Start the kiosk app on the configured devices. With no screen, a virtual X "
                                   "server (Xvfb) or SDL's offscreen driver is used and said so. With any real "
                                   "device configured it does not start (exit 2) while `kiosk config check` "
                                   "names a problem (placeholders, public secrets, test trust, plain HTTP).")
    p.add_argument("--embedded-central", action="store_true",
                   help="also start the reference central system on [central].url (for demos and labs)")
    p.add_argument("--size", default="1920x1080", help="window size WxH (default 1920x1080, a 21.5\" kiosk panel)")
    p.add_argument("--fullscreen", action="store_true", help="full screen (the kiosk session under systemd)")
    p.add_argument("--no-xvfb", action="store_true", help="with no screen, use SDL's offscreen driver, not Xvfb")
    p.add_argument("--screenshot-every", type=float, default=0, metavar="S",
                   help="with no screen, write var/screen.png every S seconds so a technician can look")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from kiosk.tools.cli import config_from
    from kiosk.ui.display import prepare_kivy_env
    from kiosk.logs import setup_logging

    from kiosk.deployment import problems

    cfg = config_from(args)
    setup_logging(cfg["logging"]["level"], cfg["logging"]["file"] or None)
    log = logging.getLogger("kiosk.run")
    unfit = problems(cfg)
    if unfit:  # a kiosk with real devices never faces citizens with public secrets or test trust
        for p in unfit:
            print(f"kiosk: {p}", file=sys.stderr)
        print("kiosk: not starting: fix the above in the configuration (`kiosk config check`) / "
              "chưa khởi động: sửa các mục trên trong tệp cấu hình", file=sys.stderr)
        log.error("not starting: %d configuration problem(s): %s", len(unfit), ", ".join(p.key for p in unfit))
        return 2
    w, h = (int(x) for x in args.size.lower().split("x"))
    how = prepare_kivy_env(Path(cfg["paths"]["data_dir"]) / "kivy", want_xvfb=not args.no_xvfb, size=(w, h),
                           fullscreen=args.fullscreen)
    print(f"kiosk: {how}", flush=True)
    server = None
    if args.embedded_central:
        from central.server import run_in_thread

        server = run_in_thread(cfg)
        print(f"kiosk: central system listening on {server.url}", flush=True)
        from kiosk.deployment import simulated

        if simulated(cfg):  # the demo centre: counters and console accounts with passwords for this run
            from kiosk.tools.centre_demo import seed

            print(seed(server, cfg).banner(), flush=True)
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp
    from kiosk.sdnotify import notify

    app = KioskApp(cfg)
    signal.signal(signal.SIGTERM, lambda *_: app.stop())
    Clock.schedule_once(lambda *_: notify("READY=1"), 0)
    Clock.schedule_interval(lambda *_: notify("WATCHDOG=1"), 5)
    if args.screenshot_every:
        from kivy.core.window import Window

        import os

        shot = Path(cfg["paths"]["data_dir"]) / "screen.png"

        def snap(*_):
            made = Window.screenshot(name=str(shot.with_name("screen-tmp.png")))  # Kivy numbers the name
            if made:
                os.replace(made, shot)

        Clock.schedule_interval(snap, args.screenshot_every)
    print(f"kiosk: {cfg['kiosk']['id']} serving the home screen; Ctrl-C stops", flush=True)
    try:
        app.run()
    finally:
        if server is not None:
            server.stop()
        log.info("kiosk stopped")
    return 0
