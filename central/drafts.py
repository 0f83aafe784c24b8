"""Procedure drafts and four-eyes publishing from the province admins' console (issue 20).

A draft is one admin's proposed change to one flow of their province's kiosks:

    start (from the published flow, or from an older version: a revert)
      → save (structured fields or the YAML; every save is checked by the kiosk's own loader)
      → submit: a bundle is built (the base bundle with this flow replaced) and signed by the
        author's key, in the author's PKCS#11 token, unlocked by the PIN typed at that moment
      → approve: a SECOND admin of the province signs the same bundle with their own token; central
        verifies it like a kiosk does and stores it for the province's pilot kiosks
      → promote (central.service.promote_bundle): every kiosk.

The private keys never leave the tokens (common.pkcs11_signer refuses a key that could be
exported), so nothing the central process can read signs a bundle. A PIN is used for one signature
and then forgotten: never stored, logged or put into an error.

No personal data: drafts hold flow files. Pure database and bundle work; the pages are in
central/console/drafts.py.
"""
from __future__ import annotations

import base64
import difflib
import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import and_, insert, select, update

from central.db import accounts, bundles, flow_drafts, write_tx
from central.service import CentralError, visible
from common import clock
from flows.errors import FlowLoadError
from flows.loader import MAX_FILE_BYTES, load_flow_bytes, read_document

FLOW_ID_RX = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
OPEN_STATES = ("draft", "submitted")
STATES = {"draft": ("Bản nháp", "Draft"), "submitted": ("Chờ duyệt", "Waiting for approval"),
          "published": ("Đã duyệt, đang thử", "Approved, in pilot"), "withdrawn": ("Đã rút", "Withdrawn")}
# the competent levels of flows/schema/flow.schema.json, in words (the schema is the one list)
LEVELS = {"commune": "UBND cấp xã", "commune_police": "Công an cấp xã", "province": "UBND cấp tỉnh",
          "province_department": "Sở, ngành cấp tỉnh"}
MAX_REASON = 1000
_PATH_RX = re.compile(r"^(steps|documents)\[(\d+)\](?:\.fields\[(\d+)\])?")


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def refused(status: int, code: str, vi: str, en: str) -> CentralError:
    return CentralError(status=status, code=code, vi=vi, en=en)


# --- checking a draft ----------------------------------------------------------------------------
def where(path: str, doc: Any) -> str:
    """A loader path ("steps[2].fields[1].label") in the admin's words: the step's and the field's
    ids, as the structured form and the YAML name them."""
    m = _PATH_RX.match(path or "")
    if not m or not isinstance(doc, dict):
        return path
    kind, i, j = m.group(1), int(m.group(2)), m.group(3)
    items = doc.get(kind) if isinstance(doc.get(kind), list) else []
    item = items[i] if i < len(items) and isinstance(items[i], dict) else {}
    rest = path[m.end():].lstrip(".")
    if kind == "documents":
        out = f"giấy tờ '{item.get('id', i + 1)}'"
    else:
        out = f"bước {i + 1} '{item.get('id', '?')}'"
        if j is not None:
            fields = item.get("fields") if isinstance(item.get("fields"), list) else []
            field = fields[int(j)] if int(j) < len(fields) and isinstance(fields[int(j)], dict) else {}
            out += f", ô '{field.get('id', int(j) + 1)}'"
    return f"{out}{': ' + rest if rest else ''}"


def check(text: str, flow_id: str, base_version: int) -> list[str]:
    """What is wrong with a draft's YAML, in the words the console shows ([] when it would load on
    a kiosk): the kiosk's loader, plus the draft's own rules (same flow id, a new version)."""
    data = text.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        return [f"Tệp quá lớn ({len(data)} byte; tối đa {MAX_FILE_BYTES}). / The file is too large."]
    try:
        flow = load_flow_bytes(data, f"{flow_id}.yaml")
    except FlowLoadError as exc:
        doc = read_document(text)
        out = []
        for p in exc.problems:
            line = f"dòng {p.line}: " if p.line else ""
            out.append(f"{line}{where(p.path, doc) + ' — ' if p.path else ''}{p.message}")
        return out
    problems = []
    if flow.id != flow_id:
        problems.append(f"id: phải giữ là '{flow_id}' (bản nháp này sửa thủ tục đó). / id must stay '{flow_id}'.")
    if flow.version <= base_version:
        problems.append(f"version: phải lớn hơn {base_version} (phiên bản đang phát hành). / version must be above {base_version}.")
    return problems


