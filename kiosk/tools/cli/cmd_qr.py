"""`kiosk qr`: decode QR codes in image files, listen to the configured scanner."""
from __future__ import annotations

import argparse
import json
import sys

_DECODE_HELP = """Decode every QR code in each IMAGE and print its text exactly (UTF-8, Vietnamese
letters intact). One line per code; with several images each line starts with the file name and a
tab. A code whose character set is not certain (devices/qr/charset.py: no ECI, not UTF-8, not
certainly Shift_JIS) is printed as hex with a note on stderr, never guessed.

Exit status: 0 every image had a code, 1 some image had none, 2 an image could not be read."""

_LISTEN_HELP = """Print each code the configured scanner ([devices.qr]) reads, one per line, until
--count codes were read, --timeout seconds passed without a code, or Ctrl-C. Refused lines
(garbage, partial lines) are reported on stderr with the message the citizen would see."""


def register(sub) -> None:
    from devices.qr.scanner import BACKENDS

    p = sub.add_parser("qr", help="decode QR images, listen to the QR scanner")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="qr_command", metavar="ACTION")

    d = g.add_parser("decode", help="print the text of every QR code in image files",
                     description=_DECODE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("images", nargs="+", metavar="IMAGE", help="image file (PNG, JPEG, …)")
    d.add_argument("--json", action="store_true",
                   help="print one JSON document: per image, the codes with text, bytes (hex), engine, "
                        "corners and payload kind (cccd / receipt / procedure / unknown)")
    d.add_argument("--engine", default="pipeline",
                   choices=["pipeline", "zxing", "zbar-binary", "zbar-plain", "opencv"],
                   help="decoder to use (default: the pipeline; the others are for comparison)")
    d.set_defaults(func=_decode)

    listen = g.add_parser("listen", help="print codes read by the configured scanner",
                          description=_LISTEN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    listen.add_argument("--port", help="serial port, overriding [devices.qr] port (implies --backend serial)")
    listen.add_argument("--baudrate", type=int, help="overrides [devices.qr] baudrate")
    listen.add_argument("--terminator", choices=["cr", "lf", "crlf", "tab"],
                        help="line terminator, overriding [devices.qr] terminator")
    listen.add_argument("--backend", choices=list(BACKENDS), help="overrides [devices.qr] backend")
    listen.add_argument("--count", type=int, default=0, help="stop after this many codes (default: never)")
    listen.add_argument("--timeout", type=float, default=0,
                        help="stop after this many seconds without a code (default: never)")
    listen.add_argument("--json", action="store_true", help="one JSON object per line")
    listen.set_defaults(func=_listen)


def _kind(text: str | None) -> str:
    from devices.qr.payloads import CccdQr, PayloadError, ReceiptQr, parse_any

    if text is None:
        return "unknown"
    try:
        parsed = parse_any(text)
    except PayloadError:
        return "unknown"
    return {CccdQr: "cccd", ReceiptQr: "receipt"}.get(type(parsed), "procedure")


def _decode(args) -> int:
    import cv2
    import numpy as np

    from devices.qr import decode_frame
    from devices.qr.engines import make_engine

    decode = decode_frame if args.engine == "pipeline" else make_engine(args.engine).decode
    report, status = [], 0
    many = len(args.images) > 1
    for path in args.images:
        try:
            img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
        except OSError as exc:
            img, why = None, exc.strerror
        else:
            why = "not an image OpenCV can read"
        if img is None:
            print(f"kiosk qr decode: {path}: {why}", file=sys.stderr)
            report.append({"image": path, "error": why, "codes": []})
            status = 2
            continue
        codes = decode(img)
        if not codes:
            status = max(status, 1)
            if not args.json:
                print(f"kiosk qr decode: {path}: no QR code found", file=sys.stderr)
        entry = {"image": path, "codes": []}
        for c in codes:
            entry["codes"].append({"text": c.text, "charset": getattr(c, "charset", None), "bytes_hex": c.data.hex(),
                                   "engine": c.engine,
                                   "corners": [list(p) for p in c.polygon], "kind": _kind(c.text)})
            if not args.json:
                if c.text is None:
                    print(f"kiosk qr decode: {path}: the character set of a code is not certain; printed as hex", file=sys.stderr)
                line = c.text if c.text is not None else c.data.hex()
                print(f"{path}\t{line}" if many else line)
        report.append(entry)
    if args.json:
        print(json.dumps({"images": report}, ensure_ascii=False, indent=2))
    return status


def _listen(args) -> int:
    import time

    from devices.qr import open_scanner
    from devices.qr.scanner import ScannerError
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    qr = dict(cfg["devices.qr"])
    if args.port:
        qr["port"], qr["backend"] = args.port, "serial"
    if args.backend:
        qr["backend"] = args.backend
    if args.baudrate:
        qr["baudrate"] = args.baudrate
    if args.terminator:
        qr["terminator"] = {"cr": "\r", "lf": "\n", "crlf": "\r\n", "tab": "\t"}[args.terminator]
    camera = cfg["devices.camera"] if qr["backend"] == "camera" else None
    scanner = open_scanner(qr, camera=camera)
    try:
        scanner.open()
    except ScannerError as exc:  # a serial port that is not there yet: read() keeps trying
        print(f"kiosk qr listen: {exc.message_en}", file=sys.stderr)
    h = scanner.health()
    print(f"kiosk qr listen: {qr['backend']} scanner: {h.state.value} {h.detail}", file=sys.stderr)
    read = 0
    last = time.monotonic()
    try:
        while not args.count or read < args.count:
            if args.timeout and time.monotonic() - last > args.timeout:
                return 0 if read else 1
            try:
                data = scanner.read(timeout=0.5)
            except ScannerError as exc:
                print(f"kiosk qr listen: refused ({exc.code}): {exc.message_en} / {exc.message_vi}", file=sys.stderr)
                continue
            if data is None:
                continue
            read += 1
            last = time.monotonic()
            text = data.decode("utf-8")  # the scanner already refused anything else
            if args.json:
                print(json.dumps({"text": text, "kind": _kind(text)}, ensure_ascii=False), flush=True)
            else:
                print(text, flush=True)
    finally:
        scanner.close()
    return 0
