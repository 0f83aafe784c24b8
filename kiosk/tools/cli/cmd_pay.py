"""`kiosk pay qr`: the VietQR payload this kiosk's pay screen shows for a fee (issue 22), for
technicians and for the banks' acceptance tests: the configured account ([payments] bank_bin,
account), the amount, and the dossier code as bill number and purpose, exactly as
kiosk.services.KioskServices.payment_qr builds it."""
from __future__ import annotations

import sys


def register(sub) -> None:
    g = sub.add_parser("pay", help="fee payment with VietQR: print the payload for the configured account")
    gs = g.add_subparsers(dest="pay_command", metavar="SUBCOMMAND")
    g.set_defaults(group_parser=g)
    q = gs.add_parser(
        "qr", help="print the VietQR payload for an amount and a dossier code",
        description="Print the NAPAS VietQR payload (EMVCo merchant-presented QR, dynamic) that pays AMOUNT dong into "
                    "the account of [payments] bank_bin/account, with the dossier code as bill number and purpose. "
                    "--png also writes the QR image. Exit 2 for a value the code cannot carry or a missing account.")
    q.add_argument("--amount", required=True, type=int, metavar="N", help="whole dong, more than 0")
    q.add_argument("--dossier", required=True, metavar="CODE", help="the dossier code, e.g. 01.00004-261204-0007")
    q.add_argument("--purpose", metavar="TEXT", help="the transfer's purpose as the payer's app shows it (default: the dossier code)")
    q.add_argument("--png", metavar="FILE", help="also write the QR code as a PNG image")
    q.set_defaults(func=_qr)


def _payments_settings(cfg) -> dict:
    """[payments] as kiosk/config.py declares it; read defensively (a configuration from before the
    section, or a test's dict, holds none)."""
    try:
        section = cfg["payments"]
    except (KeyError, TypeError):
        return {}
    return dict(section) if isinstance(section, dict) else {}


def _qr(args) -> int:
    from common.vietqr import VietQRError, build_payload
    from kiosk.tools.cli import config_from

    p = _payments_settings(config_from(args))
    bank_bin, account = str(p.get("bank_bin") or ""), str(p.get("account") or "")
    if not bank_bin or not account:
        print("kiosk pay qr: no receiving account: set [payments] bank_bin and account in the configuration\n"
              "Chưa cấu hình tài khoản nhận tiền: điền [payments] bank_bin và account trong tệp cấu hình.", file=sys.stderr)
        return 2
    try:
        payload = build_payload(bank_bin, account, args.amount, args.dossier,
                                purpose=args.dossier if args.purpose is None else args.purpose)
    except VietQRError as exc:
        print(f"kiosk pay qr: {exc}\n{exc.message_vi}", file=sys.stderr)
        return 2
    if args.png:
        import segno

        segno.make(payload, error="m", micro=False).save(args.png, kind="png", scale=8, border=4)
    print(payload)
    return 0
