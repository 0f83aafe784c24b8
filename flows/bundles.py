"""Signed flow bundles: build, sign (Ed25519, several signers), verify, and the kiosk-side store.

A bundle is a zip (docs/architecture.md, "Flow bundle"): ``manifest.json``, ``signatures.json``
(one entry per signer: key id, name, role, time, Ed25519 signature; see :func:`signed_message`),
``flows/<id>.yaml`` and ``media/…``. Bundles of the first format carry ``manifest.sig`` instead
(base64 Ed25519 signature of the exact manifest bytes, no signer named); they are still read, and
count as one signature. :func:`verify_bundle` is the one check used by the admin CLI, the central
system and the kiosk: valid signatures by at least ``min_signatures`` distinct trusted keys (four
eyes: ``[flows].min_signatures = 2``), every file listed with its sha256, nothing unlisted, every
flow valid (the full loader), no path tricks, no zip bombs.

Each signature covers the manifest's sha256 AND its own signer's key id, name, role and time, so
nobody can relabel who submitted or approved a bundle without breaking that signer's signature.
The signed message is short (under 300 bytes) on purpose: a smart card or an HSM signs it in one
command. The private key may live in a PKCS#11 token (:mod:`common.pkcs11_signer`): signing only
needs a ``sign(message) -> bytes`` callable and the raw public key (:func:`add_signature`).

:class:`BundleStore` keeps bundles on a kiosk: ``stage()`` verifies and unpacks a bundle next to
the running one, ``activate_pending()`` switches to it with one atomic rename of ``state.json``
(the kiosk calls it between citizen sessions; a running engine holds its own ``Flow`` object, so
nothing changes under a citizen), ``rollback()`` returns to the previous bundle. (id, version)
is immutable: a flow version seen before with other content is refused, and so is a bundle that
would take any flow back to an older version.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from common import clock
from common.files import write_atomic
from flows.errors import FlowLoadError
from flows.loader import load_flow_bytes
from common.errors import BilingualError

log = logging.getLogger(__name__)

FORMAT = 1
MAX_BUNDLE_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_RATIO = 200  # compressed → uncompressed; more is a zip bomb, not a flow
_BUNDLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed: the same flows make byte-identical bundles
SIGNATURES = "signatures.json"
SIGNATURES_FORMAT = 1
SIG_CONTEXT = b"kiosk-flow-bundle-signature/1\n"  # a signature over a bundle is never valid for anything else
SIGNED_FIELDS = ("key_id", "name", "role", "signed_at")
ROLES = {"submitted_by": "người trình", "approved_by": "người duyệt", "signed_by": "người ký"}
MAX_SIGNATURES = 20
MAX_SIGNATURES_BYTES = 64 * 1024
_SIGNER_NAME = re.compile(r"[^\x00-\x1f\x7f]{0,100}")


class BundleError(BilingualError):
    """A bundle was refused; ``str()`` says why in plain English, ``message_vi`` in Vietnamese
    (by default the English reason after "Gói quy trình bị từ chối:")."""

    def __init__(self, *, en: str | None = None, vi: str | None = None, code: str = "", detail: str = ""):
        super().__init__(en=en, vi=vi or ("Gói quy trình bị từ chối: " + en if en else None), code=code, detail=detail)


@dataclass
class BundleInfo:
    bundle_id: str
    created_at: str
    flows: list[dict]             # [{"id", "version", "sha256", "path"}]
    media: list[dict]             # [{"path", "sha256", "size"}]
    sha256: str                   # of the whole bundle file
    signed_by: str                # the first trusted public key (base64) whose signature is valid
    missing_media: list[str] = field(default_factory=list)  # help media the flows name but the bundle lacks
    path: Path | None = None      # the unpacked bundle on a kiosk (BundleStore), else None
    # the valid signatures of distinct trusted keys: {"key_id", "public_key", "name", "role", "signed_at"}
    signers: list[dict] = field(default_factory=list)
    # signatures that did not count: {"key_id", "name", "reason"} (untrusted, broken, the same key again)
    not_counted: list[dict] = field(default_factory=list)

    def registry(self):
        """The bundle's flows as a FlowRegistry (for a bundle unpacked by :class:`BundleStore`);
        a flow file whose bytes on disk no longer match the signed manifest is refused and
        reported in ``.errors``."""
        from flows.errors import Problem
        from flows.registry import FlowRegistry, load_registry

        if self.path is None:
            return FlowRegistry([], [Problem(self.bundle_id, "this bundle is not unpacked on this kiosk")])
        reg = load_registry(self.path / "flows")
        expected = {f["id"]: f["sha256"] for f in self.flows}
        good = [f for f in reg.flows if expected.get(f.id) == f.sha256]
        errors = reg.errors + [Problem(f.path, "changed on disk after the bundle was verified")
                               for f in reg.flows if f not in good]
        return FlowRegistry(good, errors)

    def as_dict(self) -> dict:
        return {"bundle_id": self.bundle_id, "created_at": self.created_at, "sha256": self.sha256,
                "signed_by": self.signed_by, "signers": self.signers, "not_counted": self.not_counted,
                "flows": self.flows, "media_files": len(self.media), "missing_media": len(self.missing_media)}


# --- keys -----------------------------------------------------------------------------------

def generate_key() -> tuple[bytes, str]:
    """A new Ed25519 key: (private key PEM bytes, public key base64) — the latter goes in
    ``[flows].trusted_keys`` of every kiosk and of the central system."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, public_key_b64(key)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_key: bytes | str) -> str:
    """A public key's short name in bundles, logs and audit: the first 16 hex digits of the sha256
    of the raw 32-byte key (``public_key``: raw bytes or the base64 of ``trusted_keys``)."""
    raw = base64.b64decode(public_key) if isinstance(public_key, str) else public_key
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise BundleError(en=f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(en=f"{path} is not an Ed25519 private key")
    return key


def _public_keys(trusted_keys: Iterable[str]) -> list[tuple[str, Ed25519PublicKey]]:
    out = []
    for k in trusted_keys:
        try:
            raw = base64.b64decode(k.strip(), validate=True)
            out.append((k.strip(), Ed25519PublicKey.from_public_bytes(raw)))
        except (binascii.Error, ValueError):
            raise BundleError(en=f"trusted key {k[:12]!r}… is not a base64 Ed25519 public key (32 bytes)") from None
    return out


# --- build and sign -------------------------------------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries, key=lambda n: (n != "manifest.json", n != "manifest.sig", n != SIGNATURES, n)):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".mp4", ".png", ".jpg")) else zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, entries[name])
    return buf.getvalue()


def _media_file(media_dir: Path, path: str) -> Path:
    # manifest paths start with "media/"; media_dir is that folder itself
    return media_dir / PurePosixPath(path).relative_to("media")


def build_bundle(flow_paths: Iterable[str | Path], media_dir: str | Path | None = None, *,
                 bundle_id: str | None = None, created_at: datetime | None = None) -> bytes:
    """An unsigned bundle of the given flow files plus the help media of theirs that exist under
    ``media_dir``. Every flow is fully validated first; raises :class:`BundleError` listing the
    problems. Sign the result with :func:`sign`."""
    entries: dict[str, bytes] = {}
    flows, media, problems = [], [], []
    seen: dict[str, str] = {}
    for p in flow_paths:
        p = Path(p)
        try:
            data = p.read_bytes()
            flow = load_flow_bytes(data, str(p))
        except OSError as exc:
            problems.append(f"{p}: cannot read: {exc.strerror}")
            continue
        except FlowLoadError as exc:
            problems.extend(str(x) for x in exc.problems)
            continue
        if flow.id in seen:
            problems.append(f"{p}: flow id '{flow.id}' is also in {seen[flow.id]}")
            continue
        seen[flow.id] = str(p)
        path = f"flows/{flow.id}.yaml"
        entries[path] = data
        flows.append({"id": flow.id, "version": flow.version, "sha256": flow.sha256, "path": path})
        if media_dir is not None:
            for m in flow.media_paths():
                f = _media_file(Path(media_dir), m)
                if m not in entries and f.is_file():
                    blob = f.read_bytes()
                    entries[m] = blob
                    media.append({"path": m, "sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)})
    if problems:
        raise BundleError(en="flows refused: " + "; ".join(problems[:20]))
    if not flows:
        raise BundleError(en="no flows to bundle")
    created = (created_at or clock.now_utc()).astimezone(timezone.utc)
    content = hashlib.sha256(json.dumps([flows, media], sort_keys=True).encode()).hexdigest()
    manifest = {
        "format": FORMAT,
        "bundle_id": bundle_id or f"{created:%Y%m%dT%H%M%SZ}-{content[:12]}",
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "flows": sorted(flows, key=lambda f: f["id"]),
        "media": sorted(media, key=lambda m: m["path"]),
    }
    entries["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    return _zip(entries)


def signed_message(manifest: bytes, meta: dict) -> bytes:
    """What one signer signs: a fixed context, then canonical JSON of the manifest's sha256 and
    the signer's own ``key_id``, ``name``, ``role`` and ``signed_at``."""
    body = {"manifest_sha256": hashlib.sha256(manifest).hexdigest(), **{k: meta[k] for k in SIGNED_FIELDS}}
    return SIG_CONTEXT + json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _signer_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not _SIGNER_NAME.fullmatch(name):
        raise BundleError(en="the signer's name must be at most 100 characters without control characters",
                          vi="Tên người ký tối đa 100 ký tự, không có ký tự điều khiển.")
    return name


def _read_signatures(entries: dict[str, bytes]) -> list:
    blob = entries.get(SIGNATURES)
    if blob is None:
        return []
    if len(blob) > MAX_SIGNATURES_BYTES:
        raise BundleError(en=f"{SIGNATURES} is {len(blob)} bytes; at most {MAX_SIGNATURES_BYTES}")
    try:
        doc = json.loads(blob)
    except (ValueError, UnicodeDecodeError, RecursionError):  # read before any signature is checked: hostile
        raise BundleError(en=f"{SIGNATURES} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != SIGNATURES_FORMAT or not isinstance(doc.get("signatures"), list):
        raise BundleError(en=f"{SIGNATURES} must be {{\"format\": {SIGNATURES_FORMAT}, \"signatures\": [...]}}")
    if len(doc["signatures"]) > MAX_SIGNATURES:
        raise BundleError(en=f"{len(doc['signatures'])} signatures; at most {MAX_SIGNATURES}")
    return doc["signatures"]


def add_signature(data: bytes, public_key: bytes, sign_fn, *, name: str = "", role: str = "signed_by",
                  signed_at: datetime | None = None) -> bytes:
    """The bundle with one more signature in ``signatures.json`` (those already there are kept).

    ``public_key``: the signer's raw 32-byte Ed25519 public key; ``sign_fn(message) -> bytes`` makes
    the Ed25519 signature (a key in memory, or a PKCS#11 token that never lets the key out). The
    signature is checked against ``public_key`` before it is written. A key that already signed
    this bundle is refused: a second signature must come from another person's key."""
    if role not in ROLES:
        raise BundleError(en=f"role must be one of {', '.join(ROLES)}, not {role!r}")
    name = _signer_name(name)
    try:
        pub = Ed25519PublicKey.from_public_bytes(bytes(public_key))
    except ValueError:
        raise BundleError(en="the signing key's public key is not a 32-byte Ed25519 key") from None
    entries = _read_entries(data)
    manifest = entries.get("manifest.json")
    if manifest is None:
        raise BundleError(en="not a bundle: manifest.json is missing")
    signatures = _read_signatures(entries)
    kid = key_id(bytes(public_key))
    legacy = entries.get("manifest.sig")
    already = [s for s in signatures if isinstance(s, dict) and s.get("key_id") == kid]
    if legacy is not None and not already:
        with contextlib.suppress(binascii.Error, InvalidSignature):
            pub.verify(base64.b64decode(legacy.strip(), validate=True), manifest)
            already = [{"name": "manifest.sig"}]
    if already:
        raise BundleError(en=f"key {kid} has already signed this bundle (as {already[0].get('name') or 'unnamed'}); "
                             "the next signature must come from another admin's key",
                          vi=f"Khóa {kid} đã ký gói này rồi; chữ ký tiếp theo phải là của một người quản trị khác.",
                          code="already_signed")
    when = (signed_at or clock.now()).astimezone(clock.VN_TZ).isoformat(timespec="seconds")
    meta = {"key_id": kid, "name": name, "role": role, "signed_at": when}
    message = signed_message(manifest, meta)
    signature = bytes(sign_fn(message))
    try:
        pub.verify(signature, message)
    except InvalidSignature:
        raise BundleError(en=f"the signature made with key {kid} does not verify with its public key "
                             "(wrong key or not an Ed25519 key)",
                          vi="Chữ ký vừa tạo không khớp với khóa công khai của khóa ký.", code="bad_signer") from None
    signatures.append({**meta, "public_key": base64.b64encode(bytes(public_key)).decode(), "algorithm": "ed25519",
                       "signature": base64.b64encode(signature).decode()})
    entries[SIGNATURES] = json.dumps({"format": SIGNATURES_FORMAT, "signatures": signatures},
                                     ensure_ascii=False, indent=1).encode("utf-8")
    return _zip(entries)


def sign(data: bytes, key: Ed25519PrivateKey, *, name: str = "", role: str = "signed_by",
         signed_at: datetime | None = None) -> bytes:
    """The bundle with one more signature, made with a private key in memory (a key file:
    automation and tests; admins sign with a token, :mod:`common.pkcs11_signer`)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return add_signature(data, raw, key.sign, name=name, role=role, signed_at=signed_at)


def signatures_of(data: bytes) -> list[dict]:
    """The signatures a bundle carries, as written (nothing verified): for showing who signed."""
    entries = _read_entries(data)
    out = [dict(s) for s in _read_signatures(entries) if isinstance(s, dict)]
    if "manifest.sig" in entries:
        out.insert(0, {"key_id": None, "name": "", "role": "", "signed_at": None, "legacy": True})
    return out


# --- verify ---------------------------------------------------------------------------------

def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return (bool(name) and not name.startswith("/") and "\\" not in name and ":" not in name
            and all(part not in ("", ".", "..") for part in name.split("/")) and str(p) == name)


def _read_entries(data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(en=f"bundle is {len(data)} bytes; at most {MAX_BUNDLE_BYTES}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, RuntimeError, OSError, EOFError) as exc:
        # RuntimeError: zipfile's NotImplementedError for a "version needed" it does not know (one
        # flipped byte in the central directory says 8.5): damage, like any other
        raise BundleError(en=f"not a zip file: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BundleError(en=f"{len(infos)} files in the bundle; at most {MAX_ENTRIES}")
        total = 0
        names = set()
        for i in infos:
            if not _safe_name(i.filename):
                raise BundleError(en=f"unsafe file name in bundle: {i.filename!r}")
            if i.filename in names:
                raise BundleError(en=f"file listed twice in bundle: {i.filename}")
            names.add(i.filename)
            mode = i.external_attr >> 16
            if i.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # no symlinks, devices, folders
                raise BundleError(en=f"not a plain file in bundle: {i.filename}")
            total += i.file_size
            if total > MAX_UNPACKED_BYTES or i.file_size > MAX_RATIO * max(i.compress_size, 1024):
                raise BundleError(en=f"bundle unpacks too large at {i.filename} (zip bomb?)")
        out = {}
        for i in infos:
            try:
                with zf.open(i) as fh:
                    blob = fh.read(i.file_size + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, zlib.error, EOFError) as exc:
                raise BundleError(en=f"cannot read {i.filename} from the bundle: {exc}") from None
            if len(blob) != i.file_size:
                raise BundleError(en=f"{i.filename}: size does not match the zip directory")
            out[i.filename] = blob
        return out


def _who(s: dict) -> str:
    return f"{s.get('name') or '?'} ({s.get('role') or 'manifest.sig'}, key {s.get('key_id')})"


def _who_vi(s: dict) -> str:
    role = ROLES.get(s.get("role") or "", "chữ ký cũ")
    return f"{s.get('name') or 'không tên'} ({role}, khóa {s.get('key_id')})"


_REASON_VI = {"untrusted": "khóa không được tin cậy", "broken": "chữ ký không khớp với nội dung",
              "duplicate": "cùng một khóa ký lần nữa, chỉ tính một lần", "malformed": "chữ ký sai định dạng"}


def check_signatures(entries: dict[str, bytes], trusted_keys: list[str],
                     min_signatures: int = 1) -> tuple[list[dict], list[dict]]:
    """(signers, not_counted) of a bundle's entries, or :class:`BundleError` when fewer than
    ``min_signatures`` distinct trusted keys signed validly. An untrusted, broken or repeated
    signature never counts; it is reported in ``not_counted`` (and in the refusal)."""
    if not isinstance(min_signatures, int) or isinstance(min_signatures, bool) or min_signatures < 1:
        raise ValueError(f"min_signatures must be an integer >= 1, not {min_signatures!r}")
    keys = _public_keys(trusted_keys)
    if not keys:
        raise BundleError(en="no trusted keys configured ([flows].trusted_keys): no bundle can be accepted",
                          vi="Chưa cấu hình khóa tin cậy nên không thể nhận gói quy trình.")
    trusted = {key_id(base64.b64decode(b64)): (b64, key) for b64, key in keys}
    raw = entries.get("manifest.json")
    if raw is None or ("manifest.sig" not in entries and SIGNATURES not in entries):
        raise BundleError(en="not a signed bundle: manifest.json, or both manifest.sig and signatures.json, missing")
    signers: list[dict] = []
    not_counted: list[dict] = []

    def count(kid: str, b64: str, meta: dict) -> None:
        if any(x["key_id"] == kid for x in signers):
            not_counted.append({"key_id": kid, "name": meta.get("name", ""), "reason": "duplicate"})
        else:
            signers.append({"key_id": kid, "public_key": b64, **{k: meta.get(k) for k in ("name", "role", "signed_at")}})

    legacy = entries.get("manifest.sig")
    if legacy is not None:  # the first format: one unnamed signature over the exact manifest bytes
        try:
            signature = base64.b64decode(legacy.strip(), validate=True)
        except binascii.Error:
            raise BundleError(en="manifest.sig is not base64") from None
        for kid, (b64, key) in trusted.items():
            try:
                key.verify(signature, raw)
            except InvalidSignature:
                continue
            count(kid, b64, {"name": "", "role": "", "signed_at": None})
            break
        else:
            not_counted.append({"key_id": None, "name": "manifest.sig", "reason": "untrusted"})
    for s in _read_signatures(entries):
        ok_shape = (isinstance(s, dict) and all(isinstance(s.get(k), str) for k in (*SIGNED_FIELDS, "signature"))
                    and s.get("role") in ROLES and _SIGNER_NAME.fullmatch(s.get("name")) is not None)
        if not ok_shape:
            not_counted.append({"key_id": s.get("key_id") if isinstance(s, dict) else None, "name": "", "reason": "malformed"})
            continue
        kid = s["key_id"]
        if kid not in trusted:
            not_counted.append({"key_id": kid, "name": s["name"], "reason": "untrusted"})
            continue
        b64, key = trusted[kid]
        try:
            key.verify(base64.b64decode(s["signature"], validate=True), signed_message(raw, s))
        except (binascii.Error, InvalidSignature):
            not_counted.append({"key_id": kid, "name": s["name"], "reason": "broken"})
            continue
        count(kid, b64, s)
    if not signers:
        extra = "; ".join(f"{x['key_id'] or x['name']}: {x['reason']}" for x in not_counted)
        raise BundleError(en=f"bad signature: no signature in the bundle was made by a trusted key ({extra or 'none'})",
                          vi="Chữ ký của gói quy trình không hợp lệ hoặc không phải của khóa tin cậy.",
                          code="bad_signature")
    if len(signers) < min_signatures:
        en = (f"not enough signatures: {min_signatures} different trusted keys must sign this bundle, "
              f"{len(signers)} did: {', '.join(_who(x) for x in signers)}")
        vi = (f"Gói quy trình cần chữ ký của {min_signatures} người quản trị khác nhau (khóa tin cậy khác nhau), "
              f"mới có {len(signers)}: {', '.join(_who_vi(x) for x in signers)}.")
        if not_counted:
            en += "; not counted: " + ", ".join(f"key {x['key_id']} ({x['reason']})" for x in not_counted)
            vi += " Không tính: " + ", ".join(f"khóa {x['key_id']} ({_REASON_VI[x['reason']]})" for x in not_counted) + "."
        raise BundleError(en=en, vi=vi, code="not_enough_signatures")
    return signers, not_counted


def verify_bundle(data: bytes, trusted_keys: list[str], known: dict[tuple[str, int], str] | None = None, *,
                  min_signatures: int = 1) -> BundleInfo:
    """Check a bundle completely; return what it holds or raise :class:`BundleError`.

    ``min_signatures``: how many distinct trusted keys must have signed it validly (the same key
    twice counts once; see :func:`check_signatures`). ``known``: (flow id, version) → sha256 of
    versions seen before (a kiosk's history, the central system's archive); the same id and
    version with other content is refused.
    """
    entries = _read_entries(data)
    raw = entries.get("manifest.json")
    signers, not_counted = check_signatures(entries, trusted_keys, min_signatures)
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(en=f"manifest.json is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(en=f"unknown bundle format {manifest.get('format') if isinstance(manifest, dict) else None!r}; expected {FORMAT}")
    bundle_id = manifest.get("bundle_id")
    if not isinstance(bundle_id, str) or not _BUNDLE_ID.fullmatch(bundle_id):
        raise BundleError(en=f"bad bundle_id {bundle_id!r}")
    created = manifest.get("created_at")
    try:
        datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        raise BundleError(en=f"bad created_at {created!r}") from None
    flows, media = manifest.get("flows"), manifest.get("media", [])
    if not isinstance(flows, list) or not flows or not isinstance(media, list):
        raise BundleError(en="manifest must list at least one flow and a media list")

    listed = {"manifest.json"} | ({"manifest.sig"} & set(entries)) | ({SIGNATURES} & set(entries))
    ids: set[str] = set()
    named_media: set[str] = set()
    for f in flows:
        if not isinstance(f, dict) or not {"id", "version", "sha256", "path"} <= set(f):
            raise BundleError(en="each manifest flow needs id, version, sha256 and path")
        path = f["path"]
        if path != f"flows/{f['id']}.yaml":
            raise BundleError(en=f"flow {f['id']!r} must be stored as flows/{f['id']}.yaml, not {path!r}")
        blob = entries.get(path)
        if blob is None:
            raise BundleError(en=f"{path} is listed in the manifest but missing from the bundle")
        if hashlib.sha256(blob).hexdigest() != f["sha256"]:
            raise BundleError(en=f"{path} was changed after signing (sha256 does not match the manifest)",
                              vi=f"Tệp {path} đã bị sửa sau khi ký.")
        try:
            flow = load_flow_bytes(blob, path)
        except FlowLoadError as exc:
            raise BundleError(en=f"{path} is not a valid flow: " + "; ".join(str(p) for p in exc.problems[:5])) from None
        if flow.id != f["id"] or flow.version != f["version"]:
            raise BundleError(en=f"{path}: the file says {flow.id} v{flow.version}, the manifest {f['id']} v{f['version']}")
        if flow.id in ids:
            raise BundleError(en=f"flow {flow.id} is in the bundle twice")
        ids.add(flow.id)
        prior = (known or {}).get((flow.id, flow.version))
        if prior is not None and prior != flow.sha256:
            raise BundleError(en=f"flow {flow.id} version {flow.version} was already published with other content; "
                              f"a changed flow needs a new version number",
                              vi=f"Quy trình {flow.id} phiên bản {flow.version} đã có với nội dung khác; hãy tăng số phiên bản.")
        named_media.update(flow.media_paths())
        listed.add(path)
    for m in media:
        if not isinstance(m, dict) or not {"path", "sha256", "size"} <= set(m):
            raise BundleError(en="each manifest media entry needs path, sha256 and size")
        path = m["path"]
        if not isinstance(path, str) or not path.startswith("media/") or not _safe_name(path):
            raise BundleError(en=f"unsafe media path {path!r}")
        blob = entries.get(path)
        if blob is None:
            raise BundleError(en=f"{path} is listed in the manifest but missing from the bundle")
        if len(blob) != m["size"] or hashlib.sha256(blob).hexdigest() != m["sha256"]:
            raise BundleError(en=f"{path} was changed after signing (sha256 or size does not match the manifest)")
        listed.add(path)
    extra = sorted(set(entries) - listed)
    if extra:
        raise BundleError(en=f"files in the bundle that the manifest does not list: {', '.join(extra[:5])}")
    present = {m["path"] for m in media}
    return BundleInfo(bundle_id, str(created), [dict(f) for f in flows], [dict(m) for m in media],
                      hashlib.sha256(data).hexdigest(), signers[0]["public_key"], sorted(named_media - present),
                      signers=signers, not_counted=not_counted)


# --- the kiosk's store ------------------------------------------------------------------------

def _when(text: str) -> datetime:
    d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


_THREAD_LOCKS: dict[str, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


class BundleStore:
    """Bundles on a kiosk under ``bundle_dir``: ``bundles/<id>/`` (bundle.zip plus its unpacked
    files) and ``state.json`` (current, previous, pending, the versions seen).

    Safe to share: the kiosk's sync thread stages while the UI thread activates between
    sessions, and the admin CLI may run beside the kiosk. Every change holds a per-folder thread
    lock and an ``flock`` on ``bundle_dir/.lock``."""

    def __init__(self, bundle_dir: str | Path, trusted_keys: list[str], min_signatures: int = 1):
        self.dir = Path(bundle_dir)
        self.trusted_keys = list(trusted_keys)
        self.min_signatures = min_signatures  # [flows].min_signatures: staging, activation and rollback check it
        (self.dir / "bundles").mkdir(parents=True, exist_ok=True)
        key = str(self.dir.resolve())
        with _THREAD_LOCKS_GUARD:
            self._tlock = _THREAD_LOCKS.setdefault(key, threading.RLock())

    @contextlib.contextmanager
    def _locked(self):
        with self._tlock:
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    # state
    def _state(self) -> dict:
        try:
            s = json.loads((self.dir / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            s = {}
        except (OSError, ValueError) as exc:
            raise BundleError(en=f"{self.dir / 'state.json'} is unreadable: {exc}") from None
        s.setdefault("current", None)
        s.setdefault("previous", None)
        s.setdefault("pending", None)
        s.setdefault("seen", {})          # "id@version" → sha256
        s.setdefault("highest", {})       # id → highest version ever activated
        s.setdefault("rolled_back", [])   # bundle ids rolled back here: not re-staged automatically
        return s

    def _save(self, s: dict) -> None:
        write_atomic(self.dir / "state.json", json.dumps(s, indent=1, sort_keys=True).encode())

    def path(self, bundle_id: str) -> Path:
        return self.dir / "bundles" / bundle_id

    def _info(self, bundle_id: str | None, verify: bool = False) -> BundleInfo | None:
        if not bundle_id:
            return None
        data = (self.path(bundle_id) / "bundle.zip").read_bytes()
        if verify:
            info = verify_bundle(data, self.trusted_keys, min_signatures=self.min_signatures)
        else:
            m = json.loads(_read_entries(data)["manifest.json"])
            info = BundleInfo(m["bundle_id"], m["created_at"], m["flows"], m.get("media", []),
                              hashlib.sha256(data).hexdigest(), "")
        info.path = self.path(bundle_id)
        return info

    # API
    def stage(self, data: bytes, *, force: bool = False) -> BundleInfo:
        """Verify ``data`` and unpack it as the pending bundle (replacing an older pending one).
        Refuses: fewer than ``min_signatures`` valid signatures of distinct trusted keys, bad content, a flow version seen before with other content, a flow
        older than the one running, a bundle older than the running one, and (unless ``force``) a
        bundle that was rolled back on this kiosk."""
        # the slow part (signature, every flow through the loader) runs without the lock
        info = verify_bundle(data, self.trusted_keys, self._known(self._state()), min_signatures=self.min_signatures)
        with self._locked():
            return self._stage_verified(data, info, force)

    @staticmethod
    def _known(s: dict) -> dict[tuple[str, int], str]:
        known = {}
        for k, v in s["seen"].items():
            fid, _, ver = k.rpartition("@")
            known[(fid, int(ver))] = v
        return known

    def _stage_verified(self, data: bytes, info: BundleInfo, force: bool) -> BundleInfo:
        s = self._state()
        known = self._known(s)  # again: another thread may have activated something meanwhile
        for f in info.flows:
            prior = known.get((f["id"], f["version"]))
            if prior is not None and prior != f["sha256"]:
                raise BundleError(en=f"flow {f['id']} version {f['version']} was already published with other content")
        if info.bundle_id in (s["current"], s["pending"]):
            return info
        if info.bundle_id in s["rolled_back"] and not force:
            raise BundleError(en=f"bundle {info.bundle_id} was rolled back on this kiosk; stage it with force to use it again")
        current = self._info(s["current"])
        if current is not None and _when(info.created_at) < _when(current.created_at):
            raise BundleError(en=f"bundle {info.bundle_id} ({info.created_at}) is older than the running "
                              f"{current.bundle_id} ({current.created_at}): replay refused",
                              vi="Gói quy trình cũ hơn gói đang chạy: từ chối.")
        for f in info.flows:
            high = s["highest"].get(f["id"])
            if high is not None and f["version"] < high and not force:
                raise BundleError(en=f"flow {f['id']} version {f['version']} is older than version {high} already used "
                                     "here: replay refused",
                                  vi="Quy trình cũ hơn phiên bản đang dùng: từ chối.")
        target = self.path(info.bundle_id)
        if target.exists() and info.bundle_id != s["previous"]:
            shutil.rmtree(target)  # left from an earlier staging: unpack afresh from the verified bytes
        if not target.exists():
            tmp = self.dir / "bundles" / f".tmp-{info.bundle_id}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            entries = _read_entries(data)
            for name, blob in entries.items():
                dest = tmp / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(blob)
            (tmp / "bundle.zip").write_bytes(data)
            os.replace(tmp, target)
        info.path = target
        old_pending = s["pending"]
        s["pending"] = info.bundle_id
        self._save(s)
        if old_pending and old_pending not in (s["current"], s["previous"]):
            shutil.rmtree(self.path(old_pending), ignore_errors=True)
        log.info("flow bundle %s staged (%d flows)", info.bundle_id, len(info.flows))
        return info

    def activate_pending(self) -> BundleInfo | None:
        """Make the pending bundle current (call between citizen sessions). Returns it, or None when
        nothing was pending. The previous current bundle is kept for :meth:`rollback`."""
        with self._locked():
            return self._activate()

    def _activate(self) -> BundleInfo | None:
        s = self._state()
        pending = s["pending"]
        if not pending:
            return None
        info = self._info(pending, verify=True)  # the files on disk may have changed since staging
        old_previous = s["previous"]
        s["previous"], s["current"], s["pending"] = s["current"], pending, None
        for f in info.flows:
            s["seen"][f"{f['id']}@{f['version']}"] = f["sha256"]
            s["highest"][f["id"]] = max(f["version"], s["highest"].get(f["id"], 0))
        if pending in s["rolled_back"]:
            s["rolled_back"].remove(pending)
        self._save(s)
        if old_previous and old_previous not in (s["current"], s["previous"]):
            shutil.rmtree(self.path(old_previous), ignore_errors=True)
        log.info("flow bundle %s active", pending)
        return info

    def rollback(self) -> BundleInfo:
        """Go back to the previous bundle (raises BundleError when there is none)."""
        with self._locked():
            return self._rollback()

    def _rollback(self) -> BundleInfo:
        s = self._state()
        if not s["previous"]:
            raise BundleError(en="no previous bundle to roll back to", vi="Không có gói quy trình trước đó để quay lại.")
        info = self._info(s["previous"], verify=True)
        bad = s["current"]
        s["current"], s["previous"] = s["previous"], None
        if bad and bad not in s["rolled_back"]:
            s["rolled_back"].append(bad)
        self._save(s)
        log.warning("flow bundle rolled back from %s to %s", bad, s["current"])
        return info

    def current(self) -> BundleInfo | None:
        return self._info(self._state()["current"])

    def current_dir(self) -> Path | None:
        """Folder of the running bundle (``flows/`` and ``media/`` inside), or None."""
        cur = self._state()["current"]
        return self.path(cur) if cur else None

    def registry(self):
        """The running bundle's flows as a FlowRegistry (see :meth:`BundleInfo.registry`)."""
        from flows.errors import Problem
        from flows.registry import FlowRegistry

        cur = self.current()
        if cur is None:
            return FlowRegistry([], [Problem(str(self.dir), "no flow bundle is active")])
        return cur.registry()

    def status(self) -> dict:
        s = self._state()
        out = {"bundle_dir": str(self.dir), "trusted_keys": len(self.trusted_keys), "min_signatures": self.min_signatures,
               "rolled_back": list(s["rolled_back"])}
        for k in ("current", "previous", "pending"):
            info = self._info(s[k]) if s[k] else None
            out[k] = None if info is None else {"bundle_id": info.bundle_id, "created_at": info.created_at,
                                                "flows": [f"{f['id']} v{f['version']}" for f in info.flows]}
        return out
