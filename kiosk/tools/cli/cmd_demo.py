"""`kiosk demo`: walk citizen journeys headless and keep every screen and receipt as PNG."""
from __future__ import annotations

from pathlib import Path

from common import clock


def register(sub) -> None:
    p = sub.add_parser("demo", help="walk citizen journeys headless; write screenshots and receipts",
                       description="Start the embedded central system and the kiosk on simulated devices, walk "
                                   "the given procedures with simulated touches, and write a screenshot of every "
                                   "screen plus the printed receipts into a folder whose path is printed.")
    p.add_argument("--out", help="output folder (default out/demo-YYYYmmdd-HHMMSS)")
    p.add_argument("--flows", default="khai-sinh,chung-thuc-ban-sao,tam-tru",
                   help="comma-separated flow ids to walk (default: %(default)s)")
    p.set_defaults(func=_demo)


def _demo(args) -> int:
    from kiosk.ui.display import prepare_kivy_env

    out = Path(args.out or f"out/demo-{clock.stamp()}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    print("kiosk demo: " + prepare_kivy_env(out / "kivy", want_xvfb=False), flush=True)
    from kiosk.tools.demo import run_demo

    run_demo(out, [f.strip() for f in args.flows.split(",") if f.strip()])
    print((out / "SUMMARY.txt").read_text(encoding="utf-8"), end="")
    print(f"kiosk demo: screenshots and receipts in {out}")
    return 0
