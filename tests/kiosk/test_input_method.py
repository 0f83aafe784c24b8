import pytest

from kiosk.ui.input_method import Composer, compose, compose_text


@pytest.mark.parametrize(
    "raw, want",
    [
        ("Nguyeenx Vaawn", "Nguyễn Văn"),
        ("Traanf Thij Ngocj Anhs", "Trần Thị Ngọc Ánh"),
        ("ddaawng kys khai sinh", "đăng ký khai sinh"),
        ("Hoaf", "Hòa"),
        ("thuyr", "thủy"),
        ("nguwowfi", "người"),
        ("DDoox", "Đỗ"),
        ("quas", "quá"),
        ("gias", "giá"),
        ("tieengs Vieetj", "tiếng Việt"),
        ("Huwowng", "Hương"),
        ("chuyeenr", "chuyển"),
        ("w", "ư"),
        ("ass", "as"),       # repeating the tone key undoes it
        ("aaa", "aa"),       # repeating the mark key undoes it
        ("hoaz", "hoaz"),   # z with no tone to remove is a letter
        ("hoafz", "hoa"),
        ("email", "email"),
    ],
)
def test_telex(raw, want):
    assert compose_text(raw, "telex") == want


@pytest.mark.parametrize(
    "raw, want",
    [
        ("Nguye64n Va8n", "Nguyễn Văn"),
        ("d9a8ng ky1", "đăng ký"),
        ("nguo72i", "người"),
        ("Ho2a", "Hòa"),
    ],
)
def test_vni(raw, want):
    assert compose_text(raw, "vni") == want


def test_composer_backspace_drops_a_keystroke_not_a_letter():
    c = Composer()
    for ch in "Vaawn":
        c.key(ch)
    assert c.text == "Văn"
    c.backspace()  # drop "n"
    assert c.text == "Vă"
    c.backspace()  # drop "w": â comes back
    assert c.text == "Vâ"
    c.key(" ")
    c.key("A")
    assert c.text == "Vâ A"


def test_off_mode_types_literally():
    assert compose_text("Nguyeenx", "off") == "Nguyeenx"


def test_result_is_nfc():
    import unicodedata

    s = compose_text("Nguyeenx Thij Thu Huwowng", "telex")
    assert s == unicodedata.normalize("NFC", s)
