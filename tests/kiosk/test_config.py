from pathlib import Path

import pytest

from kiosk.config import ConfigError, hash_pin, load_config, verify_pin


def write(tmp_path, text):
    p = tmp_path / "override.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_load_and_paths_are_absolute():
    cfg = load_config(None)
    assert cfg["devices.printer"]["backend"] == "sim"
    assert cfg["outbox"]["path"].startswith("/")
    assert cfg["kiosk"]["language"] == "vi"


def test_override_changes_only_its_keys_and_resolves_paths_next_to_it(tmp_path):
    cfg = load_config(write(tmp_path, '[devices.printer]\nbackend = "network"\nhost = "10.0.0.5"\n[paths]\ndata_dir = "data"\n'))
    assert cfg["devices.printer"]["backend"] == "network"
    assert cfg["devices.printer"]["port"] == 9100
    assert cfg["paths"]["data_dir"] == str((tmp_path / "data").resolve())


def test_env_variable_names_override(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CONFIG", str(write(tmp_path, '[kiosk]\nlanguage = "en"\n')))
    assert load_config(None)["kiosk"]["language"] == "en"


@pytest.mark.parametrize(
    "text, names",
    [
        ('[devices.printer]\nbackend = "laser"\n', ["devices.printer.backend", "'usb'"]),
        ('[devices.printer]\ncolour = "red"\n', ["devices.printer.colour", "unknown key"]),
        ('[kiosk]\nidle_timeout_s = "90"\n', ["kiosk.idle_timeout_s", "whole number"]),
        ('[kiosk]\nidle_timeout_s = 1\n', ["kiosk.idle_timeout_s", "from 10"]),
        ('[central]\nurl = "ftp://x"\n', ["central.url", "http"]),
        ('[gadgets]\nx = 1\n', ["gadgets", "unknown section"]),
        ('[kiosk\n', ["not valid TOML"]),
        ('[kiosk]\nidle_warning_s = 100\n', ["idle_warning_s must be shorter"]),
    ],
)
def test_bad_values_name_the_key_and_what_is_expected(tmp_path, text, names):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    for n in names:
        assert n in str(err.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_redacted_config_hides_secrets():
    red = load_config(None).redacted()
    assert red["central"]["kiosk_secret"] == "<redacted>"
    assert red["maintenance"]["pin_hash"] == "<redacted>"


def test_pin_hash_roundtrip():
    h = hash_pin("135790")
    assert verify_pin("135790", h)
    assert not verify_pin("135791", h)
    assert not verify_pin("135790", "garbage")
    with pytest.raises(ValueError):
        hash_pin("12a4")


def test_config_check_accepts_the_keys_the_device_drivers_read(tmp_path, capsys):
    """latency_ms, reconnect_s and budget_ms were read by the drivers but refused by the schema."""
    import json

    from kiosk.tools.cli import main

    override = write(tmp_path, "[devices.idcard]\nlatency_ms = 250\n"
                               "[devices.qr]\nreconnect_s = 2.0\nbudget_ms = 60\npartial_line_s = 0.8\nmax_line = 2048\nrepeat_s = 5\n"
                               "[devices.camera]\nreconnect_s = 0.5\n")
    rc = main(["--config", str(override), "config", "check"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    merged = json.loads(out.out)["config"]
    assert merged["devices.idcard"]["latency_ms"] == 250.0
    assert merged["devices.qr"]["reconnect_s"] == 2.0 and merged["devices.qr"]["budget_ms"] == 60.0
    assert merged["devices.camera"]["reconnect_s"] == 0.5
    rc = main(["--config", str(write(tmp_path, "[devices.qr]\nbudget_ms = 0\n")), "config", "check"])
    assert rc != 0 and "devices.qr.budget_ms" in "".join(capsys.readouterr())


def test_device_sections_come_from_the_device_packages_with_their_defaults():
    import devices.camera.config as camera
    import devices.idcard.config as idcard
    import devices.printer.config as printer
    import devices.qr.config as qr
    from kiosk.config import SCHEMA

    cfg = load_config(None)
    for package in (idcard, qr, camera, printer):
        name = package.SECTION.name
        assert SCHEMA[name] == dict(package.KEYS)
        assert set(cfg[name]) == set(package.KEYS)  # a key config/kiosk.toml leaves out takes its default
    assert cfg["devices.qr"]["budget_ms"] == qr.DEFAULTS["budget_ms"]


@pytest.mark.parametrize("example", sorted((Path(__file__).resolve().parents[2] / "config" / "examples").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_examples_are_valid(example):
    """Every key an example sets is declared (an unknown key is an error) and every value checks."""
    load_config(example)


def test_config_check_names_a_picture_missing_from_device_pictures(tmp_path, capsys):
    """The identify screen quietly shows the shipped drawing for a missing photo: the technician
    learns it from `kiosk config check`."""
    import json
    import shutil

    from kiosk.deployment import SHIPPED_PICTURES
    from kiosk.tools.cli import main

    folder = tmp_path / "pictures"
    folder.mkdir()
    for name in ("card-qr.png", "phone-qr.png"):
        shutil.copy(SHIPPED_PICTURES / name, folder / name)
    override = write(tmp_path, f'[kiosk]\ndevice_pictures = "{folder}"\n')
    rc = main(["--config", str(override), "config", "check"])
    out = capsys.readouterr()
    found = json.loads(out.out)["problems"]
    assert rc == 1 and [p["key"] for p in found] == ["kiosk.device_pictures"]
    assert "card-reader.png" in found[0]["en"] and "card-reader.png" in out.err and found[0]["vi"]
    shutil.copy(SHIPPED_PICTURES / "card-reader.png", folder / "card-reader.png")
    assert main(["--config", str(override), "config", "check"]) == 0, capsys.readouterr().err
