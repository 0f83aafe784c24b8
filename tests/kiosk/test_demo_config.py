"""`make demo` / `kiosk demo` and the UI tests write only under their own folder, never into the
repository's var/ (the installed kiosk's data): every path the kiosk may write is checked."""
from pathlib import Path

from kiosk.config import DATABASE, SCHEMA
from kiosk.tools.demo import demo_config

# read, never written: the shipped flows and media, the CSCA certificates, TLS files, the PKCS#11 library
READ_ONLY = {("paths", "flows_dir"), ("paths", "media_dir"), ("devices.idcard", "trust_store"),
             ("central", "ca_file"), ("central", "client_cert"), ("central", "client_key"), ("central", "pkcs11_lib")}


def test_every_written_path_of_the_demo_config_is_under_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # where `make demo` runs
    folder = tmp_path / "demo" / "kiosk"
    cfg = demo_config(folder)
    checked = []
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            if (spec.kind != "path" and spec is not DATABASE) or (section, key) in READ_ONLY:
                continue
            value = cfg[section][key]
            if value:
                assert Path(value).is_relative_to(folder), f"[{section}].{key} = {value} is outside {folder}"
                checked.append(key)
    assert {"data_dir", "database", "path", "key_file", "bundle_dir", "out_dir", "spool_dir", "file"} <= set(checked)
