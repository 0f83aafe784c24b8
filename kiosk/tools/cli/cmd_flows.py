"""`kiosk flows`: author, check, preview, bundle, sign and publish procedure flows; on a kiosk,
show, install and roll back flow bundles. See docs/flows.md."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

EPILOG = """Typical admin round:
  kiosk flows validate flows/definitions
  kiosk flows preview khai-sinh --out /tmp/preview
  kiosk flows keygen --out admin.key          (once; put the printed public key in [flows].trusted_keys)
  kiosk flows bundle --out flows.zip
  kiosk flows sign flows.zip --key admin.key
  kiosk flows publish flows.zip --central https://central.example --token …

Four eyes with keys in PKCS#11 tokens (SoftHSM2, an HSM or a smart card; the PIN is asked each time):
  kiosk flows keygen --pkcs11 --token admin-lan --key-label flows     (once per admin; prints the public key)
  kiosk flows sign flows.zip --pkcs11 --token admin-lan --key-label flows --as "Nguyễn Thị Lan" --role submitted_by
  kiosk flows sign flows.zip --pkcs11 --token admin-minh --key-label flows --as "Trần Văn Minh" --role approved_by
  kiosk flows verify flows.zip                 (honours [flows].min_signatures)"""

PKCS11_HELP = "PKCS#11 library of the token (default: SoftHSM2's {lib})"


def register(sub) -> None:
    import argparse

    p = sub.add_parser("flows", help="validate, preview, bundle, sign and publish procedure flows; kiosk bundle status",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(group_parser=p)
    g = p.add_subparsers(dest="flows_command", metavar="ACTION")

    v = g.add_parser("validate", help="check flow files; exit 0 when all pass, 1 otherwise",
                     description="Check flow files (YAML) against the schema and every rule the kiosk enforces. "
                                 "Each problem is printed as FILE:LINE: PATH: MESSAGE. A folder is searched for "
                                 "*.yaml / *.yml. Exit code 0: all passed; 1: at least one file refused.")
    v.add_argument("paths", nargs="+", metavar="PATH", help="flow file or folder")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(func=_validate)

    pr = g.add_parser("preview", help="render each step of a flow as the kiosk shows it (PNG) and as text",
                      description="Render every step of FLOW (an id from the flows folder, or a .yaml path): a PNG "
                                  "screenshot per step taken by walking the real kiosk screens headless on simulated "
                                  "devices (NN-<flow>-<step>.png; NN-<flow>-<step>-<lang>-<theme>.png with --lang both or --theme both), and a text file NN-<step>.txt with titles, texts, "
                                  "fields with their rules, documents and help media; plus walk.txt, a sample walk "
                                  "to the dossier with generated answers.")
    pr.add_argument("--text-only", action="store_true", help="only the text renderings (no Kivy window)")
    pr.add_argument("flow", metavar="FLOW", help="flow id (looked up in --flows-dir) or path to a flow file")
    pr.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    pr.add_argument("--flows-dir", metavar="DIR", help="where to look up a flow id (default: [paths].flows_dir)")
    pr.add_argument("--lang", choices=["vi", "en", "both"], default="vi",
                    help="the screens' language (default vi); with more than one language or theme the PNG names "
                         "end in -<lang>-<theme> (NN-<flow>-<step>-vi-normal.png); one Kivy process walks them all")
    pr.add_argument("--theme", choices=["normal", "high_contrast", "both"], default="normal",
                    help="the screens' colours: normal (default), high_contrast or both")
    pr.set_defaults(func=_preview)

    b = g.add_parser("bundle", help="build an unsigned bundle (zip) of flows and their help media",
                     description="Validate the flows and pack them, with the help media that exist, into a bundle "
                                 "zip with a manifest of sha256 sums. Sign it next with `kiosk flows sign`.")
    b.add_argument("paths", nargs="*", metavar="PATH", help="flow files or folders (default: [paths].flows_dir)")
    b.add_argument("--media", metavar="DIR", help="the media folder (default: [paths].media_dir)")
    b.add_argument("--out", required=True, metavar="FILE", help="bundle file to write")
    b.set_defaults(func=_bundle)

    s = g.add_parser("sign", help="add an Ed25519 signature to a bundle (a key file, or a key in a PKCS#11 token)",
                     description="Add one signature to BUNDLE's signatures.json (or write it to --out), keeping the "
                                 "signatures already there: it covers the manifest and the signer's name, role and "
                                 "time. With --pkcs11 the key stays in the token: its PIN is read from standard input "
                                 "(a prompt on a terminal) at that moment, never from an argument. A kiosk accepts the "
                                 "bundle once [flows].min_signatures different trusted keys have signed it.")
    s.add_argument("bundle", metavar="BUNDLE")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--key", metavar="KEYFILE", help="PEM private key made by `kiosk flows keygen --out` (automation, tests)")
    _pkcs11_args(s, src)
    s.add_argument("--as", dest="signer", default="", metavar="NAME", help="the signer's name, as the audit shows it "
                   "(required with --pkcs11)")
    s.add_argument("--role", default="signed_by", choices=["submitted_by", "approved_by", "signed_by"],
                   help="submitted_by (the admin who prepared it), approved_by (the second admin) or signed_by")
    s.add_argument("--out", metavar="FILE", help="write the signed bundle here instead of in place")
    s.set_defaults(func=_sign)

    k = g.add_parser("keygen", help="create an Ed25519 signing key (a file, or inside a PKCS#11 token); print its public key",
                     description="Write a new private key (PEM, mode 0600) to --out, or with --pkcs11 make the key "
                                 "INSIDE the token (sensitive, never extractable; PIN from standard input), and print "
                                 "the public key (base64) to add to [flows].trusted_keys on kiosks and on the central "
                                 "system. Never overwrites.")
    dest = k.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", metavar="KEYFILE")
    _pkcs11_args(k, dest)
    k.set_defaults(func=_keygen)

    pk = g.add_parser("pubkey", help="print a signing key's public key in the [flows].trusted_keys form",
                      description="Print the base64 public key of a key file (--key) or of a token's key (--pkcs11; "
                                  "no PIN needed) and, on standard error, its key id.")
    src = pk.add_mutually_exclusive_group(required=True)
    src.add_argument("--key", metavar="KEYFILE")
    _pkcs11_args(pk, src)
    pk.set_defaults(func=_pubkey)

    vb = g.add_parser("verify", help="verify a signed bundle against the trusted keys",
                      description="Run the same check a kiosk runs. Exit 0 when the bundle is accepted.")
    vb.add_argument("bundle", metavar="BUNDLE")
    vb.add_argument("--trusted-key", action="append", metavar="B64",
                    help="trusted public key (repeatable; default: [flows].trusted_keys)")
    vb.add_argument("--min-signatures", type=int, metavar="N",
                    help="distinct trusted keys that must have signed (default: [flows].min_signatures)")
    vb.set_defaults(func=_verify)

    pu = g.add_parser("publish", help="upload a signed bundle to the central system",
                      description="POST the bundle to CENTRAL/api/v1/flows/bundles with the admin token. The central "
                                  "system verifies it against its own trusted keys; kiosks pick it up from there.")
    pu.add_argument("bundle", metavar="BUNDLE")
    pu.add_argument("--central", metavar="URL", help="central system URL (default: [central].url)")
    pu.add_argument("--token", metavar="TOKEN",
                    help="admin bearer token (default: $KIOSK_ADMIN_TOKEN, then [central].admin_token)")
    pu.set_defaults(func=_publish)

    st = g.add_parser("status", help="on a kiosk: the current, previous and pending bundles (JSON)")
    st.set_defaults(func=_status)

    rb = g.add_parser("rollback", help="on a kiosk: go back to the previous bundle",
                      description="Make the previous bundle current again. The kiosk picks the change up between "
                                  "citizen sessions; the rolled-back bundle is not fetched again automatically.")
    rb.set_defaults(func=_rollback)

    sg = g.add_parser("stage", help="on a kiosk: verify and stage a bundle file (e.g. from a USB stick)")
    sg.add_argument("bundle", metavar="BUNDLE")
    sg.add_argument("--force", action="store_true", help="also accept a bundle rolled back here before")
    sg.set_defaults(func=_stage)

    ac = g.add_parser("activate", help="on a kiosk: make the staged bundle current now (the kiosk app does this between sessions)")
    ac.set_defaults(func=_activate)

    fe = g.add_parser("fetch", help="on a kiosk: fetch the central system's current bundle and stage it")
    fe.add_argument("--central", metavar="URL", help="central system URL (default: [central].url)")
    fe.set_defaults(func=_fetch)

    from kiosk.tools.media_gen import add_parser as add_media_parser

    add_media_parser(g)  # `kiosk flows media`: generated help clips per step (kiosk/tools/media_gen.py)


def _err(msg: str) -> int:
    print(f"kiosk flows: {msg}", file=sys.stderr)
    return 1


def _both(exc) -> str:
    """A refusal in both languages: Vietnamese first (the admin's), then English."""
    vi, en = getattr(exc, "message_vi", ""), getattr(exc, "message_en", "") or str(exc)
    return f"{vi}\n  {en}" if vi and vi != en else en


def _pkcs11_args(p, group) -> None:
    from common.pkcs11_signer import DEFAULT_LIB

    group.add_argument("--pkcs11", nargs="?", const=DEFAULT_LIB, metavar="LIB", help=PKCS11_HELP.format(lib=DEFAULT_LIB))
    p.add_argument("--token", metavar="LABEL", help="with --pkcs11: the token's label (softhsm2-util --show-slots)")
    p.add_argument("--key-label", metavar="LABEL", help="with --pkcs11: the key's label in the token")


def _token_args(args) -> str | None:
    """Why the --pkcs11 options are incomplete, or None."""
    if args.pkcs11 and not (args.token and args.key_label):
        return "--pkcs11 needs --token LABEL and --key-label LABEL"
    return None


def _read_pin(token: str) -> str:
    """The token's PIN, read now: a hidden prompt on a terminal, else one line of standard input.
    Never an argument (it would show in `ps` and the shell history), never stored."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"PIN của thẻ khóa / PIN of token {token!r}: ")
    return sys.stdin.readline().rstrip("\r\n")


def _store(args):
    from flows.bundles import BundleStore
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    return BundleStore(cfg["flows"]["bundle_dir"], cfg["flows"]["trusted_keys"], cfg["flows"]["min_signatures"])


def _validate(args) -> int:
    from flows.errors import FlowLoadError, Problem
    from flows.loader import flow_files, load_flow

    results, ids = [], {}
    for path in args.paths:
        if not Path(path).exists():
            results.append((path, None, [Problem(path, "no such file or folder")]))
            continue
        files = flow_files(path)
        if not files:
            results.append((path, None, [Problem(path, "no *.yaml flow files here")]))
        for f in files:
            try:
                flow = load_flow(f)
            except FlowLoadError as exc:
                results.append((str(f), None, exc.problems))
                continue
            if flow.id in ids:
                results.append((str(f), None, [Problem(str(f), f"flow id '{flow.id}' is also defined in {ids[flow.id]}")]))
                continue
            ids[flow.id] = str(f)
            results.append((str(f), flow, []))
    bad = [r for r in results if r[2]]
    if args.json:
        print(json.dumps([{"file": f, "ok": not p, "id": flow.id if flow else None,
                           "problems": [{"line": x.line, "path": x.path, "message": x.message} for x in p]}
                          for f, flow, p in results], ensure_ascii=False, indent=1))
    else:
        for f, flow, problems in results:
            if problems:
                for x in problems:
                    print(str(x))
            else:
                print(f"ok   {f}: {flow.id} v{flow.version} ({flow.procedure_code}, {len(flow.steps)} steps)")
        print(f"{len(results) - len(bad)} passed, {len(bad)} refused")
    return 1 if bad else 0


def _resolve_flow(args):
    from flows.loader import load_flow
    from flows.registry import load_registry
    from kiosk.tools.cli import config_from

    p = Path(args.flow)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        return load_flow(p)
    folder = args.flows_dir or config_from(args)["paths"]["flows_dir"]
    reg = load_registry(folder)
    flow = reg.get(args.flow)
    if flow is None:
        known = ", ".join(f.id for f in reg.flows)
        raise LookupError(f"no flow '{args.flow}' in {folder} (known: {known})")
    return flow


def _preview(args) -> int:
    from flows.errors import FlowLoadError
    from flows.preview import render_steps, render_walk

    try:
        flow = _resolve_flow(args)
    except (FlowLoadError, LookupError) as exc:
        return _err(str(exc))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_steps(flow):
        (out / name).write_text(text, encoding="utf-8")
        written.append(name)
    (out / "walk.txt").write_text(render_walk(flow), encoding="utf-8")
    print(f"wrote {len(written)} step files and walk.txt to {out}")
    if args.text_only:
        return 0
    langs = ("vi", "en") if args.lang == "both" else (args.lang,)
    themes = ("normal", "high_contrast") if args.theme == "both" else (args.theme,)
    shots, problems = _preview_pngs(flow, out, langs, themes)
    print(f"wrote {len(shots)} screen PNGs to {out}")
    for p in problems:
        print(f"kiosk flows preview: {p}")
    return 1 if problems else 0


def _preview_pngs(flow, out: Path, langs=("vi",), themes=("normal",)):
    """Walk the real screens for this one flow (its own flows folder, a throwaway data folder),
    once per language and theme, in one app: each walk starts at home, where the language and the
    contrast are switched through the app's own toggles (a new visit starts in [kiosk].language
    and normal contrast). With more than one walk each PNG's name ends in -<lang>-<theme>."""
    import shutil
    import tempfile

    from kiosk.ui.display import prepare_kivy_env

    with tempfile.TemporaryDirectory(prefix="kiosk-preview-") as tmp:
        tmp = Path(tmp)
        flows_dir = tmp / "flows"
        flows_dir.mkdir()
        shutil.copy(flow.path, flows_dir / Path(flow.path).name)
        prepare_kivy_env(tmp / "kivy", want_xvfb=False)
        from kiosk.tools.demo import demo_config, running_app
        from kiosk.tools.touch_robot import Driver
        from kiosk.tools.media_gen import capture_flow

        problems: list[str] = []
        shots: list = []
        tagged = len(langs) * len(themes) > 1
        with running_app(demo_config(tmp / "kiosk", flows_dir=flows_dir)) as app:
            for lang in langs:
                for theme in themes:
                    d = Driver(app, out)  # numbering from 01 in every walk: NN is the step's place
                    if d.screen != "home":
                        app.end_session()
                        d.wait_screen("home")
                    if app.lang != lang:
                        app.toggle_language()
                    if bool(app.session.high_contrast) != (theme == "high_contrast"):
                        app.toggle_contrast()
                    d.pump(4)
                    walk_problems: list[str] = []
                    walked = capture_flow(d, flow.id, walk_problems)
                    problems += [f"{lang}/{theme}: {p}" for p in walk_problems] if tagged else walk_problems
                    for shot in walked.values():
                        if tagged:
                            target = shot.png.with_name(f"{shot.png.stem}-{lang}-{theme}.png")
                            shot.png.replace(target)
                            shot.png = target
                        shots.append(shot)
        return shots, problems


def _bundle(args) -> int:
    from flows.bundles import BundleError, build_bundle
    from flows.loader import flow_files
    from kiosk.tools.cli import config_from

    cfg = None
    paths = args.paths
    if not paths:
        cfg = config_from(args)
        paths = [cfg["paths"]["flows_dir"]]
    media = args.media
    if media is None:
        cfg = cfg or config_from(args)
        media = cfg["paths"]["media_dir"] or None
    files = [f for p in paths for f in flow_files(p)]
    try:
        data = build_bundle(files, media)
    except BundleError as exc:
        return _err(str(exc))
    Path(args.out).write_bytes(data)
    from flows.bundles import _read_entries  # noqa: PLC0415 — read back what was written

    manifest = json.loads(_read_entries(data)["manifest.json"])
    print(f"wrote {args.out}: bundle {manifest['bundle_id']}, {len(manifest['flows'])} flows, "
          f"{len(manifest['media'])} media files (unsigned: run `kiosk flows sign`)")
    return 0


def _sign(args) -> int:
    from common.errors import BilingualError
    from flows.bundles import add_signature, key_id, load_private_key, sign

    problem = _token_args(args)
    if problem is None and args.pkcs11 and not args.signer.strip():
        problem = "--pkcs11 needs --as NAME: the admin's name goes into the signed metadata and the audit"
    if problem:
        return _err(problem)
    try:
        data = Path(args.bundle).read_bytes()
        if args.key:
            key = load_private_key(args.key)
            data = sign(data, key, name=args.signer, role=args.role)
            from cryptography.hazmat.primitives import serialization

            kid = key_id(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        else:
            from common.pkcs11_signer import open_key

            pin = _read_pin(args.token)
            with open_key(args.pkcs11, args.token, args.key_label, pin) as token_key:
                del pin
                data = add_signature(data, token_key.public_key, token_key.sign, name=args.signer, role=args.role)
                kid = token_key.key_id
    except BilingualError as exc:
        return _err(_both(exc))
    except OSError as exc:
        return _err(str(exc))
    out = Path(args.out or args.bundle)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    from flows.bundles import signatures_of

    names = ", ".join(f"{s.get('name') or '?'} ({s.get('role') or 'manifest.sig'}, {s.get('key_id')})"
                      for s in signatures_of(data))
    print(f"signed {out} with key {kid}; its signatures now: {names}")
    return 0


def _keygen(args) -> int:
    from flows.bundles import generate_key, key_id

    if args.pkcs11:
        import base64

        from common.pkcs11_signer import TokenError, generate_key_pair

        problem = _token_args(args)
        if problem:
            return _err(problem)
        try:
            raw = generate_key_pair(args.pkcs11, args.token, args.key_label, _read_pin(args.token))
        except TokenError as exc:
            return _err(_both(exc))
        print(base64.b64encode(raw).decode())
        print(f"key {key_id(raw)} made inside token {args.token!r} (it cannot be exported); add the line above to "
              "[flows].trusted_keys", file=sys.stderr)
        return 0
    out = Path(args.out)
    if out.exists():
        return _err(f"{out} exists; refusing to overwrite a key")
    pem, pub = generate_key()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    print(pub)
    print(f"private key written to {out} (keep it offline); add the line above to [flows].trusted_keys", file=sys.stderr)
    return 0


def _pubkey(args) -> int:
    from common.errors import BilingualError
    from flows.bundles import key_id, load_private_key, public_key_b64

    try:
        if args.key:
            pub = public_key_b64(load_private_key(args.key))
        else:
            from common.pkcs11_signer import public_key_b64 as token_public_key

            problem = _token_args(args)
            if problem:
                return _err(problem)
            pub = token_public_key(args.pkcs11, args.token, args.key_label)
    except BilingualError as exc:
        return _err(_both(exc))
    print(pub)
    print(f"key id {key_id(pub)}", file=sys.stderr)
    return 0


def _verify(args) -> int:
    from flows.bundles import BundleError, verify_bundle
    from kiosk.tools.cli import config_from

    cfg = None if args.trusted_key and args.min_signatures else config_from(args)
    keys = args.trusted_key or cfg["flows"]["trusted_keys"]
    need = args.min_signatures or cfg["flows"]["min_signatures"]
    try:
        info = verify_bundle(Path(args.bundle).read_bytes(), keys, min_signatures=need)
    except BundleError as exc:
        return _err(f"refused / từ chối: {_both(exc)}")
    except (OSError, ValueError) as exc:
        return _err(f"refused: {exc}")
    print(json.dumps(info.as_dict(), ensure_ascii=False, indent=1))
    return 0


def _publish(args) -> int:
    import requests

    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    url = (args.central or cfg["central"]["url"]).rstrip("/")
    token = args.token or os.environ.get("KIOSK_ADMIN_TOKEN") or cfg["central"].get("admin_token", "")
    if not token:
        return _err("no admin token: give --token, set KIOSK_ADMIN_TOKEN or [central].admin_token")
    try:
        data = Path(args.bundle).read_bytes()
    except OSError as exc:
        return _err(str(exc))
    verify = cfg["central"].get("ca_file") or True
    try:
        r = requests.post(f"{url}/api/v1/flows/bundles", data=data, timeout=60, verify=verify,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"})
    except requests.RequestException as exc:
        return _err(f"cannot reach {url}: {exc.__class__.__name__}")
    try:
        body = r.json()
    except ValueError:
        body = {"result": None, "status": r.status_code}
    print(json.dumps(body, ensure_ascii=False, indent=1))
    return 0 if r.status_code in (200, 201) and body.get("result") in ("created", "already") else 1


def _status(args) -> int:
    from flows.bundles import BundleError

    try:
        print(json.dumps(_store(args).status(), ensure_ascii=False, indent=1))
    except BundleError as exc:
        return _err(str(exc))
    return 0


def _rollback(args) -> int:
    from flows.bundles import BundleError

    try:
        info = _store(args).rollback()
    except BundleError as exc:
        return _err(str(exc))
    print(f"rolled back: bundle {info.bundle_id} is current again")
    return 0


def _stage(args) -> int:
    from flows.bundles import BundleError

    try:
        info = _store(args).stage(Path(args.bundle).read_bytes(), force=args.force)
    except (BundleError, OSError) as exc:
        return _err(f"refused: {exc}")
    print(f"staged bundle {info.bundle_id} ({len(info.flows)} flows); it becomes current between citizen sessions")
    return 0


def _activate(args) -> int:
    from flows.bundles import BundleError

    try:
        info = _store(args).activate_pending()
    except BundleError as exc:
        return _err(str(exc))
    print("nothing staged" if info is None else f"bundle {info.bundle_id} is current")
    return 0


def _fetch(args) -> int:
    from flows.bundles import BundleError
    from flows.update import fetch_and_stage
    from kiosk.client import CentralClient, CentralClientError
    from kiosk.tools.cli import config_from

    cfg = config_from(args)
    client = CentralClient.from_config(cfg)  # the kiosk's credentials, CA and client certificate (mutual TLS)
    if args.central:
        client.url = args.central.rstrip("/")
    try:
        info = fetch_and_stage(client, _store(args))
    except BundleError as exc:
        return _err(f"refused: {exc}")
    except CentralClientError as exc:
        return _err(f"cannot fetch from {client.url}: {exc}")
    finally:
        client.close()
    print("nothing new" if info is None else f"staged bundle {info.bundle_id}")
    return 0
