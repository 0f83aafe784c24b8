"""The APDU log on disk: one redacted file per read, newest N kept, 0600; and nothing personal in it,
whatever the card held (the virtual card's data sets, devices/idcard/vcard/datasets.py)."""
from __future__ import annotations

import datetime as dt
import os
import re
import stat

import pytest

from devices.idcard import AccessKey, open_reader
from devices.idcard.apdu_log import ApduLogWriter, format_log
from devices.idcard.errors import WrongKey
from devices.idcard.reader import AccessKey as AK
from devices.idcard.vcard.datasets import DATASETS

from _idcard_helpers import TRUST

AT = dt.datetime(2026, 11, 23, 8, 15, 3)


def personal_values(name: str) -> list[str]:
    """Every form a data set's personal data could take in a log: as printed, in the MRZ, as a key."""
    c = DATASETS[name].citizen
    values = [c.id_number, c.id_number[-9:], c.id_number[-6:], c.full_name, c.full_name.upper(),
              c.surname_mrz + "<<" + c.given_mrz.replace(" ", "<"), c.given_mrz,
              f"{c.birth:%d/%m/%Y}", f"{c.birth:%d%m%Y}", f"{c.birth:%y%m%d}", c.birth.isoformat(),
              f"{c.issued:%d/%m/%Y}", f"{c.issued:%d%m%Y}"]
    for v in (c.old_id, c.father, c.mother, c.spouse, c.residence, c.home_town):
        if v:
            values.append(v)
    if c.residence:
        values.append(c.residence.split(",")[0])
    return values


def check_clean(text: str, name: str) -> None:
    for value in personal_values(name):
        assert value not in text, f"{value!r} in the APDU log"
    # no data-group contents, keys or nonces: nothing longer than the eMRTD AID (14 hex digits)
    runs = re.findall(r"[0-9A-Fa-f]{16,}", text)
    assert runs == [], runs


def only_file(folder):
    files = sorted(folder.iterdir())
    assert len(files) == 1, files
    return files[0]


def test_format_log_has_a_header_and_redacts_every_line():
    text = format_log(["001 SELECT P1P2=020C Lc=2 [011C] -> 0 bytes SW=9000 (wire 7/2)",
                       "a careless line about Trần Thị Ngọc Ánh 001185012345"],
                      at=AT, reader="Virtual PCD 00 00",
                      quirks={"entry": "virtual-pcd", "read_sizes": [65536, 256], "protocols": ["T1"], "firmware": "1.02",
                              "warnings": ["old firmware"], "overrides": ["read_chunk = 64"]},
                      outcome="ok", stats={"apdus": 31, "block": 65536, "seconds": 0.5, "file_sizes": {"DG13": 700}})
    assert text.startswith("# card read at 2026-11-23T08:15:03\n# reader: Virtual PCD 00 00\n")
    assert "# quirks: entry virtual-pcd, sizes [65536, 256], protocols T1, firmware 1.02" in text
    assert "# warning: old firmware" in text and "# override: read_chunk = 64" in text
    assert "# stats: apdus 31, block 65536, seconds 0.5" in text and "# outcome: ok" in text
    assert "001 SELECT P1P2=020C Lc=2 [011C]" in text and "DG13" not in text
    assert "Ngọc Ánh" not in text and "001185012345" not in text


def test_writer_keeps_the_newest_n_files_0600_in_a_0700_folder(tmp_path, clock):
    folder = tmp_path / "apdu"
    w = ApduLogWriter(folder, keep=3)
    clock.freeze("2026-11-23T08:15:00")
    paths = [w.write(f"log {i}\n") for i in range(5)]     # same second: numbered, still in order
    assert [p.name for p in paths[:2]] == ["read-20261123-081500-000.log", "read-20261123-081500-001.log"]
    clock.set_now("2026-11-23T09:00:00")
    paths.append(w.write("log 5\n"))
    kept = w.files()
    assert [p.read_text() for p in kept] == ["log 3\n", "log 4\n", "log 5\n"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (folder / "notes.txt").write_text("a technician's own file stays")
    w.write("log 6\n")
    assert (folder / "notes.txt").exists() and len(w.files()) == 3


def test_writer_with_keep_0_writes_nothing_and_a_bad_folder_never_raises(tmp_path):
    assert ApduLogWriter(tmp_path / "off", keep=0).write("x") is None and not (tmp_path / "off").exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert ApduLogWriter(blocker / "apdu", keep=5).write("x") is None


@pytest.mark.parametrize("name, key", [
    ("default", lambda c: AccessKey.from_can(c.id_number[-6:])),
    ("old2021", lambda c: AccessKey.from_mrz(c.id_number, c.birth, c.expiry)),      # BAC with the MRZ key
    ("new2024", lambda c: AccessKey.from_can(c.id_number[-6:])),
    ("noexpiry", lambda c: AK(mrz_info=AccessKey.from_qr(
        f"{c.id_number}|{c.old_id}|{c.full_name}|{c.birth:%d%m%Y}|{c.sex}|{c.residence}|{c.issued:%d%m%Y}").mrz_info)),
])
def test_a_read_of_the_virtual_card_leaves_a_log_with_no_personal_data(tmp_path, name, key):
    folder = tmp_path / "apdu"
    reader = open_reader({"backend": "sim", "dataset": name, "trust_store": TRUST, "apdu_log_dir": str(folder)})
    r = reader.read(key(DATASETS[name].citizen), groups=("DG1", "DG2", "DG13"))
    assert r.verified
    text = only_file(folder).read_text(encoding="utf-8")
    assert "# outcome: ok" in text and "READ BINARY" in text and f"block {r.stats['block']}" in text
    assert len([line for line in text.splitlines() if not line.startswith("#")]) == r.stats["apdus"]
    check_clean(text, name)
    check_clean("\n".join(r.apdu_log), name)


def test_a_failed_read_leaves_its_log_too(tmp_path):
    folder = tmp_path / "apdu"
    reader = open_reader({"backend": "sim", "trust_store": TRUST, "apdu_log_dir": str(folder), "apdu_log_keep": 2})
    with pytest.raises(WrongKey):
        reader.read(AccessKey.from_can("999999"))
    text = only_file(folder).read_text(encoding="utf-8")
    assert "# outcome: error: WrongKey" in text and "GENERAL AUTH" in text
    check_clean(text, "default")
    for _ in range(3):
        reader.read(AccessKey.from_can("012345"))
    assert len(list(folder.iterdir())) == 2                    # apdu_log_keep
    assert all(os.stat(p).st_mode & 0o077 == 0 for p in folder.iterdir())


def test_no_folder_no_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    open_reader({"backend": "sim", "trust_store": TRUST}).read(AccessKey.from_can("012345"))
    assert list(tmp_path.iterdir()) == []
