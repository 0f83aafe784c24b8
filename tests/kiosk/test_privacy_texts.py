"""What the kiosk tells people about their personal data cites the law in force (Law on Personal
Data Protection No. 91/2025/QH15 and Decree 356/2025/NĐ-CP since 1 January 2026; Decree
13/2023/NĐ-CP is replaced), and docs/privacy.md stays true to the code it describes."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
import yaml

from flows.steps.submit import DEFAULT_CONSENT
from kiosk.services import PRIVACY_NOTE, PROVISIONAL_NOTES, RECEIPT_NOTES

ROOT = Path(__file__).resolve().parents[2]
LAW = "91/2025/QH15"
NEW = re.compile(r"91/2025/QH15|356/2025/N[ĐD]-CP")
OLD = "13/2023"

# Every shipped text a citizen, a centre or an admin reads.
SHIPPED = sorted({
    *(ROOT / "flows" / "definitions").glob("*.yaml"),
    ROOT / "kiosk" / "ui" / "texts.yaml",
    ROOT / "flows" / "steps" / "submit.py",
    ROOT / "kiosk" / "services.py",
    ROOT / "README.md",
    *(ROOT / "docs").glob("*.md"),
    *(ROOT / "media" / "help").glob("*/*.vtt"),
    *(ROOT / "devices" / "printer" / "layouts").glob("*.yaml"),
})


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shipped_text_gives_decree_13_2023_as_the_law_in_force(path):
    """Decree 13/2023 may be named only beside the law that replaced it (as history), never alone."""
    for para in _paragraphs(path.read_text(encoding="utf-8")):
        if OLD in para:
            assert NEW.search(para), f"{path.relative_to(ROOT)} cites {OLD} without the law in force:\n{para[:300]}"


def test_the_scan_covers_the_texts_it_claims():
    names = {p.relative_to(ROOT).as_posix() for p in SHIPPED}
    assert {"kiosk/ui/texts.yaml", "kiosk/services.py", "docs/privacy.md", "README.md",
            "flows/definitions/khai-sinh.yaml"} <= names
    assert sum(n.endswith(".vtt") for n in names) >= 100


def test_the_default_consent_cites_the_law_in_both_languages():
    assert LAW in DEFAULT_CONSENT["vi"] and "Luật Bảo vệ dữ liệu cá nhân" in DEFAULT_CONSENT["vi"]
    assert LAW in DEFAULT_CONSENT["en"] and "Law on Personal Data Protection" in DEFAULT_CONSENT["en"]


def test_both_receipts_end_with_the_privacy_note():
    assert RECEIPT_NOTES[-1] == PROVISIONAL_NOTES[-1] == PRIVACY_NOTE
    assert LAW in PRIVACY_NOTE and "Luật Bảo vệ dữ liệu cá nhân" in PRIVACY_NOTE
    assert "quầy một cửa" in PRIVACY_NOTE  # where to ask
    assert "mã hóa" in PROVISIONAL_NOTES[0] and "xóa" in PROVISIONAL_NOTES[0]  # kept encrypted, then deleted


# notes print at the normal size since issue #18 (never smaller than the printer's normal text)
@pytest.mark.parametrize(("profile", "lines"), [("80mm", 4), ("58mm", 5)])
def test_the_privacy_note_stays_short_on_paper(profile, lines):
    from devices.printer import render_preview

    data = {"centre_name": "Trung tâm", "dossier_code": "X-1", "procedure_name": "Đăng ký khai sinh",
            "procedure_code": "1.001193", "applicant_name": "Trần Thị Ngọc Ánh", "applicant_id": "001185012345",
            "fee": "Miễn phí", "received_at": dt.datetime(2026, 11, 23, 8, 15), "appointment_date": dt.date(2026, 11, 23),
            "handling_unit": "Phường Ba Đình", "lookup_qr": "KIOSKVN2|X-1|s|1.001193|2026-11-23T08:15|2026-11-23"}

    def height(notes):
        return render_preview("receipt", {**data, "notes": notes}, profile).size[1]

    one_line = height(["a", "b"]) - height(["a"])
    assert height(["a", PRIVACY_NOTE]) - height(["a"]) <= lines * one_line


def test_refusing_consent_points_to_the_desk():
    texts = yaml.safe_load((ROOT / "kiosk" / "ui" / "texts.yaml").read_text(encoding="utf-8"))
    needed = texts["consent.needed"]
    assert "tại quầy" in needed["vi"] and "desk" in needed["en"]
    # the one screen that agrees and files says it too, beside its one button (issue #18)
    hint = texts["submit.consent_hint"]
    assert "tại quầy" in hint["vi"] and "desk" in hint["en"] and texts["submit.agree"]["vi"] in hint["vi"]


def test_privacy_doc_lists_the_sums_of_the_consent_texts_in_use():
    """A dossier records the sha256 of the text shown: the doc must let anyone match it to words."""
    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    for lang in ("vi", "en"):
        assert hashlib.sha256(DEFAULT_CONSENT[lang].encode()).hexdigest() in doc, lang


def test_privacy_doc_covers_each_duty_and_is_linked_from_the_readme():
    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    headings = [line for line in doc.splitlines() if line.startswith("## ")]
    for duty in ("Purpose", "Consent", "Minimisation", "Retention", "deletion on request", "Breach notice", "Sources"):
        assert any(duty.lower() in h.lower() for h in headings), duty
    assert "72 hours" in doc and "Article 19(1)(c)" in doc and "Article 9" in doc
    assert re.search(r"https://\S*91-2025-qh15", doc) and re.search(r"https://\S*356-2025", doc)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    privacy = readme.split("## Privacy", 1)[1].split("\n## ", 1)[0]
    assert "docs/privacy.md" in privacy and LAW in privacy


def test_privacy_doc_names_only_code_that_exists():
    """Each `path/file.py` (and the like) the doc points to is in the repository."""
    doc = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:common|kiosk|devices|flows|central)/[\w/.-]+\.(?:py|yaml|json))", doc))
    assert len(paths) >= 10
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing
