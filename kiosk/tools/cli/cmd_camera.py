"""`kiosk camera`: take a snapshot, turn document photos into a flat JPEG or a multi-page PDF."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

_SNAPSHOT_HELP = """Grab one frame from the configured camera ([devices.camera]) and write it to OUT
(.png or .jpg). --backend/--source override the configuration, e.g. `--backend opencv --source 0`
for the first USB camera or `--backend file --source clip.mp4`."""

_SCAN_HELP = """Find the page in each photo IN, flatten the perspective, level and crop it, check that
it is readable, and write OUT: a .jpg (one IN) within --max-bytes, or a .pdf with one page per IN
(each page a JPEG within --max-bytes, embedded unchanged). Prints the sha256 of every output.

A photo without a usable page (not found, cut off) stops with the citizen's message and writes
nothing (exit 1). Other problems (blurred, too dark, glare, too far) are printed as warnings; the
output is still written unless --strict (then exit 1)."""


def register(sub) -> None:
    from devices.camera.backends import BACKENDS

    p = sub.add_parser("camera", help="camera snapshot, document capture")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="camera_command", metavar="ACTION")

    s = g.add_parser("snapshot", help="write one camera frame to an image file",
                     description=_SNAPSHOT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("out", metavar="OUT", help="image file to write (.png or .jpg)")
    s.add_argument("--backend", choices=list(BACKENDS), help="overrides [devices.camera] backend")
    s.add_argument("--source", help="overrides [devices.camera] source (device index, path or URL)")
    s.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a frame (default 10)")
    s.set_defaults(func=_snapshot)

    d = g.add_parser("scan-document", help="flatten document photos into a JPEG or a PDF",
                     description=_SCAN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("inputs", nargs="+", metavar="IN", help="photo(s) of a document")
    d.add_argument("out", metavar="OUT", help="output .jpg (one input) or .pdf")
    d.add_argument("--scan", action="store_true", help="photocopy look: white paper, shadows removed")
    d.add_argument("--whole", action="store_true", help="the image is already just the page (a flatbed scan)")
    d.add_argument("--max-bytes", type=int, default=800_000, help="JPEG size budget per page (default 800000)")
    d.add_argument("--strict", action="store_true", help="treat quality warnings as errors")
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    d.set_defaults(func=_scan_document)


def _snapshot(args) -> int:
    import cv2

    from devices.camera import CameraError, open_camera
    from kiosk.tools.cli import config_from

    cam_cfg = dict(config_from(args)["devices.camera"])
    if args.backend:
        cam_cfg["backend"] = args.backend
    if args.source is not None:
        cam_cfg["source"] = args.source
    try:
        cam = open_camera(cam_cfg)
        try:
            cam.open()
            frame = cam.wait_next(args.timeout) if hasattr(cam, "wait_next") else cam.frame(args.timeout)
        finally:
            cam.close()
    except CameraError as exc:
        print(f"kiosk camera snapshot: {exc.message_en}", file=sys.stderr)
        return 1
    ok, buf = cv2.imencode(Path(args.out).suffix or ".png", frame)
    if not ok:
        print(f"kiosk camera snapshot: cannot write {args.out}: use .png or .jpg", file=sys.stderr)
        return 2
    Path(args.out).write_bytes(buf.tobytes())
    print(f"{args.out}\t{frame.shape[1]}x{frame.shape[0]}")
    return 0


def _scan_document(args) -> int:
    import cv2
    import numpy as np

    from devices.camera.document import DocumentError, capture_document, encode_jpeg, pages_to_pdf

    out = Path(args.out)
    if out.suffix.lower() not in (".jpg", ".jpeg", ".pdf"):
        print("kiosk camera scan-document: OUT must end in .jpg or .pdf", file=sys.stderr)
        return 2
    if out.suffix.lower() != ".pdf" and len(args.inputs) > 1:
        print("kiosk camera scan-document: several inputs need a .pdf OUT", file=sys.stderr)
        return 2
    pages, report, failed = [], [], False
    for path in args.inputs:
        img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR) if Path(path).is_file() else None
        if img is None:
            print(f"kiosk camera scan-document: {path}: not an image that can be read", file=sys.stderr)
            return 2
        try:
            page = capture_document(img, scan=args.scan, whole=args.whole)
        except DocumentError as exc:
            print(f"{path}: {exc.message_vi}\n{path}: {exc.message_en}", file=sys.stderr)
            report.append({"input": path, "error": exc.code})
            failed = True
            continue
        for issue in page.issues:
            print(f"{path}: {issue.message_vi}\n{path}: {issue.message_en}", file=sys.stderr)
        failed |= bool(args.strict and page.issues)
        jpeg = encode_jpeg(page.image, max_bytes=args.max_bytes)
        pages.append(jpeg)
        report.append({"input": path, "issues": [i.code for i in page.issues], "skew_deg": round(page.skew_deg, 2),
                       "size": jpeg.size, "pixels": list(jpeg.pixels), "sha256": jpeg.sha256})
    if failed:
        if args.json:
            print(json.dumps({"written": None, "pages": report}, ensure_ascii=False, indent=2))
        return 1
    result = pages_to_pdf(pages) if out.suffix.lower() == ".pdf" else pages[0]
    out.write_bytes(result.data)
    if args.json:
        print(json.dumps({"written": str(out), "sha256": result.sha256, "size": result.size, "pages": report},
                         ensure_ascii=False, indent=2))
    else:
        for r in report:
            print(f"{r['input']}\tpage sha256 {r['sha256']}\t{r['size']} bytes")
        print(f"{out}\tsha256 {result.sha256}\t{result.size} bytes")
    return 0
