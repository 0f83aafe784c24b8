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
