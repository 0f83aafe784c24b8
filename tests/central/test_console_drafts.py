"""Drafts, four-eyes signing from the browser and the staged rollout (issue 20), through the console
on SQLite and PostgreSQL, with each admin's Ed25519 key inside their own SoftHSM2 token (Debian's
softhsm2, the same PKCS#11 code path as an HSM or a smart card):

- an admin drafts a change of the trích lục fee in structured fields (the YAML keeps its comments),
  every save is checked by the kiosk's loader (a broken YAML names the step), the diff shows it;
- submit signs with the author's token (a wrong PIN is refused, nothing signed); the author cannot
  approve; a second admin approves with their token: the bundle carries both signatures, central
  stores it for the province's pilot kiosks only (a pilot kiosk's /api/v1/flows names it, another
  kiosk's and an anonymous one's do not), then "promote" sends it to every kiosk;
- a kiosk that asks for two signatures installs it; the same bundle with only the author's
  signature is refused;
- the keys cannot be read by the central process, even with the PIN (sensitive, not extractable).
"""
import base64
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.db import audit_log
from central.drafts import set_signing_key
from central.service import Central, KioskIdentity
from flows import bundles
from kiosk.tools.softhsm import SoftHSM

from testkit import console
from testkit.console import ORIGIN, console_app, form_fields, part, post, text

FLOWS = Path(__file__).resolve().parents[2] / "flows" / "definitions"
PASSWORD = "mat-khau-cua-tinh-2026"

PILOT = KioskIdentity("KIOSK-HN-BADINH-01", "01", "00004")
OTHER = KioskIdentity("KIOSK-HN-NGOCHA-01", "01", "00008")
ELSEWHERE = KioskIdentity("KIOSK-HCM-ANDONG-01", "79", "27316")
PINS = {"tinh01": "1111-lan", "tinh02": "2222-hung"}


def secret(k: KioskIdentity) -> str:
    return "secret-" + k.kiosk_id


@pytest.fixture
def hsm(tmp_path, monkeypatch):
    h = SoftHSM(tmp_path / "hsm")
    monkeypatch.setenv(*h.env_item)
    return h


@pytest.fixture
def central(database, hsm):
    c = Central.open(database)
    publics = [hsm.admin(f"token-{user}", pin) for user, pin in PINS.items()]
    c.trusted_keys = [base64.b64encode(p).decode() for p in publics]
    c.min_signatures = 2
    for k in (PILOT, OTHER, ELSEWHERE):
        c.register_kiosk(k.kiosk_id, k.province_code, k.commune_code, secret(k))
    # what the province runs today, published with two file keys by automation (the CLI path)
    keys = []
    for _ in range(2):
        pem, pub = bundles.generate_key()
        keys.append(bundles.serialization.load_pem_private_key(pem, None))
        c.trusted_keys.append(pub)
    data = bundles.build_bundle([FLOWS / "trich-luc-ho-tich.yaml", FLOWS / "khai-sinh.yaml"], bundle_id="hanoi-base")
    for key, role in zip(keys, ("submitted_by", "approved_by")):
        data = bundles.sign(data, key, name="Tự động", role=role)
    assert c.publish_bundle(data, actor="cli")[0]
    yield c
    c.close()


@pytest.fixture
def app(central, monkeypatch):
    # new help clips for changed steps are made by a worker (a Kivy walk per step): their own tests
    # are tests/central/test_console_clips.py and the browser test; here the bundle keeps the old ones
    from central import clips as help_clips

    monkeypatch.setattr(help_clips, "media_for_submit", lambda *_a, **_k: {})
    app = console_app(central, PASSWORD,
                      ("tinh01", "admin", "", "Nguyễn Thị Lan", "01"),
                      ("tinh02", "admin", "", "Trần Văn Hùng", "01"))
    for user in PINS:
        set_signing_key(central, user, f"token-{user}")
    return app


def index_for(app, kiosk: KioskIdentity | None) -> str:
    auth = (kiosk.kiosk_id, secret(kiosk)) if kiosk else None
    r = TestClient(app, base_url=ORIGIN).get("/api/v1/flows", auth=auth)
    assert r.status_code == 200, r.text
    return r.json()["bundle_id"]


def login(app, username: str):
    return console.login(app, username, PASSWORD)


def bundle_of(central, bundle_id: str) -> bytes:
    data, _sha = central.bundle(bundle_id)
    return data


