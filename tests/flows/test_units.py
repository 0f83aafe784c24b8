"""Administrative units after the 2025 reform, from vietnamadminunits' own data."""
from __future__ import annotations

from flows import units


def test_counts():
    ps = units.provinces()
    assert len(ps) == 34
    assert sum(len(units.communes(p.code)) for p in ps) == 3321
    assert units.province("01").name == "Thành phố Hà Nội"
    assert units.communes("99") == []


def test_commune_lookup_and_search():
    c = units.commune("00004")
    assert (c.name, c.province_code) == ("Phường Ba Đình", "01")
    assert units.commune("99999") is None
    for q in ("ba dinh", "Ba Đình", "PHUONG BA DINH"):
        assert units.search_communes("01", q)[0].code == "00004", q
    assert units.search_communes("79", "ba dinh") == []
    assert units.commune_in_province("00004", "01") and not units.commune_in_province("00004", "79")


def test_convert_old_address():
    r = units.convert_old_address("Số 5 Hàng Bún, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    assert r.commune.code == "00097" and r.street == "Số 5 Hàng Bún"
    assert r.text == "Số 5 Hàng Bún, Phường Hồng Hà, Thành phố Hà Nội"
    r = units.convert_old_address("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh")
    assert r.province.code == "79" and r.commune.name == "Phường Sài Gòn"


def test_new_address_passes_through():
    r = units.convert_old_address("Số 12 ngõ 34 phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội")
    assert r.commune.code == "00004" and not r.ambiguous and r.street == "Số 12 ngõ 34 phố Đội Cấn"


def test_unknown_address():
    assert units.convert_old_address("không có địa chỉ này") is None
    assert units.convert_old_address("") is None
    assert units.convert_old_address("x" * 1000) is None


def test_split_ward_is_flagged_ambiguous_without_geocoding(monkeypatch):
    # the package would geocode the street over the network for a split ward: it must not be asked to
    import vietnamadminunits.converter.converter_2025 as conv
    import vietnamadminunits.parser.utils as pu

    def no_network(*a, **k):
        raise AssertionError("geocoding attempted")

    monkeypatch.setattr(pu, "get_geo_location", no_network)
    monkeypatch.setattr(conv, "get_geo_location", no_network)
    r = units.convert_old_address("Số 1 phố Tây Đằng, Thị trấn Tây Đằng, Huyện Ba Vì, Thành phố Hà Nội")
    assert r.ambiguous and r.commune is not None and r.commune.province_code == "01"
    assert r.street == "Số 1 phố Tây Đằng"
