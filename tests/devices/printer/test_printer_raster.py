from __future__ import annotations

import pytest

from devices.printer import raster
from devices.printer.profiles import get_profile


@pytest.mark.parametrize("name,dots", [("58mm", 384), ("80mm", 576)])
def test_bands_are_the_profile_width(name, dots):
    p = get_profile(name)
    assert p.dots_per_line == dots
    band = raster.render_text("Giấy tiếp nhận hồ sơ " * 6, dots, p.sizes)
    assert band.mode == "1" and band.width == dots


def test_wrapping_keeps_every_line_inside_the_width():
    p = get_profile("58mm")
    text = "Căn cước của người đi đăng ký khai sinh và giấy chứng sinh bản chính " * 3
    lines = raster.layout_lines([raster.Run(text)], 384, p.sizes)
    assert len(lines) > 3
    from devices.printer.fonts import font
    f = font("regular", p.sizes["normal"])
    for line in lines:
        x, word, *_ = line[-1]
        assert x + f.getlength(word) <= 384
    # nothing lost or reordered
    words = [w for line in lines for _, w, *_ in line]
    assert words == text.split()


def test_a_word_longer_than_the_line_is_broken():
    p = get_profile("58mm")
    word = "000.00.04.H26-261123-0001-" * 4
    lines = raster.layout_lines([raster.Run(word, "large_bold")], 384, p.sizes)
    assert len(lines) >= 2 and "".join(w for line in lines for _, w, *_ in line) == word
    # codes break after a separator, not in the middle of a number
    assert all(line[0][1][-1] in "-./" for line in lines[:-1])


def test_centring_and_right_alignment():
    p = get_profile("80mm")

    def ink_columns(img):
        cols = [x for x in range(img.width) if any(img.getpixel((x, y)) == 0 for y in range(img.height))]
        return cols[0], cols[-1]

    left = ink_columns(raster.render_text("Hẹn trả", 576, p.sizes, "bold", "left"))
    centre = ink_columns(raster.render_text("Hẹn trả", 576, p.sizes, "bold", "center"))
    right = ink_columns(raster.render_text("Hẹn trả", 576, p.sizes, "bold", "right"))
    assert left[0] < 4
    assert abs((centre[0] + centre[1]) / 2 - 288) <= 3
    assert right[1] >= 576 - 4


def test_styles_differ_in_size_and_weight():
    p = get_profile("80mm")
    heights = {s: raster.render_text("Số", 576, p.sizes, s).height for s in ("small", "normal", "large", "huge")}
    assert heights["small"] < heights["normal"] < heights["large"] < heights["huge"]

    def ink(img):
        return img.width * img.height - sum(img.convert("L").point(lambda v: v // 255).getdata())

    assert ink(raster.render_text("Số thứ tự", 576, p.sizes, "bold")) > ink(raster.render_text("Số thứ tự", 576, p.sizes))


def test_stacked_marks_are_not_clipped_by_the_line_box():
    from PIL import Image, ImageDraw

    from devices.printer.fonts import font

    p = get_profile("80mm")
    for ch in "ẨỂỔẪỰỵ":
        band = raster.render_text(ch, 576, p.sizes, "bold")
        free = Image.new("L", (200, 200), 255)  # the same glyph with room to spare
        ImageDraw.Draw(free).text((10, 100), ch, font=font("bold", p.sizes["normal"]), fill=0, anchor="ls")
        free = raster.to_band(free)
        ink = lambda im: im.width * im.height - sum(im.convert("L").point(lambda v: v // 255).getdata())  # noqa: E731
        assert ink(band) == ink(free), ch


def test_unknown_style_is_refused():
    with pytest.raises(ValueError):
        raster.render_text("x", 576, get_profile("80mm").sizes, "blinking")


def test_banner_is_white_on_black_all_round():
    p = get_profile("80mm")
    b = raster.banner("CHƯA GỬI", 576, p.sizes, "xlarge_bold")
    pad = p.sizes["normal"] // 2
    black_rows = lambda rows: all(b.getpixel((x, y)) == 0 for y in rows for x in range(0, 576, 3))  # noqa: E731
    assert black_rows(range(pad)) and black_rows(range(b.height - pad, b.height))
    assert any(b.getpixel((x, y)) != 0 for y in range(pad, b.height - pad) for x in range(576))  # the letters