def diff(old: str, new: str) -> list[dict]:
    """The change as lines for the page: {"kind": add | del | ctx | hunk, "text"}."""
    out = []
    for line in list(difflib.unified_diff(old.splitlines(), new.splitlines(), "đang phát hành", "bản nháp", n=2, lineterm=""))[2:]:
        kind = "hunk" if line.startswith("@@") else {"+": "add", "-": "del"}.get(line[:1], "ctx")
        out.append({"kind": kind, "text": line})
    return out


# --- structured edits ----------------------------------------------------------------------------
def _rt():
    from ruamel.yaml import YAML  # noqa: PLC0415 - central only: keeps the file's comments and order

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)  # the shipped flows' "  - id: …" style
    return y


def fields_of(text: str) -> dict | None:
    """The structured form's values from a draft's YAML (None when the YAML does not parse as a flow mapping)."""
    doc = read_document(text)
    if not isinstance(doc, dict):
        return None

    def vi_en(v):
        return {"vi": str(v.get("vi", "")), "en": str(v.get("en", ""))} if isinstance(v, dict) else {"vi": "", "en": ""}

    fee = doc.get("fee") if isinstance(doc.get("fee"), dict) else {}
    return {
        "name": vi_en(doc.get("name")),
        "fee_amount": fee.get("amount", 0),
        "fee_rate": fee["per_unit"].get("rate") if isinstance(fee.get("per_unit"), dict) else None,
        "fee_guide": vi_en(fee.get("guide_text")), "fee_note": vi_en(fee.get("note")),
        "processing_days": doc.get("processing_days", 0), "competent_level": doc.get("competent_level", "commune"),
        "documents": [{"id": str(d.get("id", "")), "name": vi_en(d.get("name")), "need": d.get("need", "always"),
                       "bring_original": bool(d.get("bring_original", False))}
                      for d in doc.get("documents") or [] if isinstance(d, dict)],
        "steps": [{"id": str(s.get("id", "")), "kind": str(s.get("kind", "")), "title": vi_en(s.get("title"))}
                  for s in doc.get("steps") or [] if isinstance(s, dict)],
    }


def _int(form: dict, key: str, label: str) -> int:
    raw = str(form.get(key, "")).replace(".", "").replace(",", "").replace(" ", "")
    if not re.fullmatch(r"\d{1,12}", raw):
        raise refused(400, "invalid_field", f"{label}: cần một số nguyên không âm (ví dụ 8000).", f"{key}: a whole number")
    return int(raw)


def _set_text(mapping, key: str, vi: str, en: str) -> None:
    """name/title/guide_text {vi, en}: set when given, removed when both are emptied (optional texts)."""
    from ruamel.yaml.comments import CommentedMap  # noqa: PLC0415

    vi, en = " ".join(vi.split()), " ".join(en.split())
    if not vi and not en:
        mapping.pop(key, None)
        return
    cur = mapping.get(key)
    if not isinstance(cur, dict):
        cur = CommentedMap()
        cur.fa.set_flow_style()
        mapping[key] = cur
    cur["vi"], cur["en"] = vi, en


