"""The screen audit's measurements on synthetic images with known colours (no Kivy): WCAG ratios,
the background and ink of anti-aliased text, control edges with and without a border."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from kiosk.tools import contrast

WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def solid(colour, w=200, h=80):
    return np.full((h, w, 3), colour, dtype=np.uint8)


def text_image(fg, bg, text="Họ và tên người nộp hồ sơ", size=32, w=700, h=60, bold=False):
    """Anti-aliased text, drawn by FreeType (PIL) with the kiosk's own font."""
    from devices.printer.fonts import FONT_DIR, FONT_FILES

    font = ImageFont.truetype(str(FONT_DIR / FONT_FILES["bold" if bold else "regular"]), size)
    im = Image.new("RGB", (w, h), bg)
    ImageDraw.Draw(im).text((8, 8), text, font=font, fill=fg)
    return np.asarray(im)


@pytest.mark.parametrize("a, b, expected", [
    (WHITE, BLACK, 21.0),
    ((0x76, 0x76, 0x76), WHITE, 4.54),     # the well-known lightest grey that passes AA on white
    ((0x59, 0x59, 0x59), WHITE, 7.0),      # and AAA
    ((255, 0, 0), WHITE, 4.0),
    ((255, 255, 255), (0xf5, 0xf7, 0xfa), 1.07),  # issue 18's invisible input field
])
def test_contrast_ratio_of_known_pairs(a, b, expected):
    assert contrast.contrast_ratio(a, b) == pytest.approx(expected, rel=0.01)
    assert contrast.contrast_ratio(b, a) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("fg, bg", [
    (BLACK, WHITE), ((0x76, 0x76, 0x76), WHITE), ((255, 217, 0), (0, 0, 0)),
    ((255, 255, 255), (176, 23, 31)), ((20, 26, 36), (245, 247, 250)), ((230, 230, 230), (38, 38, 38)),
])
def test_solid_blocks_give_the_known_ratio_within_2_percent(fg, bg):
    img = solid(bg, 300, 100)
    img[30:70, 40:260] = fg  # a thick bar of "ink": no anti-aliasing at all
    tc = contrast.text_colours(img)
    assert tc is not None
    assert tc.ratio == pytest.approx(contrast.contrast_ratio(fg, bg), rel=0.02)
    assert np.abs(tc.background - bg).max() <= 2 and np.abs(tc.ink - fg).max() <= 2


@pytest.mark.parametrize("fg, bg, size, bold", [
    ((20, 26, 36), (245, 247, 250), 32, False),    # the normal theme's body text
    ((82, 92, 107), (245, 247, 250), 24, False),   # its muted small text
    ((255, 255, 255), (176, 23, 31), 34, True),    # a primary button's label
    ((255, 217, 0), (0, 0, 0), 24, False),         # high contrast: yellow on black
    ((230, 230, 230), (25, 25, 25), 24, False),
])
def test_anti_aliased_text_is_measured_near_its_true_colours(fg, bg, size, bold):
    img = text_image(fg, bg, size=size, bold=bold)
    # anti-aliasing made many in-between shades: the extreme pixel is not the measure
    shades = {tuple(p) for p in img.reshape(-1, 3)}
    assert len(shades) > 20
    tc = contrast.text_colours(img)
    assert tc is not None
    assert np.abs(tc.background - bg).max() <= 3
    assert np.abs(tc.ink - np.array(fg)).max() <= 24, (tc.ink, fg)
    assert tc.ratio == pytest.approx(contrast.contrast_ratio(fg, bg), rel=0.06)


def test_a_stray_pixel_does_not_decide_the_measure():
    """Light grey text with one black pixel (a neighbour's corner, a cursor dot): a min/max
    measure would say 19:1; the robust one says what the text shows."""
    fg, bg = (170, 170, 170), WHITE
    img = text_image(fg, bg).copy()
    img[2, 2] = BLACK
    img[3, 3] = BLACK
    tc = contrast.text_colours(img)
    assert tc.ratio == pytest.approx(contrast.contrast_ratio(fg, bg), rel=0.06)
    assert tc.ratio < contrast.AA_TEXT


def test_low_contrast_text_fails_and_good_text_passes_the_thresholds():
    poor = contrast.text_colours(text_image((150, 150, 150), WHITE))
    good = contrast.text_colours(text_image((60, 60, 60), WHITE))
    assert poor.ratio < contrast.AA_TEXT < good.ratio
    assert good.ratio < contrast.AAA_TEXT + 5


def test_a_crop_without_ink_has_no_text_colours():
    assert contrast.text_colours(solid((240, 240, 240))) is None
    noisy = solid((240, 240, 240)).copy()
    noisy[::7, ::5] = (236, 242, 238)  # dithering, not ink
    assert contrast.text_colours(noisy) is None


def page_with_box(page, fill, border=None, border_w=2, rect=(100, 60, 400, 160)):
    img = solid(page, 500, 220).copy()
    x0, y0, x1, y1 = rect
    img[y0:y1, x0:x1] = fill
    if border is not None:
        img[y0:y0 + border_w, x0:x1] = border
        img[y1 - border_w:y1, x0:x1] = border
        img[y0:y1, x0:x0 + border_w] = border
        img[y0:y1, x1 - border_w:x1] = border
    return img, rect


def test_edge_of_a_filled_control_against_the_page():
    img, rect = page_with_box((245, 247, 250), (176, 23, 31))
    ec = contrast.edge_contrast(img, rect)
    assert ec.ratio == pytest.approx(contrast.contrast_ratio((245, 247, 250), (176, 23, 31)), rel=0.02)
    assert set(ec.sides) == {"top", "bottom", "left", "right"}


def test_an_invisible_field_is_found_and_a_border_makes_it_visible():
    """Issue 18 point 7: a white field on #f5f7fa is 1.07:1; a dark border is its edge."""
    page, field = (245, 247, 250), (255, 255, 255)
    img, rect = page_with_box(page, field)
    assert contrast.edge_contrast(img, rect).ratio < 1.1
    img, rect = page_with_box(page, field, border=(90, 90, 90))
    ec = contrast.edge_contrast(img, rect)
    assert ec.ratio == pytest.approx(contrast.contrast_ratio((90, 90, 90), page), rel=0.02)
    assert ec.ratio >= contrast.NON_TEXT


def test_the_weakest_side_decides_and_text_inside_does_not_count():
    img, rect = page_with_box((255, 255, 255), (20, 20, 20))
    img[150:220, :] = (30, 30, 30)  # the page under the box is dark: its bottom edge is not seen
    img[95:125, 150:350] = (255, 255, 255)  # the control's own white label
    ec = contrast.edge_contrast(img, rect)
    assert ec.ratio < 1.2 and min(ec.sides, key=lambda k: ec.sides[k][0]) == "bottom"
    assert contrast.edge_contrast(img, rect, skip=("bottom",)).ratio > 15


def test_edges_out_of_the_image_are_not_measured():
    img = solid((255, 255, 255), 300, 100).copy()
    img[0:100, 0:300] = (200, 0, 0)  # a control that fills the image: nothing is outside it
    assert contrast.edge_contrast(img, (0, 0, 300, 100)) is None


def test_kivy_colours_and_blending():
    assert tuple(contrast.from_unit((1, 0.5, 0, 1))) == (255, 127.5, 0)
    # white at 18 % over the header red, as the header's buttons are drawn
    mixed = contrast.blend((1, 1, 1, 0.18), (0.69, 0.09, 0.12, 1))
    assert mixed == pytest.approx([(0.69 * 0.82 + 0.18) * 255, (0.09 * 0.82 + 0.18) * 255, (0.12 * 0.82 + 0.18) * 255])
    assert contrast.hex_colour((255, 0, 16)) == "#ff0010"
