"""[central].database resolves from the config file that names it, like every path in the config
(README: "relative paths are relative to the file that names them"), not from the current directory."""
from pathlib import Path

from central.server import central_from_config
from kiosk.config import load_config


def test_relative_database_lands_next_to_the_config_file(tmp_path, monkeypatch):
    conf = tmp_path / "site" / "kiosk.toml"
    conf.parent.mkdir()
    conf.write_text('[central]\ndatabase = "central.sqlite3"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(conf)
    assert cfg["central"]["database"] == str(tmp_path / "site" / "central.sqlite3")
    central = central_from_config(cfg)
    try:
        assert central.count_dossiers() == 0
    finally:
        central.close()
    assert (tmp_path / "site" / "central.sqlite3").is_file()
    assert list(elsewhere.iterdir()) == []


def test_the_shipped_default_resolves_from_config_folder_and_urls_stay_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path(__file__).resolve().parents[2]
    assert load_config()["central"]["database"] == str(root / "var" / "central" / "central.sqlite3")
    conf = tmp_path / "pg.toml"
    conf.write_text('[central]\ndatabase = "postgresql://kiosk@db.example:5432/central"\n', encoding="utf-8")
    assert load_config(conf)["central"]["database"] == "postgresql://kiosk@db.example:5432/central"
    home = tmp_path / "home.toml"
    home.write_text('[central]\ndatabase = "~/central.sqlite3"\n', encoding="utf-8")
    assert load_config(home)["central"]["database"] == str(Path("~/central.sqlite3").expanduser())