def test_a_fee_change_drafted_signed_by_two_admins_goes_to_the_pilot_then_to_every_kiosk(app, central, tmp_path):
    lan, hung = login(app, "tinh01"), login(app, "tinh02")
    r = post(lan, "/console/procedures/trich-luc-ho-tich/draft", "/console/procedures/trich-luc-ho-tich")
    assert r.status_code == 303
    page_url = r.headers["location"]
    page = lan.get(page_url).text
    assert 'data-state="draft"' in page and 'id="no-diff"' not in page  # the version moved up: already a change
    assert re.search(r"^\+version: \d+", text(part(page, "diff")).replace(" +", "\n+"), re.M) or "+version:" in page

    # structured fields: the fee (and its guide text) change; the comments of the file survive
    fields = form_fields(page, "fields-form")
    assert fields["fee_rate"] == "8000" and fields["competent_level"] == "commune" and fields["doc0_original"] == "1"
    fields.update({"fee_rate": "10000", "fee_guide_vi": "10.000 đồng mỗi bản", "fee_guide_en": "10,000 VND a copy"})
    r = post(lan, page_url + "/fields", page_url, **fields)
    assert r.status_code == 303, r.text[:400]
    page = lan.get(page_url).text
    diff = text(part(page, "diff"))
    assert "- per_unit: {field: copies, rate: 8000}" in diff and "+ per_unit: {field: copies, rate: 10000}" in diff
    assert '+ guide_text: {vi: "10.000 đồng mỗi bản", en: "10,000 VND a copy"}' in diff
    assert 'id="draft-ok"' in page
    yaml_now = form_fields(page, "yaml-form")["yaml"]
    assert yaml_now.startswith((FLOWS / "trich-luc-ho-tich.yaml").read_text(encoding="utf-8").splitlines()[0])  # comments kept

    # a YAML the kiosk would refuse is kept (not lost) and its problem names the step
    broken = yaml_now.replace("kind: form", "kind: formx", 1)
    r = post(lan, page_url + "/yaml", page_url, yaml=broken, reason="")
    assert r.status_code == 303
    page = lan.get(page_url).text
    assert "bước" in text(part(page, "draft-problems")) and "formx" in page
    assert 'id="submit-draft" disabled' in page
    r = post(lan, page_url + "/yaml", page_url, yaml=yaml_now, reason="Lệ phí trích lục mới theo nghị quyết của tỉnh")
    assert r.status_code == 303 and 'id="draft-ok"' in lan.get(page_url).text

    # submit: a wrong PIN signs nothing; the right one signs as the author
    r = post(lan, page_url + "/submit", page_url, pin="0000")
    assert r.status_code == 400 and "PIN" in r.text
    assert 'data-state="draft"' in lan.get(page_url).text
    r = post(lan, page_url + "/submit", page_url, pin=PINS["tinh01"])
    assert r.status_code == 303, r.text[:400]
    page = lan.get(page_url).text
    assert 'data-state="submitted"' in page and 'id="approve-form"' not in page and 'id="waiting"' in page
    # the author cannot approve their own change, even by posting the form
    r = post(lan, page_url + "/approve", page_url, pin=PINS["tinh01"])
    assert r.status_code == 403 and "bốn mắt" in r.text
    assert index_for(app, PILOT) == "hanoi-base"

    # the second admin sees the change and the reason, and approves with their own token
    page = hung.get(page_url).text
    assert "Lệ phí trích lục mới" in text(part(page, "draft-reason")) and 'id="approve-form"' in page
    r = post(hung, page_url + "/approve", page_url, pin=PINS["tinh01"])  # the other admin's PIN: wrong for this token
    assert r.status_code == 400
    # no pilot kiosk chosen yet: the pilot bundle reaches no one until one is
    r = post(hung, page_url + "/approve", page_url, pin=PINS["tinh02"])
    assert r.status_code == 303, r.text[:400]
    page = hung.get(page_url).text
    assert 'data-state="published"' in page and "tinh02" in text(part(page, "draft-approver"))
    new_id = re.search(r'id="draft-bundle">([^<]+)<', page).group(1)
    data = bundle_of(central, new_id)
    signed = {(s["name"], s["role"]) for s in bundles.signatures_of(data)}
    assert signed == {("Nguyễn Thị Lan", "submitted_by"), ("Trần Văn Hùng", "approved_by")}

    assert index_for(app, PILOT) == "hanoi-base"
    r = post(hung, "/console/procedures/pilots", "/console/procedures", kiosk_id=PILOT.kiosk_id, action="add")
    assert r.status_code == 303
    assert index_for(app, PILOT) == new_id                      # the pilot first
    assert index_for(app, OTHER) == "hanoi-base" and index_for(app, None) == "hanoi-base"
    page = hung.get("/console/procedures").text
    assert new_id in text(part(page, "pilot")) and "0 / 1 ki-ốt thí điểm" in text(part(page, "pilot-summary"))
    # the procedures list: the version every kiosk of the province runs, and the pilot kiosks' one
    row = re.search(r'<tr id="flow-trich-luc-ho-tich".*?</tr>', page, re.S).group(0)
    assert re.search(r'class="n">2</td>\s*<td class="n pilot-version"><strong>3</strong>', row), row
    beat = TestClient(app, base_url=ORIGIN).post(f"/api/v1/kiosks/{PILOT.kiosk_id}/heartbeat", auth=(PILOT.kiosk_id, secret(PILOT)),
                                                 json={"kiosk_id": PILOT.kiosk_id, "versions": {"flow_bundle": new_id}})
    assert beat.status_code == 200
    assert "1 / 1 ki-ốt thí điểm" in text(part(hung.get("/console/procedures").text, "pilot-summary"))

    # a kiosk asking for two signatures installs it; with the author's signature alone it is refused
    store = bundles.BundleStore(tmp_path / "kiosk", central.trusted_keys, min_signatures=2)
    store.stage(data)
    one = _only_first_signature(data)
    with pytest.raises(bundles.BundleError):
        bundles.BundleStore(tmp_path / "kiosk2", central.trusted_keys, min_signatures=2).stage(one)

    r = post(lan, "/console/procedures/promote", "/console/procedures", bundle_id=new_id)
    assert r.status_code == 303
    assert index_for(app, OTHER) == new_id                     # every kiosk of the province
    assert index_for(app, ELSEWHERE) == "hanoi-base"            # another province's kiosks are not this admin's
    assert index_for(app, None) == "hanoi-base"                 # nor is a request that names no kiosk
    page = lan.get("/console/procedures").text
    assert 'id="pilot"' not in page and f'id="bundle-id">{new_id}<' in page and "10.000 đồng mỗi bản" in page

    with central.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id))]
    for a in ("draft_started", "draft_saved", "draft_sign_refused", "draft_submitted", "draft_approved", "pilot_add",
              "bundle_promoted"):
        assert a in actions, a
    assert not any(pin in json.dumps(actions) for pin in PINS.values())