def apply_fields(text: str, form: dict) -> str:
    """The YAML with the structured form's values written in (comments, order and the rest kept)."""
    y = _rt()
    try:
        doc = y.load(text)
    except Exception as exc:  # noqa: BLE001 - ruamel raises many kinds for a broken file
        raise refused(400, "invalid_yaml", "Tệp YAML đang lỗi cú pháp: sửa ở ô YAML trước rồi mới sửa các ô.",
                      f"the YAML does not parse: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise refused(400, "invalid_yaml", "Tệp YAML phải là một bảng các mục (id, version, steps…).", "not a mapping")
    _set_text(doc, "name", form.get("name_vi", ""), form.get("name_en", ""))
    fee = doc.setdefault("fee", {"amount": 0, "currency": "VND"})
    fee["amount"] = _int(form, "fee_amount", "Lệ phí")
    if isinstance(fee.get("per_unit"), dict) and "fee_rate" in form:   # a fee per copy, per page…
        fee["per_unit"]["rate"] = _int(form, "fee_rate", "Mức thu mỗi bản")
    _set_text(fee, "guide_text", form.get("fee_guide_vi", ""), form.get("fee_guide_en", ""))
    doc["processing_days"] = _int(form, "processing_days", "Thời hạn giải quyết")
    level = form.get("competent_level", "")
    if level not in LEVELS:
        raise refused(400, "invalid_field", "Cấp giải quyết không đúng.", "competent_level: commune, province, district or central")
    doc["competent_level"] = level
    for i, d in enumerate(doc.get("documents") or []):
        if isinstance(d, dict) and f"doc{i}_name_vi" in form:
            _set_text(d, "name", form.get(f"doc{i}_name_vi", ""), form.get(f"doc{i}_name_en", ""))
            if form.get(f"doc{i}_original") == "1":
                d["bring_original"] = True
            else:
                d.pop("bring_original", None)
    for i, s in enumerate(doc.get("steps") or []):
        if isinstance(s, dict) and f"step{i}_title_vi" in form:
            _set_text(s, "title", form.get(f"step{i}_title_vi", ""), form.get(f"step{i}_title_en", ""))
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def with_version(text: str, version: int) -> str:
    """The YAML with its top-level ``version`` set (the draft's new version), nothing else touched."""
    out, n = re.subn(r"(?m)^version:[ \t]*\d+[ \t]*(#.*)?$", lambda m: f"version: {version}" + (f"  {m.group(1)}" if m.group(1) else ""),
                     text, count=1)
    return out if n else f"version: {version}\n{text}"


# --- bundles -------------------------------------------------------------------------------------
def flow_yaml(data: bytes, flow_id: str) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo(f"flows/{flow_id}.yaml")
            if info.file_size > MAX_FILE_BYTES:
                return None
            return zf.read(info).decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


def rebuild(base: bytes | None, flow_id: str, text: str, media: dict[str, bytes] | None = None) -> bytes:
    """An unsigned bundle: every flow and help clip of ``base`` with ``flow_id`` replaced by ``text``,
    and ``media`` (bundle path "media/help/<flow>/<step>.mp4" → bytes: new help clips) replacing or
    adding those files."""
    from flows.bundles import build_bundle  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="draft-bundle-") as tmp:
        root = Path(tmp)
        (root / "flows").mkdir()
        (root / "media").mkdir()
        if base:
            with zipfile.ZipFile(io.BytesIO(base)) as zf:
                for info in zf.infolist():
                    name = PurePosixPath(info.filename)
                    if info.is_dir() or ".." in name.parts or name.is_absolute() or name.parts[0] not in ("flows", "media"):
                        continue
                    dest = root.joinpath(*name.parts)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(zf.read(info))
        (root / "flows" / f"{flow_id}.yaml").write_text(text, encoding="utf-8")
        for path, blob in (media or {}).items():
            name = PurePosixPath(path)
            if ".." in name.parts or name.is_absolute() or name.parts[:2] != ("media", "help"):
                raise ValueError(f"not a help clip path: {path!r}")
            dest = root.joinpath(*name.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(blob)
        return build_bundle(sorted((root / "flows").glob("*.yaml")), root / "media")


@dataclass
class Signer:
    """Who signs, from their account: the token and key, and the public key registered for them."""
    username: str
    name: str
    token: str
    key_label: str
    public_key: str   # base64


class Drafts:
    def __init__(self, central):
        self.central = central
        self.engine = central.engine

    # --- reading ---
    def newest_bundle(self, province: str) -> dict | None:
        """The bundle the province's pilot kiosks run: the base of every new draft."""
        with self.engine.connect() as conn:
            row = conn.execute(select(bundles.c.bundle_id, bundles.c.data, bundles.c.audience).where(visible(province, pilot=True))
                               .order_by(bundles.c.seq.desc()).limit(1)).mappings().first()
        return dict(row) if row else None

    def list(self, province: str, *, open_only: bool = False) -> list[dict]:
        q = select(*[c for c in flow_drafts.c if c.name not in ("bundle_data", "yaml")]).where(flow_drafts.c.province_code == province)
        if open_only:
            q = q.where(flow_drafts.c.state.in_(OPEN_STATES))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(flow_drafts.c.id.desc()).limit(200)).mappings().all()
        return [self._view(dict(r)) for r in rows]

    def get(self, draft_id: int, province: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(flow_drafts).where(flow_drafts.c.id == draft_id,
                                                         flow_drafts.c.province_code == province)).mappings().first()
        return self._view(dict(row)) if row else None

    @staticmethod
    def _view(d: dict) -> dict:
        d["state_vi"], d["state_en"] = STATES.get(d["state"], (d["state"], d["state"]))
        return d

    def published_yaml(self, draft: dict) -> str:
        """The flow as published in the draft's base bundle ("" for a new procedure)."""
        if not draft.get("base_bundle_id"):
            return ""
        with self.engine.connect() as conn:
            data = conn.execute(select(bundles.c.data).where(bundles.c.bundle_id == draft["base_bundle_id"])).scalar()
        if data is None:
            return ""
        return flow_yaml(bytes(data), draft["flow_id"]) or ""

    # --- writing ---
    def start(self, flow_id: str, province: str, author: str, *, from_bundle: str | None = None) -> int:
        """A new draft of ``flow_id`` from the province's newest bundle, or (``from_bundle``) from the
        version in an older bundle: a revert, which is a change like any other and is signed twice.
        An open draft of the same flow in the province is returned instead of a second one."""
        if not FLOW_ID_RX.fullmatch(flow_id):
            raise refused(404, "not_found", "Không có thủ tục này.", "no such flow")
        with self.engine.connect() as conn:
            open_id = conn.execute(select(flow_drafts.c.id).where(
                flow_drafts.c.flow_id == flow_id, flow_drafts.c.province_code == province,
                flow_drafts.c.state.in_(OPEN_STATES))).scalar()
        if open_id is not None:
            return int(open_id)
        base = self.newest_bundle(province)
        current = flow_yaml(bytes(base["data"]), flow_id) if base else None
        if current is None:
            raise refused(404, "not_found", "Thủ tục này chưa có trong gói đang phát hành.", "the flow is not in the published bundle")
        doc = read_document(current)
        base_version = int(doc.get("version", 0)) if isinstance(doc, dict) else 0
        text = current
        if from_bundle:
            with self.engine.connect() as conn:
                old = conn.execute(select(bundles.c.data).where(bundles.c.bundle_id == from_bundle)).scalar()
            text = flow_yaml(bytes(old), flow_id) if old is not None else None
            if text is None:
                raise refused(404, "not_found", "Gói cũ không có thủ tục này.", "that bundle does not hold this flow")
        text = with_version(text, base_version + 1)
        now = _now()
        with write_tx(self.engine) as conn:
            return int(conn.execute(insert(flow_drafts).values(
                flow_id=flow_id, province_code=province, base_version=base_version, base_bundle_id=base["bundle_id"],
                yaml=text, state="draft", reason=f"Quay về nội dung của gói {from_bundle}" if from_bundle else "",
                author=author, created_at=now, updated_at=now)).inserted_primary_key[0])

    def _change(self, draft: dict, *, expect: tuple[str, ...], **values) -> None:
        with write_tx(self.engine) as conn:
            n = conn.execute(update(flow_drafts).where(and_(flow_drafts.c.id == draft["id"], flow_drafts.c.state.in_(expect)))
                             .values(updated_at=_now(), **values)).rowcount
        if n != 1:
            raise refused(409, "draft_changed", "Bản nháp vừa được người khác thay đổi; hãy tải lại trang.",
                          "the draft changed meanwhile: reload")

    def save(self, draft: dict, text: str, user: str, reason: str | None = None) -> list[str]:
        """Store the YAML (even with problems: the admin's work is not lost) and return its problems."""
        if draft["state"] != "draft":
            raise refused(409, "not_draft", "Bản này đã trình duyệt nên không sửa được; rút lại để sửa.",
                          "only a draft can be edited (withdraw a submitted one first)")
        if draft["author"] != user:
            raise refused(403, "not_author", "Chỉ người soạn mới sửa được bản nháp này.", "only the author edits a draft")
        text = text.replace("\r\n", "\n")
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise refused(400, "too_large", "Tệp quá lớn.", "the YAML is too large")
        values: dict[str, Any] = {"yaml": text}
        if reason is not None:
            values["reason"] = _reason(reason)
        self._change(draft, expect=("draft",), **values)
        return check(text, draft["flow_id"], draft["base_version"])

    def submit(self, draft: dict, signer: Signer, pin: str) -> str:
        """Build the bundle and sign it as its author; the draft waits for a second admin."""
        if draft["state"] != "draft":
            raise refused(409, "not_draft", "Bản này không còn là bản nháp.", "not a draft")
        if draft["author"] != signer.username:
            raise refused(403, "not_author", "Chỉ người soạn mới trình được bản nháp này.", "only the author submits")
        if not draft["reason"].strip():
            raise refused(400, "no_reason", "Cần ghi lý do thay đổi để người duyệt đọc.", "a change needs a reason")
        problems = check(draft["yaml"], draft["flow_id"], draft["base_version"])
        if problems:
            raise refused(422, "draft_invalid", "Bản nháp còn lỗi: " + "; ".join(problems[:3]), "the draft does not load")
        base = self.newest_bundle(draft["province_code"])
        if base is None or base["bundle_id"] != draft["base_bundle_id"]:
            raise refused(409, "base_changed", "Gói quy trình đã thay đổi kể từ khi soạn; hãy soạn lại từ gói mới.",
                          "a newer bundle was published since this draft began")
        from central.clips import media_for_submit  # noqa: PLC0415  (new help clips of the changed steps, central/clips.py)
        from flows.bundles import BundleError  # noqa: PLC0415

        media = media_for_submit(self.central, draft["flow_id"], self.published_yaml(draft), draft["yaml"])
        try:
            data = rebuild(bytes(base["data"]), draft["flow_id"], draft["yaml"], media=media)
        except BundleError as exc:
            raise refused(422, "draft_invalid", "Không đóng gói được: " + exc.message_vi, exc.message_en) from None
        data = self._sign(data, signer, pin, "submitted_by")
        bundle_id = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))["bundle_id"]
        self._change(draft, expect=("draft",), state="submitted", submitted_at=_now(), bundle_id=bundle_id, bundle_data=data)
        return bundle_id

    def withdraw(self, draft: dict, user: str) -> None:
        if draft["author"] != user:
            raise refused(403, "not_author", "Chỉ người soạn mới rút được.", "only the author withdraws")
        if draft["state"] == "submitted":   # back to an editable draft; the signed bundle is dropped
            self._change(draft, expect=("submitted",), state="draft", bundle_id=None, bundle_data=None, submitted_at=None)
        elif draft["state"] == "draft":
            self._change(draft, expect=("draft",), state="withdrawn")
        else:
            raise refused(409, "not_open", "Bản này đã xong, không rút được.", "the draft is closed")

    def approve(self, draft: dict, signer: Signer, pin: str) -> dict:
        """The second admin signs; central verifies and stores the bundle for the province's pilots."""
        if draft["state"] != "submitted":
            raise refused(409, "not_submitted", "Bản này không ở trạng thái chờ duyệt.", "not waiting for approval")
        if signer.username == draft["author"]:
            raise refused(403, "same_person", "Người soạn không tự duyệt được: cần một người quản trị khác (bốn mắt).",
                          "four eyes: the author cannot approve their own change")
        base = self.newest_bundle(draft["province_code"])
        if base is None or base["bundle_id"] != draft["base_bundle_id"]:
            raise refused(409, "base_changed", "Gói quy trình đã thay đổi kể từ khi trình; người soạn cần rút và trình lại.",
                          "a newer bundle was published since this was submitted")
        data = self._sign(bytes(draft["bundle_data"]), signer, pin, "approved_by")
        changed, answer = self.central.publish_bundle(data, actor=signer.username, audience="pilot",
                                                      province=draft["province_code"])
        self._change(draft, expect=("submitted",), state="published", approved_by=signer.username,
                     approved_at=_now(), bundle_data=data)
        return answer

    def _sign(self, data: bytes, signer: Signer, pin: str, role: str) -> bytes:
        from common.pkcs11_signer import TokenError, open_key  # noqa: PLC0415
        from flows.bundles import BundleError, add_signature  # noqa: PLC0415

        if not (signer.token and signer.key_label and signer.public_key):
            raise refused(409, "no_signing_key", "Tài khoản của bạn chưa được gắn khóa ký (thẻ khóa). Nhờ người vận hành "
                          "chạy `kiosk central accounts set-key`.", "no signing key is registered for this account")
        if signer.public_key not in {k.strip() for k in self.central.trusted_keys}:
            raise refused(409, "key_not_trusted", "Khóa ký của bạn chưa nằm trong danh sách khóa tin cậy của hệ thống "
                          "([flows] trusted_keys), nên các ki-ốt sẽ không nhận chữ ký này.", "the signing key is not trusted")
        try:
            with open_key(self.central.pkcs11_lib, signer.token, signer.key_label, pin) as key:
                if base64.b64encode(key.public_key).decode() != signer.public_key:
                    raise refused(409, "wrong_key", "Khóa trong thẻ không phải khóa đã đăng ký cho tài khoản này.",
                                  "the token's key is not the one registered for this account")
                return add_signature(data, key.public_key, key.sign, name=signer.name, role=role)
        except TokenError as exc:
            status = 400 if exc.code == "pin_incorrect" else 409
            raise refused(status, exc.code or "token_failed", exc.message_vi, exc.message_en) from None
        except BundleError as exc:
            raise refused(409, exc.code or "bad_signature", exc.message_vi, exc.message_en) from None


