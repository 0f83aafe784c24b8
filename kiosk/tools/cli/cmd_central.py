"""`kiosk central`: run the reference central system and do its staff/admin chores."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("central", help="run the reference central system; register kiosks; move dossier status; help calls")
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="central_command", metavar="ACTION")

    s = g.add_parser("serve", help="run the central system in the foreground (Ctrl-C stops it)",
                     description="Serve the kiosk ↔ central API. The kiosk named in [kiosk].id is registered "
                                 "with [central].kiosk_secret at start, like the embedded central of `make run`.")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8780, help="TCP port (default 8780)")
    _db_arg(s)
    s.add_argument("--tls-cert", metavar="PEM", help="server certificate (enables HTTPS)")
    s.add_argument("--tls-key", metavar="PEM", help="server private key")
    s.add_argument("--client-ca", metavar="PEM", help="require kiosk client certificates signed by this CA (mutual TLS)")
    s.add_argument("--workers", type=int, default=1, help="server processes sharing the database (default 1)")
    s.add_argument("--no-register", action="store_true",
                   help="do not register the configured kiosk at start (never done for the public demo secret)")
    s.set_defaults(func=_serve)

    r = g.add_parser("register-kiosk", help="create (or re-key) a kiosk and print its new secret",
                     description="Prints a new random secret for KIOSK_ID; only its hash is stored. Put it in the "
                                 "kiosk's [central].kiosk_secret. Running it again for the same id replaces the secret.")
    r.add_argument("kiosk_id", metavar="KIOSK_ID")
    r.add_argument("--province", required=True, help="2-digit province code the kiosk serves (routing stays in it)")
    r.add_argument("--commune", default="", help="5-digit commune code where the kiosk stands")
    _db_arg(r)
    r.set_defaults(func=_register)

    st = g.add_parser("set-status", help="staff: move a dossier received → processing → needs_papers → ready → returned")
    st.add_argument("code", help="dossier code, e.g. 01.00004-261123-0007")
    st.add_argument("status", choices=["processing", "needs_papers", "ready", "returned", "done"])
    st.add_argument("--note", default="", help="note stored with the change (no personal data)")
    _db_arg(st)
    st.set_defaults(func=_set_status)

    k = g.add_parser("kiosks", help="list kiosks with their last heartbeat (JSON)")
    _db_arg(k)
    k.set_defaults(func=_kiosks)

    h = g.add_parser("help-calls", help="staff: list the open help calls of the kiosks (or --ack one)",
                     description="Citizens who touched \"Gọi cán bộ hỗ trợ\" on a kiosk, newest first: the call's short ID, "
                                 "the kiosk, where in which procedure, the screen's language and how long the citizen "
                                 "has been waiting. --ack ID tells the kiosk that someone is on the way (its screen then "
                                 "shows \"Cán bộ đang đến\"); a call already acknowledged or cancelled is refused with who "
                                 "or when. Reads and writes the central database directly, like set-status; over HTTP "
                                 "it is GET /api/v1/help-calls and POST /api/v1/help-calls/{uuid}/ack (docs/help-calls.md).")
    h.add_argument("--ack", metavar="ID", help="acknowledge this call: its uuid, or the first characters shown in the list")
    h.add_argument("--by", default="", help="with --ack: who goes, a name or a desk (default: your login name)")
    h.add_argument("--commune", metavar="CODE", help="only the kiosks of this 5-digit commune code")
    h.add_argument("--state", choices=["open", "acknowledged", "cancelled", "all"], default="open",
                   help="which calls to list (default: open)")
    h.add_argument("--json", action="store_true", help="print JSON (the HTTP API's shape) instead of a table")
    _db_arg(h)
    h.set_defaults(func=_help_calls)

    a = g.add_parser("accounts", help="officers' console: add, list, unlock, disable people's accounts",
                     description="Accounts of the officers' web console (/console/, docs/centre.md). A password is "
                                 "never an argument: it is read from standard input (one line) or asked twice at the "
                                 "terminal; only its PBKDF2 hash is stored.")
    ag = a.add_subparsers(dest="accounts_command", metavar="ACTION")
    aa = ag.add_parser("add", help="create an account (password from stdin or a prompt)")
    aa.add_argument("--username", required=True, help="2-64 of a-z 0-9 . _ -")
    aa.add_argument("--role", required=True, choices=["officer", "supervisor", "admin"],
                    help="officer: the centre's dossiers, counters, help calls; supervisor: also ratings, queue day, audit; "
                         "admin: a province's kiosk fleet and intake figures, no dossier contents")
    aa.add_argument("--commune", default="", metavar="CODE", help="the centre: its 5-digit commune code (officer, supervisor)")
    aa.add_argument("--province", default="", metavar="CODE", help="the province: its 2-digit code, e.g. 01 (admin)")
    aa.add_argument("--name", default="", help="the name shown on the console (e.g. \"Nguyễn Thị Lan\")")
    _db_arg(aa)
    aa.set_defaults(func=_accounts_add)
    al = ag.add_parser("list", help="list accounts (never their passwords)")
    al.add_argument("--commune", metavar="CODE", help="only this centre's")
    al.add_argument("--json", action="store_true", help="print JSON")
    _db_arg(al)
    al.set_defaults(func=_accounts_list)
    for name, what in (("unlock", "end a lock-out (5 wrong passwords lock an account for 15 minutes)"),
                       ("disable", "stop an account: no more logins, its sessions end (the audit log keeps its past)"),
                       ("enable", "allow a disabled account again"),
                       ("password", "set a new password (stdin or a prompt); the account's sessions end")):
        x = ag.add_parser(name, help=what)
        x.add_argument("username")
        _db_arg(x)
        x.set_defaults(func=_accounts_change, accounts_action=name)
    sk = ag.add_parser("set-key", help="register a province admin's flow-signing key (a key inside a PKCS#11 token)",
                       description="Records which PKCS#11 token and key an admin signs flow bundles with in the console "
                                   "(issue 20, four eyes). The public key is read from the token ([central] pkcs11_lib; "
                                   "SoftHSM2 reads SOFTHSM2_CONF); no PIN is asked: the admin types it in the console "
                                   "each time they sign. Add the printed public key to [flows] trusted_keys of central and kiosks.")
    sk.add_argument("username")
    sk.add_argument("--token", required=True, metavar="LABEL", help="the token's label")
    sk.add_argument("--key-label", default="flows", metavar="LABEL", help="the key's label in the token (default: flows)")
    _db_arg(sk)
    sk.set_defaults(func=_accounts_set_key)
    a.set_defaults(func=lambda args: (a.print_help(), 2)[1])

    c = g.add_parser("counters", help="the centre's counters (desks that call queue numbers): add, list, remove",
                     description="Counters of a centre's queue (central/queue.py). Officers pick one on the console "
                                 "(/console/) and call the next number from it. A counter with no --services calls every "
                                 "service; otherwise only those (the kiosk's ticket-screen keys, e.g. ho-tich,dat-dai).")
    cg = c.add_subparsers(dest="counters_command", metavar="ACTION")
    ca = cg.add_parser("add", help="add a counter (or change its name and services)")
    ca.add_argument("--commune", required=True, metavar="CODE", help="the centre: its 5-digit commune code")
    ca.add_argument("--counter", required=True, help="the counter's number or short id (1-16 of A-Z a-z 0-9 - _)")
    ca.add_argument("--name", default="", help="what the display and the console call it (default: \"Quầy N\")")
    ca.add_argument("--services", default="", help="comma-separated service keys it calls (default: all)")
    _db_arg(ca)
    ca.set_defaults(func=_counters_add)
    cl = cg.add_parser("list", help="list a centre's counters")
    cl.add_argument("--commune", required=True, metavar="CODE")
    _db_arg(cl)
    cl.set_defaults(func=_counters_list)
    cr = cg.add_parser("remove", help="take a counter out (its past calls stay)")
    cr.add_argument("--commune", required=True, metavar="CODE")
    cr.add_argument("--counter", required=True)
    _db_arg(cr)
    cr.set_defaults(func=_counters_remove)
    c.set_defaults(func=lambda args: (c.print_help(), 2)[1])

    o = g.add_parser("openapi", help="print the OpenAPI document the app generates (or --write it to central/openapi.json)")
    o.add_argument("--write", action="store_true", help="overwrite central/openapi.json")
    o.set_defaults(func=_openapi)


def _db_arg(p) -> None:
    p.add_argument("--database", metavar="URL_OR_PATH",
                   help="SQLite file or postgresql:// URL (default: [central].database of the configuration)")


def _open(args):
    from central.server import open_from_config
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    return open_from_config(cfg, database=args.database or cfg["central"]["database"]), cfg


def _serve(args) -> int:
    from central.server import TLSOptions, serve
    from kiosk.logs import setup_logging

    central, cfg = _open(args)
    setup_logging(cfg["logging"]["level"])
    if not args.no_register:
        from kiosk.deployment import uses_demo_secret

        k = cfg["kiosk"]
        if uses_demo_secret(cfg):
            # a secret printed in the repository would let anyone file dossiers as this kiosk:
            # only the simulated demo's embedded central (kiosk run --embedded-central) uses it
            print(f"kiosk central serve: kiosk {k['id']} not registered: its secret is the public demo secret of "
                  "config/kiosk.toml; give it its own ([central] kiosk_secret) or use `kiosk central register-kiosk`",
                  file=sys.stderr)
        else:
            central.ensure_kiosk(k["id"], k["province_code"], k["commune_code"], cfg["central"]["kiosk_secret"])
    if bool(args.tls_cert) != bool(args.tls_key):
        print("kiosk central serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    if args.client_ca and not args.tls_cert:
        print("kiosk central serve: --client-ca needs --tls-cert/--tls-key (mutual TLS runs over HTTPS)", file=sys.stderr)
        return 2
    tls = TLSOptions(args.tls_cert, args.tls_key, args.client_ca) if args.tls_cert else None
    serve(central, host=args.host, port=args.port, tls=tls, workers=max(1, args.workers))
    return 0


def _register(args) -> int:
    import re

    if not re.fullmatch(r"[A-Za-z0-9._-]{3,64}", args.kiosk_id) or not re.fullmatch(r"\d{2}", args.province) \
            or (args.commune and not re.fullmatch(r"\d{5}", args.commune)):
        print("kiosk central register-kiosk: KIOSK_ID is 3–64 letters/digits/._-, --province 2 digits, --commune 5 digits",
              file=sys.stderr)
        return 2
    central, _ = _open(args)
    print(central.register_kiosk(args.kiosk_id, args.province, args.commune))
    return 0


def _set_status(args) -> int:
    from central.service import CentralError

    central, _ = _open(args)
    try:
        print(json.dumps(central.set_status(args.code, args.status, args.note, by="cli"), ensure_ascii=False))
    except CentralError as exc:
        print(f"kiosk central set-status: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    return 0


def _kiosks(args) -> int:
    central, _ = _open(args)
    print(json.dumps(central.list_kiosks(), ensure_ascii=False, indent=2))
    return 0


def _help_calls(args) -> int:
    import re

    if args.commune and not re.fullmatch(r"\d{5}", args.commune):
        print("kiosk central help-calls: --commune is a 5-digit commune code / mã xã, phường gồm 5 chữ số", file=sys.stderr)
        return 2
    central, _ = _open(args)
    try:
        if args.ack is not None:  # an empty ID is refused, not taken for "list"
            return _ack_help_call(central, args)
        calls = central.list_help_calls(commune_code=args.commune, state=args.state)
    finally:
        central.close()
    if args.json:
        print(json.dumps({"result": "ok", "calls": calls}, ensure_ascii=False, indent=2))
        return 0
    if not calls:
        print("Không có yêu cầu gọi cán bộ nào. / No help calls." if args.state == "open"
              else f"No help calls in state {args.state}.")
        return 0
    print(f"{'ID':8}  {'KIOSK':22}  {'WAITING':>8}  {'STATE':12}  LANG  WHERE")
    for c in calls:
        where = " · ".join(p for p in (c["flow_id"], c["step_title"] or c["step_id"], c["screen"]) if p)
        print(f"{c['uuid'][:8]:8}  {c['kiosk_id'][:22]:22}  {_duration(c['waiting_s']):>8}  {c['state']:12}  "
              f"{c['language']:4}  {where}")
    return 0


def _ack_help_call(central, args) -> int:
    from central.service import CentralError

    matches = central.help_call_uuids(args.ack.strip().lower())
    if len(matches) != 1:
        why = "no help call has this ID / không có yêu cầu nào có mã này" if not matches else \
            "several calls start with this ID: give more characters / nhiều yêu cầu có mã bắt đầu như vậy, hãy gõ thêm ký tự"
        print(f"kiosk central help-calls --ack: {why}", file=sys.stderr)
        return 1
    by = args.by.strip() or _login_name()
    from central import help_confirm

    try:
        answer = central.acknowledge_help_call(matches[0], by)
        code = help_confirm.issue_code(central.engine, matches[0], by)
    except CentralError as exc:
        print(f"kiosk central help-calls --ack: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**answer, "confirm_code": code["code"], "confirm_expires_at": code["expires_at"]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"acknowledged {answer['uuid'][:8]} ({answer['kiosk_id']}) by {answer['acknowledged_by']}: "
              "the kiosk shows \"Cán bộ đang đến\" at its next look, within seconds")
        print(f"confirmation code {code['code']} (until {code['expires_at'][11:16]}): if the kiosk asks for the "
              "officer's code (face check), type it there / mã xác nhận: nhập trên ki-ốt nếu ki-ốt hỏi")
    return 0


def _login_name() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (a container)
        return "cli"


def _duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _openapi(args) -> int:
    import tempfile

    from central.app import OPENAPI_PATH, create_app, openapi_text
    from central.service import Central

    with tempfile.TemporaryDirectory() as tmp:
        central = Central.open(f"{tmp}/schema.sqlite3")
        text = openapi_text(create_app(central))
        central.engine.dispose()
    if args.write:
        OPENAPI_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {OPENAPI_PATH}")
    else:
        sys.stdout.write(text)
    return 0


# --- accounts of the officers' console ------------------------------------------------------------
def _read_password() -> str | None:
    """One line from standard input, or asked twice at a terminal (never an argument: it would stay
    in the shell history and the process list)."""
    import getpass

    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n") or None
    first = getpass.getpass("Mật khẩu / Password: ")
    if first != getpass.getpass("Nhập lại / Again: "):
        print("kiosk central accounts: the two passwords differ / hai lần nhập không giống nhau", file=sys.stderr)
        return None
    return first


def _accounts(args):
    from central.console.accounts import Accounts

    central, _ = _open(args)
    return central, Accounts(central)


def _accounts_add(args) -> int:
    from central.service import CentralError

    password = _read_password()
    if not password:
        print("kiosk central accounts add: no password given (stdin or prompt) / chưa có mật khẩu", file=sys.stderr)
        return 2
    central, accounts = _accounts(args)
    try:
        acc = accounts.add(args.username, password, args.role, args.commune, args.name, province_code=args.province)
    except CentralError as exc:
        print(f"kiosk central accounts add: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    finally:
        central.close()
    where = f"province {acc['province_code']}" if acc["role"] == "admin" else f"centre {acc['commune_code']}"
    print(f"added {acc['username']} ({acc['role']}, {where})")
    return 0


def _accounts_list(args) -> int:
    central, accounts = _accounts(args)
    try:
        rows = accounts.list(args.commune)
    finally:
        central.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("Chưa có tài khoản nào. / No accounts.")
        return 0
    print(f"{'USERNAME':20}  {'ROLE':10}  CENTRE  STATE              NAME")
    for r in rows:
        state = "disabled" if r["disabled"] else (f"locked→{r['locked_until'][11:16]}" if r["locked_until"] else "ok")
        where = f"P{r['province_code']}" if r["role"] == "admin" else r["commune_code"]
        print(f"{r['username'][:20]:20}  {r['role']:10}  {where:6}  {state:17}  {r['display_name']}")
    return 0


def _accounts_change(args) -> int:
    from central.service import CentralError

    action = args.accounts_action
    password = _read_password() if action == "password" else None
    if action == "password" and not password:
        print("kiosk central accounts password: no password given / chưa có mật khẩu", file=sys.stderr)
        return 2
    central, accounts = _accounts(args)
    try:
        if action == "password":
            accounts.set_password(args.username, password)
        else:
            getattr(accounts, action)(args.username)
    except CentralError as exc:
        print(f"kiosk central accounts {action}: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    finally:
        central.close()
    print(f"{action}: {args.username}")
    return 0


def _accounts_set_key(args) -> int:
    from central.drafts import set_signing_key
    from central.service import CentralError
    from flows.bundles import key_id

    central, _ = _open(args)
    try:
        pub = set_signing_key(central, args.username, args.token, args.key_label)
    except CentralError as exc:
        print(f"kiosk central accounts set-key: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    finally:
        central.close()
    trusted = "" if pub in central.trusted_keys else (" — NOT yet in [flows] trusted_keys: add it there (central and kiosks) / "
                                                      "chưa nằm trong [flows] trusted_keys")
    print(f"{args.username}: key {key_id(pub)} in token {args.token!r}{trusted}\npublic key: {pub}")
    return 0


# --- the centre's counters -------------------------------------------------------------------------
def _counters_add(args) -> int:
    from central.queue import Queue
    from central.service import CentralError

    services = [x.strip() for x in args.services.split(",") if x.strip()]
    central, _ = _open(args)
    try:
        Queue(central).add_counter(args.commune, args.counter, args.name.strip() or f"Quầy {args.counter}", services)
    except CentralError as exc:
        print(f"kiosk central counters add: {exc.message_en} / {exc.message_vi}", file=sys.stderr)
        return 1
    finally:
        central.close()
    print(f"counter {args.counter} of centre {args.commune}: {', '.join(services) or 'every service'}")
    return 0


def _counters_list(args) -> int:
    from central.queue import Queue

    central, _ = _open(args)
    try:
        rows = Queue(central).counters(args.commune)
    finally:
        central.close()
    if not rows:
        print("Trung tâm chưa có quầy nào. / No counters.")
    for r in rows:
        print(f"{r['counter']:6}  {r['name']:20}  {', '.join(r['services']) or '(every service)'}")
    return 0


def _counters_remove(args) -> int:
    from central.queue import Queue

    central, _ = _open(args)
    try:
        gone = Queue(central).remove_counter(args.commune, args.counter)
    finally:
        central.close()
    if not gone:
        print("kiosk central counters remove: no such counter / không có quầy này", file=sys.stderr)
        return 1
    print(f"removed counter {args.counter} of centre {args.commune}")
    return 0
