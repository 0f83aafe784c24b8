"""The street list a citizen picks from (flows/streets.yaml): per commune, searchable without
accents, the street's name before its kind; a commune without a list has none (typed instead)."""
from __future__ import annotations

import yaml

from flows import units


def test_the_demo_wards_streets_are_listed_sorted_by_name_and_searchable_without_accents():
    names = units.streets("00004")  # Phường Ba Đình, the demo centre's ward
    assert "Phố Quán Thánh" in names and "Đường Thanh Niên" in names and len(names) == len(set(names))
    keys = [units._street_key(n) for n in names]
    from flows.text import fold
    assert [fold(k) for k in keys] == sorted(fold(k) for k in keys)
    assert units.search_streets("00004", "qu")[0] == "Phố Quán Thánh"      # starts-with first
    assert "Phố Cao Bá Quát" in units.search_streets("00004", "quat")
    assert units.search_streets("00004", "quan thanh") == ["Phố Quán Thánh"]
    assert units.search_streets("00004", "zzz") == []


def test_a_commune_without_a_list_has_no_streets():
    kim_lien = next(c for c in units.communes("01") if c.name == "Phường Kim Liên")
    assert units.streets(kim_lien.code) == [] and units.search_streets(kim_lien.code, "a") == []


def test_the_file_names_its_source_and_only_real_communes():
    data = yaml.safe_load(units.STREETS_FILE.read_text(encoding="utf-8"))
    assert "not an official list" in data["source"]
    assert all(units.commune(code) is not None for code in data["communes"])