def _reason(reason: str) -> str:
    reason = " ".join(str(reason).split())
    if len(reason) > MAX_REASON:
        raise refused(400, "too_long", f"Lý do dài quá {MAX_REASON} ký tự.", "reason too long")
    return reason


def signer_of(central, username: str) -> Signer:
    with central.engine.connect() as conn:
        row = conn.execute(select(accounts.c.username, accounts.c.display_name, accounts.c.signing_token,
                                  accounts.c.signing_key_label, accounts.c.signing_public_key)
                           .where(accounts.c.username == username)).mappings().first()
    if row is None:
        raise refused(404, "not_found", "Không có tài khoản này.", "no such account")
    return Signer(row["username"], row["display_name"] or row["username"], row["signing_token"],
                  row["signing_key_label"], row["signing_public_key"])


def set_signing_key(central, username: str, token: str, key_label: str = "flows") -> str:
    """Register an admin's token key (its public key is read from the token; no PIN needed)."""
    from common.pkcs11_signer import TokenError, public_key_b64  # noqa: PLC0415

    with central.engine.connect() as conn:
        role = conn.execute(select(accounts.c.role).where(accounts.c.username == username)).scalar()
    if role != "admin":
        raise refused(422, "not_admin", "Chỉ tài khoản quản trị tỉnh mới ký gói quy trình.", "only a province admin signs bundles")
    try:
        pub = public_key_b64(central.pkcs11_lib, token, key_label)
    except TokenError as exc:
        raise refused(409, exc.code or "token_failed", exc.message_vi, exc.message_en) from None
    with write_tx(central.engine) as conn:
        conn.execute(update(accounts).where(accounts.c.username == username)
                     .values(signing_token=token, signing_key_label=key_label, signing_public_key=pub))
    return pub