def _only_first_signature(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    sigs = json.loads(entries["signatures.json"])
    sigs["signatures"] = sigs["signatures"][:1]
    entries["signatures.json"] = json.dumps(sigs).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in entries.items():
            zf.writestr(n, b)
    return buf.getvalue()


def test_the_central_process_cannot_read_a_signing_key_even_with_the_pin(app, central, hsm):
    """What the web process could try after an admin typed their PIN: read the key's value, or wrap
    (export) it. The token refuses both: the key was made inside it, sensitive and not extractable."""
    import pkcs11

    from common.pkcs11_signer import _session

    with _session(central.pkcs11_lib, "token-tinh01", PINS["tinh01"]) as session:
        key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="flows")
        with pytest.raises((pkcs11.exceptions.AttributeSensitive, pkcs11.exceptions.PKCS11Error)):
            key[pkcs11.Attribute.VALUE]
        assert key[pkcs11.Attribute.SENSITIVE] is True and key[pkcs11.Attribute.EXTRACTABLE] is False
    # and nothing the central system stores holds it: only the public key is in its database
    with central.engine.connect() as conn:
        from central.db import accounts

        stored = conn.execute(select(accounts.c.signing_public_key)).scalars().all()
    assert all(len(s) == 44 for s in stored if s)


def test_a_revert_is_a_new_change_signed_twice_and_the_other_province_sees_nothing(app, central, monkeypatch):
    lan = login(app, "tinh01")
    r = post(lan, "/console/procedures/trich-luc-ho-tich/draft", "/console/procedures/trich-luc-ho-tich",
             from_bundle="hanoi-base")
    assert r.status_code == 303
    page = lan.get(r.headers["location"]).text
    assert "Quay về nội dung của gói hanoi-base" in page
    # the preview shows the draft itself (the worker is central/console/preview.py, tested there)
    import hashlib

    from central.console import preview

    asked = []
    monkeypatch.setattr(preview, "start_preview", lambda _c, data: asked.append(data) or hashlib.sha256(data).hexdigest())
    p = post(lan, r.headers["location"] + "/preview", r.headers["location"])
    assert p.status_code == 303 and p.headers["location"] == f"/console/procedures/previews/{hashlib.sha256(asked[0]).hexdigest()}"
    assert asked[0].decode() == console.form_fields(page, "yaml-form")["yaml"]
    # the same flow again: the open draft, not a second one
    again = post(lan, "/console/procedures/trich-luc-ho-tich/draft", "/console/procedures/trich-luc-ho-tich")
    assert again.headers["location"] == r.headers["location"]
    app.state.console_accounts.add("tinh79", PASSWORD, "admin", "", "Quản trị TP.HCM", province_code="79")
    other = login(app, "tinh79")
    assert other.get(r.headers["location"]).status_code == 404
    assert other.get("/console/procedures/drafts/99999").status_code == 404
    assert other.get("/console/procedures/drafts/..%2F1").status_code == 404


