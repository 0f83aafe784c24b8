"""`kiosk demo`: walk citizen journeys headless and keep every screen and receipt as PNG."""
from __future__ import annotations

from pathlib import Path

from common import clock
from kiosk.tools.demo import DEFAULT_FLOWS, KEYPAD_FLOWS  # no Kivy at import: the app starts in run_demo


def register(sub) -> None:
    p = sub.add_parser("demo", help="walk citizen journeys headless; write screenshots and receipts",
                       description="Start the embedded central system and the kiosk on simulated devices, walk "
                                   "the given procedures with simulated touches, then the --keypad-flows ones again "
                                   "by keypad keys only with the speech mode on, and write a screenshot of every "
                                   "screen plus the printed receipts into a folder whose path is printed, with "
                                   "SUMMARY.txt and SUMMARY.json (per journey: touches, typed keys, screens, "
                                   "screens spoken, the appointment date on the review screen and the receipt).")
    p.add_argument("--out", help="output folder (default out/demo-YYYYmmdd-HHMMSS)")
    p.add_argument("--flows", default=",".join(DEFAULT_FLOWS),
                   help="comma-separated flow ids to walk by touch (default: %(default)s)")
    p.add_argument("--keypad-flows", default=",".join(KEYPAD_FLOWS),
                   help="comma-separated flow ids to walk again by keys only, speech on; empty: none "
                        "(default: %(default)s)")
    p.set_defaults(func=_demo)


def _ids(text: str) -> list[str]:
    return [f.strip() for f in (text or "").split(",") if f.strip()]


def _demo(args) -> int:
    from kiosk.ui.display import prepare_kivy_env

    out = Path(args.out or f"out/demo-{clock.stamp()}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    print("kiosk demo: " + prepare_kivy_env(out / "kivy", want_xvfb=False), flush=True)
    from kiosk.tools.demo import run_demo

    run_demo(out, _ids(args.flows), keypad_flows=_ids(args.keypad_flows))
    print((out / "SUMMARY.txt").read_text(encoding="utf-8"), end="")
    print(f"kiosk demo: screenshots and receipts in {out}")
    print(f"kiosk demo: summary in {out / 'SUMMARY.json'}")
    return 0
