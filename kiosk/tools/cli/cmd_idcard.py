"""`kiosk idcard`: list readers, read a chip ID card, serve a virtual card to pcscd."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("idcard", help="chip ID card: list readers, read a card, run a virtual card",
                       description="Chip ID card (CCCD / thẻ căn cước) reader tools.")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="idcard_command", metavar="ACTION")

    r = g.add_parser("readers", help="list PC/SC readers and whether a card lies on each",
                     description="List the PC/SC readers pcscd knows (and the configured backend).")
    r.set_defaults(func=_readers)

    d = g.add_parser("read", help="read a card with a CAN, MRZ lines or the card's QR payload",
                     description="Read the chip with the configured backend ([devices.idcard]); print the "
                                 "fields, the access control that worked and every verification check. "
                                 "Exit 0 when every check passed, 3 when a check failed, 1 when the card "
                                 "could not be read, 2 on bad arguments.")
    key = d.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", metavar="N", help="card access number: the last 6 digits of the 12-digit ID")
    key.add_argument("--mrz", metavar="LINES", help="the 3 MRZ lines (90 characters, spaces or newlines between)")
    key.add_argument("--qr", metavar="PAYLOAD", help="the card's QR payload (ID|old ID|name|birth|sex|address|issue)")
    d.add_argument("--photo", metavar="FILE", help="also read DG2 and write the face image to FILE")
    d.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    d.add_argument("--dataset", metavar="NAME", help="sim backend: which virtual card lies on the reader")
    d.add_argument("--apdu-log", action="store_true", help="also print the redacted APDU log")
    d.set_defaults(func=_read)

    v = g.add_parser("vcard", help="serve a virtual card to pcscd through the vpcd driver",
                     description="Connect a virtual card to the vsmartcard vpcd driver of a running pcscd "
                                 "(reader 'Virtual PCD 00 00' listens on 127.0.0.1:35963) and answer its "
                                 "APDUs until interrupted. For demos and tests of the pcsc backend.")
    v.add_argument("--dataset", default="default", help="data set (see `kiosk idcard datasets`)")
    v.add_argument("--port", type=int, default=35963, help="vpcd port (35963 = Virtual PCD 00 00)")
    v.set_defaults(func=_vcard)

    s = g.add_parser("datasets", help="list the virtual card data sets and their CANs",
                     description="List the data sets of the virtual card (sim backend and `idcard vcard`).")
    s.set_defaults(func=_datasets)


def _readers(args) -> int:
    from devices.idcard.errors import CardError
    from devices.idcard.pcsc import PcscTransport, list_readers
    from kiosk.tools.cli import config_from

    cfg = config_from(args)["devices.idcard"]
    print(f"configured backend: {cfg['backend']}" + (f" (data set {cfg['dataset']})" if cfg["backend"] == "sim" else
                                                     f" (reader pattern {cfg['reader']!r})"))
    try:
        names = list_readers()
    except CardError as exc:
        print(f"PC/SC: {exc.message_en} {exc.detail}")
        return 1 if cfg["backend"] == "pcsc" else 0
    if not names:
        print("PC/SC: no readers")
    for name in names:
        try:
            present = PcscTransport(name).card_present()
            state = "card present" if present else "no card"
        except CardError as exc:
            state = f"unavailable ({exc.detail})"
        print(f"  {name}: {state}")
    return 0


def _fmt_date(d) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


LABELS = [
    ("id_number", "Số định danh cá nhân"), ("full_name", "Họ, chữ đệm và tên"), ("date_of_birth", "Ngày sinh"),
    ("sex", "Giới tính"), ("nationality", "Quốc tịch"), ("ethnicity", "Dân tộc"), ("religion", "Tôn giáo"),
    ("home_town", "Quê quán"), ("residence", "Nơi thường trú"), ("identifying_marks", "Đặc điểm nhận dạng"),
    ("issue_date", "Ngày cấp"), ("expiry_date", "Có giá trị đến"), ("father_name", "Họ tên cha"),
    ("mother_name", "Họ tên mẹ"), ("spouse_name", "Họ tên vợ/chồng"), ("old_id_number", "Số CMND cũ"),
]


def _read(args) -> int:
    from devices.idcard import AccessKey, open_reader
    from devices.idcard.errors import CardError
    from kiosk.tools.cli import config_from

    cfg = dict(config_from(args)["devices.idcard"])
    if args.dataset:
        if cfg["backend"] != "sim":
            print("kiosk: --dataset only applies to the sim backend", file=sys.stderr)
            return 2
        cfg["dataset"] = args.dataset
    try:
        if args.can is not None:
            key = AccessKey.from_can(args.can)
        elif args.mrz is not None:
            key = AccessKey.from_mrz_lines(args.mrz)
        else:
            key = AccessKey.from_qr(args.qr)
    except CardError as exc:
        print(f"{exc.message_vi}\n{exc.message_en} ({exc.detail})", file=sys.stderr)
        return 2
    groups = ("DG1", "DG13") + (("DG2",) if args.photo else ())
    try:
        reader = open_reader(cfg)
    except KeyError as exc:
        print(f"kiosk: {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        reader.open()
        result = reader.read(key, groups=groups)
    except CardError as exc:
        if args.json:
            print(json.dumps({"result": "error", "error": type(exc).__name__, "message_vi": exc.message_vi,
                              "message_en": exc.message_en, "detail": exc.detail}, ensure_ascii=False, indent=2))
        else:
            print(f"{exc.message_vi}\n{exc.message_en}" + (f" ({exc.detail})" if exc.detail else ""), file=sys.stderr)
        return 1
    finally:
        reader.close()
    if args.photo and result.photo_jpeg:
        with open(args.photo, "wb") as fh:
            fh.write(result.photo_jpeg)
    ok = result.verified
    if args.json:
        out = {
            "result": "verified" if ok else "checks_failed",
            "access_control": result.access_control,
            "person": result.person.as_dict(),
            "checks": {k: v.as_dict() for k, v in result.checks.items()},
            "clone_check": result.clone_check.as_dict(),
            "groups": result.groups,
            "photo": {"file": args.photo, "bytes": len(result.photo_jpeg), "type": result.photo_mime}
            if result.photo_jpeg else None,
            "stats": result.stats,
        }
        if args.apdu_log:
            out["apdu_log"] = result.apdu_log
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0 if ok else 3
    p = result.person
    print(f"Truy cập chip / access control: {result.access_control}")
    for attr, label in LABELS:
        value = getattr(p, attr)
        if attr == "expiry_date" and p.no_expiry:
            value = "Không thời hạn"
        elif hasattr(value, "strftime"):
            value = _fmt_date(value)
        print(f"  {label}: {value if value else '—'}")
    if p.missing:
        print(f"  Không có trên chip / missing: {', '.join(p.missing)}")
    if p.unreadable:
        print(f"  Không đọc được / unreadable: {', '.join(p.unreadable)}")
    if result.photo_jpeg:
        print(f"  Ảnh chân dung / photo: {len(result.photo_jpeg)} bytes {result.photo_mime} → {args.photo}")
    print("Kiểm tra / checks:")
    for name, check in result.checks.items():
        print(f"  {name:22} {check.status:12} {check.detail}")
    print(f"Kết quả / result: {'HỢP LỆ / verified' if ok else 'KHÔNG HỢP LỆ / a check failed'}"
          f"  ({result.stats['apdus']} APDUs, {result.stats['seconds']:.3f} s)")
    if args.apdu_log:
        print("APDU log:")
        for line in result.apdu_log:
            print("  " + line)
    return 0 if ok else 3


def _vcard(args) -> int:
    from devices.idcard.vcard.datasets import DATASETS
    from devices.idcard.vcard.vpcd import serve_forever

    if args.dataset not in DATASETS:
        print(f"kiosk: unknown data set {args.dataset!r}; known: {', '.join(DATASETS)}", file=sys.stderr)
        return 2
    print(f"virtual card '{args.dataset}' → vpcd 127.0.0.1:{args.port} (Ctrl-C to stop)", flush=True)
    serve_forever(args.dataset, port=args.port)
    return 0


def _datasets(args) -> int:
    from devices.idcard.vcard.datasets import DATASETS

    for ds in DATASETS.values():
        print(f"{ds.name:9} CAN {ds.citizen.can}  {ds.description}")
    return 0