def test_the_levels_offered_are_the_schemas():
    from central.drafts import LEVELS

    schema = json.loads((FLOWS.parent / "schema" / "flow.schema.json").read_text(encoding="utf-8"))
    assert set(LEVELS) == set(schema["properties"]["competent_level"]["enum"])


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.stem)
def test_saving_the_structured_form_unchanged_leaves_every_shipped_flow_byte_for_byte(path):
    """The form writes into the file (ruamel round trip): comments, order, quoting and indentation stay."""
    from central import drafts

    original = path.read_text(encoding="utf-8")
    f = drafts.fields_of(original)
    form = {"name_vi": f["name"]["vi"], "name_en": f["name"]["en"], "fee_amount": str(f["fee_amount"]),
            **({"fee_rate": str(f["fee_rate"])} if f["fee_rate"] is not None else {}),
            "fee_guide_vi": f["fee_guide"]["vi"], "fee_guide_en": f["fee_guide"]["en"],
            "processing_days": str(f["processing_days"]), "competent_level": f["competent_level"]}
    for i, d in enumerate(f["documents"]):
        form.update({f"doc{i}_name_vi": d["name"]["vi"], f"doc{i}_name_en": d["name"]["en"]})
        if d["bring_original"]:
            form[f"doc{i}_original"] = "1"
    for i, s in enumerate(f["steps"]):
        form.update({f"step{i}_title_vi": s["title"]["vi"], f"step{i}_title_en": s["title"]["en"]})
    assert drafts.apply_fields(original, form) == original
    form["fee_amount"] = "12.000"
    if f["fee_rate"] is not None:
        form["fee_rate"] = "9.000"
    changed = drafts.apply_fields(original, form)
    assert drafts.fields_of(changed)["fee_amount"] == 12000
    assert drafts.fields_of(changed)["fee_rate"] == (9000 if f["fee_rate"] is not None else None)
    assert [ln for ln in changed.splitlines() if ln.startswith("#")] == [ln for ln in original.splitlines() if ln.startswith("#")]


def test_a_flow_the_kiosk_reads_is_read_the_same_way_by_the_editor():
    """A plain '?' inside {…} loads on the kiosk (its YAML parser); PyYAML's pure-Python one refuses
    it. The editor reads drafts with the kiosk's parser, so such a flow can be drafted."""
    import yaml

    from central import drafts

    text = (FLOWS / "trich-luc-ho-tich.yaml").read_text(encoding="utf-8").replace(
        "title: {vi: Cần chuẩn bị gì, en: What you need}", "title: {vi: Cần chuẩn bị gì?, en: What you need?}")
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text)
    assert drafts.fields_of(text)["steps"][0]["title"] == {"vi": "Cần chuẩn bị gì?", "en": "What you need?"}
    assert drafts.check(text, "trich-luc-ho-tich", 1) == []


def test_hostile_edits_get_a_page_not_a_500_and_the_draft_is_kept(app, central):
    lan = login(app, "tinh01")
    r = post(lan, "/console/procedures/trich-luc-ho-tich/draft", "/console/procedures/trich-luc-ho-tich")
    url = r.headers["location"]
    before = form_fields(lan.get(url).text, "yaml-form")["yaml"]
    fields = form_fields(lan.get(url).text, "fields-form")
    for bad in ({"fee_rate": "mười nghìn"}, {"fee_amount": "-5"}, {"processing_days": "9" * 20},
                {"competent_level": "trung-uong"}):
        r = post(lan, url + "/fields", url, **{**fields, **bad})
        assert r.status_code == 400 and "<html" in r.text.lower(), (bad, r.status_code)
    r = post(lan, url + "/yaml", url, yaml="a: [" * 5000, reason="")          # not YAML, and deeply nested
    assert r.status_code == 303
    assert "dòng" in text(part(lan.get(url).text, "draft-problems"))
    r = post(lan, url + "/yaml", url, yaml="x" * (1024 * 1024), reason="")      # over the form's 1 MiB
    assert r.status_code == 413
    r = post(lan, url + "/submit", url, pin="")
    assert r.status_code == 400 and "PIN" in r.text
    post(lan, url + "/yaml", url, yaml=before, reason="")
    assert form_fields(lan.get(url).text, "yaml-form")["yaml"] == before
