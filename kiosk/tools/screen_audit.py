"""The measured screen audit (issue 18, Deliver 8): what a citizen sees on the current screen,
checked from the widget tree and from the real pixels of a screenshot.

(a) text not clipped: a label's rendered text larger than its box, lines dropped by a fixed
    ``text_size`` height, text shortened with "…", a word too long for its line (Kivy cuts it
    mid-word), a widget outside the window with no ScrollView to bring it in (partly outside a
    ScrollView's visible area is scrolling, not clipping), a scroll area squeezed below one row
    (``TOUCH_MIN``) while its content goes on;
(b) contrast measured on the screenshot: each visible text's ink against its background
    (4.5:1, 7:1 in the high-contrast theme) and each control's edge against what surrounds it
    (3:1), with ``kiosk.tools.contrast``;
(c) every control (a button, an input field) at least ``TOUCH_MIN`` in both directions and
    16 px from every other control; keys of the on-screen keyboard may sit closer to each other
    (their sizes are reported in the stats);
(d) a widget with ``kiosk_role`` "help_call" and one with "speech_key" on every screen, and
    "step_indicator" on every step screen ("step-*") and the pay screen, in the screen's tree or
    an open ModalView.

Text drawn over other text or a control is reported (overlap). Nothing is exempt: the "còn nữa ▼"
cue of a scroll area (kiosk.ui.widgets.common.ScrollCue) is a label like any other, so a cue over
a line of text is found like any label would be.

``audit(app, img, ...)`` measures one rendered state; ``audit_variants(driver, ...)`` switches
the screen through language/theme/text-size variants (the citizen's own header buttons do the
same), measures each and puts the screen back as it was.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kiosk.tools import contrast

MIN_GAP = 16                 # px between two controls (issue 18 Deliver 8 (c))
ROLES = ("step_indicator", "help_call", "speech_key")
# screens of a procedure that are no step of the flow but stand among its steps: the pay screen
# (kiosk/ui/screens/pay.py, between the submit and the receipt) says "Bước 11 trên 11" too
STEP_LIKE_SCREENS = ("pay",)


def needs_step_indicator(screen: str) -> bool:
    return screen.startswith("step-") or screen in STEP_LIKE_SCREENS


@dataclass
class Finding:
    screen: str
    lang: str
    theme: str               # "normal" / "high_contrast"
    large_text: bool
    kind: str                # clipped, lines_cut, ellipsised, word_split, off_window, overlap, squeezed, text_contrast,
                             # edge_contrast, too_small, too_close, missing_role, two_primaries
    text: str                # the widget's text (or what it is, for a widget without text)
    value: float | None      # the measured value (ratio, px)
    threshold: float | None
    bbox: list[int]          # x, y, width, height in screenshot pixels (top-left origin)
    detail: str = ""
    shot: str = ""           # the annotated screenshot, when one was written

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Variant:
    lang: str
    high_contrast: bool = False
    large_text: bool = False

    @property
    def name(self) -> str:
        return f"{self.lang}-{'hc' if self.high_contrast else 'normal'}{'-large' if self.large_text else ''}"


# Every screen in both languages in both themes (BASE), and at ×2 text in Vietnamese (the longest
# words) in both themes; in the order that needs the fewest switches (each rebuilds the screen):
# one toggle from each variant to the next, and one back to where the app started (vi-normal).
BASE = (Variant("vi"), Variant("en"), Variant("en", True), Variant("vi", True))
LARGE = (Variant("vi", True, True), Variant("vi", False, True))
VARIANTS = BASE + LARGE


@dataclass
class _Seen:
    w: object
    rect: tuple              # x0, y0, x1, y1 in image pixels (top-down), the whole widget
    visible: tuple | None    # the part not cut by a ScrollView or the window; None: nothing shows
    clip: tuple              # the stencil (ScrollView) area it is drawn in, image pixels
    scroll: object           # the nearest ScrollView ancestor, or None
    keyboard: object         # the on-screen keyboard it belongs to, or None
    disabled: bool


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


# --- pixels ---------------------------------------------------------------------------------------
def grab(driver) -> np.ndarray:
    """The window's pixels as an RGB array, row 0 at the top (the driver's screenshot order)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels

    driver.pump(3)
    w, h = (int(v) for v in Window.size)
    data = glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE)
    img = np.frombuffer(data, dtype=np.uint8)
    # GL rows may be padded to 4 bytes
    stride = len(img) // h
    img = img.reshape(h, stride)[:, : w * 3].reshape(h, w, 3)
    return np.ascontiguousarray(img[::-1])


def load_png(path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


# --- the widget tree ------------------------------------------------------------------------------
def _roots(app):
    """The current screen, then open ModalViews (top-most last)."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    modals = [w for w in reversed(Window.children) if isinstance(w, ModalView)]
    return [app.sm.current_screen, *modals]


def _intersect(a, b):
    if a is None or b is None:
        return None
    r = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return r if r[2] - r[0] > 0.5 and r[3] - r[1] > 0.5 else None


def _image_rect(w, height):
    x, y = w.to_window(w.x, w.y)
    return (x, height - (y + w.height), x + w.width, height - y)


def _collect(root, win_h, win_rect):
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.stencilview import StencilView

    from kiosk.ui.widgets.keyboard import NumPad, VnKeyboard

    out = []

    def visit(w, clip, scroll, keyboard, opacity, disabled):
        opacity = opacity * getattr(w, "opacity", 1)
        if opacity < 0.05:
            return
        disabled = disabled or bool(getattr(w, "disabled", False))
        rect = _image_rect(w, win_h)
        seen = _Seen(w, rect, _intersect(_intersect(rect, clip), win_rect), clip, scroll, keyboard, disabled)
        out.append(seen)
        if isinstance(w, StencilView):
            clip = _intersect(clip, rect) or (rect[0], rect[1], rect[0], rect[1])
        if isinstance(w, ScrollView):
            scroll = w
        if isinstance(w, (VnKeyboard, NumPad)):
            keyboard = w
        for child in w.children:
            visit(child, clip, scroll, keyboard, opacity, disabled)

    visit(root, win_rect, None, None, 1.0, False)
    return out


def _is_control(w) -> bool:
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    return isinstance(w, (ButtonBehavior, TextInput)) or getattr(w, "kiosk_role", None) in ("help_call", "speech_key")


def _is_secret_tap(s: _Seen) -> bool:
    """The header's ★: five taps open the technician's PIN pad, invisible on purpose (no edge)."""
    w = s.w
    return getattr(w, "kiosk_role", None) == "secret_tap" or getattr(w, "text", None) == "★"


def _text_of(w) -> str:
    text = getattr(w, "text", "") or ""
    role = getattr(w, "kiosk_role", None)
    if not text.strip():
        return f"<{role or type(w).__name__}>"
    return " ".join(text.split())[:120]


def _bbox(rect) -> list[int]:
    x0, y0, x1, y1 = rect
    return [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]


# --- the audit ------------------------------------------------------------------------------------
def audit(app, img: np.ndarray, screen: str | None = None) -> AuditResult:
    """Measure the app's current state against the already grabbed ``img`` (the same frame)."""
    from kivy.core.window import Window
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from kiosk.ui.theme import TOUCH_MIN

    screen = screen or app.sm.current
    hc = bool(app.session.high_contrast)
    theme_name = "high_contrast" if hc else "normal"
    large = bool(app.session.large_text)
    lang = app.lang
    win_h, win_w = img.shape[0], img.shape[1]
    if (win_w, win_h) != tuple(int(v) for v in Window.size):
        raise ValueError(f"screenshot {win_w}x{win_h} is not of this window {Window.size}")
    win_rect = (0, 0, win_w, win_h)
    res = AuditResult()

    def add(kind, s_or_rect, text, value=None, threshold=None, detail=""):
        rect = s_or_rect if isinstance(s_or_rect, tuple) else (s_or_rect.visible or s_or_rect.rect)
        res.findings.append(Finding(screen, lang, theme_name, large, kind, text,
                                    None if value is None else round(float(value), 2), threshold, _bbox(rect), detail))

    roots = _roots(app)
    everything = [s for r in roots for s in _collect(r, win_h, win_rect)]
    # what the citizen can touch and read: the top-most modal covers the screen under it
    top = _collect(roots[-1], win_h, win_rect) if len(roots) > 1 else everything
    shown = [s for s in top if s.visible is not None and s.w.width > 0 and s.w.height > 0]

    # (d) roles, anywhere in the screen or its modals
    present = {}
    for s in everything:
        role = getattr(s.w, "kiosk_role", None)
        if role in ROLES:
            present.setdefault(role, []).append(s)
    needed = ["help_call", "speech_key"] + (["step_indicator"] if needs_step_indicator(screen) else [])
    for role in needed:
        found = present.get(role, [])
        if not found:
            add("missing_role", (0, 0, win_w, win_h), role, detail=f"no widget with kiosk_role={role!r}")
        elif not any(s.visible is not None and s.w.width > 0 and s.w.height > 0 for s in found):
            add("missing_role", found[0].rect, role, detail="present but not visible")

    # one filled primary button: the screen's (or the open panel's) one next action (issue #18, 10)
    primaries = [p for p in shown if getattr(p.w, "kind", None) == "primary" and _is_control(p.w)]
    if len(primaries) > 1:
        for p in primaries:
            add("two_primaries", p, _text_of(p.w), len(primaries), 1,
                detail="more than one filled primary button is visible")

    # (a) outside the window with no ScrollView to bring it in (it may not show at all)
    for s in top:
        w = s.w
        if (s.scroll is None and w.width > 0 and w.height > 0 and not _inside(s.rect, win_rect)
                and (_is_control(w) or (isinstance(w, Label) and (w.text or "").strip()))):
            add("off_window", _intersect(s.rect, win_rect) or s.rect, _text_of(w),
                detail=f"at {_bbox(s.rect)}: outside the window, and no ScrollView brings it in")

    # (a) clipping, (b) text contrast
    text_threshold = contrast.AAA_TEXT if hc else contrast.AA_TEXT
    n_text = 0
    ink_rects = {}  # id(widget) → where its text's ink is, image pixels (for overlaps)
    for s in shown:
        w = s.w
        if not isinstance(w, Label) or not (w.text or "").strip():
            continue
        n_text += 1
        label = _text_of(w)
        tw, th = w.texture_size
        trect = _texture_rect(w, win_h)
        problem = _clipping(w, trect, s.rect)
        if problem:
            add(problem[0], s, label, problem[1], problem[2], problem[3])
        ink_rects[id(w)] = _intersect(_intersect(trect, s.clip), win_rect) if trect else None
        if s.disabled or trect is None:
            continue  # WCAG 1.4.3 exempts inactive controls
        vis = _intersect(_intersect(trect, s.visible), _intersect(s.rect, s.visible))
        if vis is None or vis[2] - vis[0] < 4 or vis[3] - vis[1] < min(th * 0.6, 24):
            continue  # mostly scrolled away: what shows of it is not enough to measure
        crop = img[int(vis[1]):int(np.ceil(vis[3])), int(vis[0]):int(np.ceil(vis[2]))]
        tc = contrast.text_colours(crop)
        if tc is None:
            add("text_contrast", vis, label, 1.0, text_threshold, "no ink found: the text is the background's colour")
        elif tc.ratio < text_threshold - 0.005:
            add("text_contrast", vis, label, tc.ratio, text_threshold,
                f"ink {contrast.hex_colour(tc.ink)} on {contrast.hex_colour(tc.background)}")

    # (a) text drawn over other text or over a control (a layout too small for what it holds)
    items = [s for s in shown if id(s.w) in ink_rects or _is_control(s.w)]
    lineage = {id(s.w): _ancestors(s.w) for s in items}
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if _is_control(a.w) and _is_control(b.w):
                continue  # two controls: too_close says it
            if id(a.w) in lineage[id(b.w)] or id(b.w) in lineage[id(a.w)]:
                continue
            ra = ink_rects.get(id(a.w)) if not _is_control(a.w) else a.visible
            rb = ink_rects.get(id(b.w)) if not _is_control(b.w) else b.visible
            both = _intersect(ra, rb)
            if both is None or both[2] - both[0] < 3 or both[3] - both[1] < 3:
                continue
            ra = _ink(a.w, _texture_rect(a.w, win_h), ra) if not _is_control(a.w) else ra
            rb = _ink(b.w, _texture_rect(b.w, win_h), rb) if not _is_control(b.w) else rb
            both = _intersect(ra, rb)
            if both is None or both[2] - both[0] < 3 or both[3] - both[1] < 3:
                continue
            add("overlap", both, f"{_text_of(a.w)} ⇄ {_text_of(b.w)}", None, None,
                "drawn over each other: a layout too small for what it holds")

    # (a) a scroll area squeezed by what is fixed around it: its content goes on, but it shows
    # less than one row of it (the citizen sees nothing to scroll, and no "còn nữa ▼")
    for s in top:  # not only the shown: one squeezed to nothing has no visible part
        w = s.w
        if isinstance(w, ScrollView) and w.width > 0 and w.children and w.children[0].height > w.height + 1 and w.height < TOUCH_MIN - 0.5:
            add("squeezed", s.rect, f"<{type(w).__name__}>", w.height, TOUCH_MIN,
                f"a scroll area {w.height:.0f} px tall for {w.children[0].height:.0f} px of content")

    # (b) control edges, (c) sizes and gaps
    controls = [s for s in shown if _is_control(s.w)]
    keys = []
    for s in controls:
        w = s.w
        label = _text_of(w)
        if s.keyboard is not None:
            keys.append((w.width, w.height))
        if min(w.width, w.height) < TOUCH_MIN - 0.5:
            add("too_small", s.rect, label, min(w.width, w.height), TOUCH_MIN, f"{w.width:.0f}×{w.height:.0f} px")
        if s.disabled or _is_secret_tap(s):
            continue
        skip = _clipped_sides(s)
        vis = s.visible
        if vis[2] - vis[0] < 12 or vis[3] - vis[1] < 12:
            continue  # scrolled almost out of sight
        ec = contrast.edge_contrast(img, vis, skip=skip)  # a side cut by a ScrollView is skipped
        if ec is not None and ec.ratio < contrast.NON_TEXT - 0.005:
            weakest = min(ec.sides, key=lambda k: ec.sides[k][0])
            _r, inside, outside = ec.sides[weakest]
            add("edge_contrast", s.rect, label, ec.ratio, contrast.NON_TEXT,
                f"{weakest} edge {contrast.hex_colour(inside)} against {contrast.hex_colour(outside)}")
    active = [s for s in controls if not s.disabled]
    for i, a in enumerate(active):
        for b in active[i + 1:]:
            if a.keyboard is not None and a.keyboard is b.keyboard:
                continue  # keys of one keyboard: their size is checked, their 8 px gaps are the keyboard's
            same_scroll = a.scroll is b.scroll
            ra, rb = (a.rect, b.rect) if same_scroll else (a.visible, b.visible)
            if ra is None or rb is None or _contains(ra, rb) or _contains(rb, ra):
                continue
            gap = _gap(ra, rb)
            if gap < MIN_GAP - 0.5:
                union = (min(ra[0], rb[0]), min(ra[1], rb[1]), max(ra[2], rb[2]), max(ra[3], rb[3]))
                add("too_close", union, f"{_text_of(a.w)} ↔ {_text_of(b.w)}", gap, MIN_GAP,
                    "overlapping" if gap < 0 else f"{gap:.0f} px apart")
    res.stats = {"texts": n_text, "controls": len(controls), "roles": sorted(present)}
    if keys:
        res.stats["keyboard_keys"] = {"count": len(keys), "min_width": round(min(k[0] for k in keys)),
                                      "min_height": round(min(k[1] for k in keys))}
    return res


def _big(r):
    return (r[0] - 1, r[1] - 1, r[2] + 1, r[3] + 1)


def _inside(rect, outer, tol=0.5) -> bool:
    return (rect[0] >= outer[0] - tol and rect[1] >= outer[1] - tol and rect[2] <= outer[2] + tol
            and rect[3] <= outer[3] + tol)


def _contains(outer, inner) -> bool:
    return _inside(inner, outer)


def _gap(a, b) -> float:
    """The distance between two boxes: negative when they overlap."""
    dx = max(b[0] - a[2], a[0] - b[2])
    dy = max(b[1] - a[3], a[1] - b[3])
    if dx >= 0 and dy >= 0:
        return float(np.hypot(dx, dy))
    return float(max(dx, dy))


def _clipped_sides(s: _Seen) -> tuple:
    """Sides whose edge, or the band just outside it, a ScrollView or the window cuts off."""
    room = 8
    x0, y0, x1, y1 = s.rect
    c = s.clip
    skip = []
    if s.visible is None:
        return ("left", "right", "top", "bottom")
    if x0 - room < c[0]:
        skip.append("left")
    if x1 + room > c[2]:
        skip.append("right")
    if y0 - room < c[1]:
        skip.append("top")
    if y1 + room > c[3]:
        skip.append("bottom")
    return tuple(skip)


def _ancestors(w) -> set:
    out = set()
    p = w.parent
    while p is not None and id(p) not in out and p is not p.parent:
        out.add(id(p))
        p = p.parent
    return out


def _texture_rect(w, win_h):
    """Where Kivy draws a label's texture (centred on the widget), image pixels; None if none."""
    tw, th = w.texture_size
    if tw < 1 or th < 1:
        return None
    cx, cy = w.to_window(w.center_x, w.center_y)
    tx, ty = int(cx - tw / 2.0), int(cy - th / 2.0)
    return (tx, win_h - (ty + th), tx + tw, win_h - ty)


def _ink(w, trect, within):
    """The part of ``within`` where the label's texture (drawn at ``trect``) has ink: its glyphs,
    not its line spacing; image pixels, None when there is none there."""
    tex = w.texture
    if trect is None or tex is None or within is None:
        return None
    try:
        alpha = np.frombuffer(tex.pixels, dtype=np.uint8).reshape(tex.height, tex.width, 4)[:, :, 3]
    except Exception:  # noqa: BLE001 - a texture that cannot be read back: keep the whole rect
        return within
    coords = tex.tex_coords
    if not coords[1] > coords[5]:  # not flipped: memory row 0 is drawn at the bottom
        alpha = alpha[::-1]
    rows = np.where(alpha.max(axis=1) > 60)[0]
    cols = np.where(alpha.max(axis=0) > 60)[0]
    if not len(rows):
        return None
    sx, sy = (trect[2] - trect[0]) / tex.width, (trect[3] - trect[1]) / tex.height
    ink = (trect[0] + cols[0] * sx, trect[1] + rows[0] * sy, trect[0] + (cols[-1] + 1) * sx,
           trect[1] + (rows[-1] + 1) * sy)
    return _intersect(ink, within)


def _clipping(w, trect, box):
    """(kind, value, threshold, detail) of the first clipping problem of a label, or None."""
    from kivy.core.text import Label as CoreLabel

    tw, th = w.texture_size
    if trect is not None and (tw > w.width + 1 or th > w.height + 1):
        # the texture holds line spacing too: only ink outside the box is text out of its box
        ink = _ink(w, trect, _big(trect))
        if ink is not None and not _inside(ink, box, tol=1.0):
            over = max(box[0] - ink[0], box[1] - ink[1], ink[2] - box[2], ink[3] - box[3])
            return ("clipped", over, 0,
                    f"text {tw:.0f}×{th:.0f} px in a box of {w.width:.0f}×{w.height:.0f} px: its glyphs stick out {over:.0f} px")
    if getattr(w, "is_shortened", False) or (w.shorten and (w.text or "").rstrip().endswith(("…", "..."))):
        return ("ellipsised", None, None, "shortened with … to fit")
    uw, uh = w.text_size
    if uw is None and uh is None:
        return None
    opts = {x: getattr(w, x) for x in w._font_properties}
    opts.update(text=w.text, text_size=(uw, None), shorten=False)
    opts.pop("usersize", None)
    full = CoreLabel(**opts)
    full.refresh()
    if uh is not None and full.texture is not None and full.texture.size[1] > uh + 1:
        return ("lines_cut", full.texture.size[1] - uh, 0,
                f"the text needs {full.texture.size[1]} px, its text_size gives {uh:.0f}")
    if uw is not None and not w.markup:
        pad = full.options["padding"]
        room = uw - pad[0] - pad[2]
        for word in w.text.split():
            ww = full.get_extents(word)[0]
            if ww > room + 1:
                return ("word_split", ww - room, 0, f"the word {word!r} is {ww} px, the line {room:.0f} px: cut mid-word")
    return None


# --- variants, screenshots -----------------------------------------------------------------------
def set_variant(driver, v: Variant) -> None:
    """Switch the app to ``v`` through the app's own toggles (each refreshes the current screen)."""
    app = driver.app
    if app.lang != v.lang:
        app.toggle_language()
    if bool(app.session.high_contrast) != v.high_contrast:
        app.toggle_contrast()
    if bool(app.session.large_text) != v.large_text:
        app.toggle_large_text()
    driver.pump(4)


def current_variant(app) -> Variant:
    return Variant(app.lang, bool(app.session.high_contrast), bool(app.session.large_text))


def audit_variants(driver, screen: str | None = None, variants=VARIANTS, shots_dir: Path | None = None,
                   label: str | None = None, prepare=None) -> tuple[list[Finding], dict]:
    """Audit the current screen in each variant; the screenshot of a variant with findings is
    written to ``shots_dir`` with the failing boxes outlined. The app is put back in the variant
    it was in. ``prepare(driver)``, if given, is called after each switch (a switch rebuilds the
    screen: a keyboard or panel the audit wants to see is opened again there)."""
    app = driver.app
    before = current_variant(app)
    screen = screen or app.sm.current
    label = label or screen
    findings, stats = [], {}
    try:
        for v in variants:
            set_variant(driver, v)
            if prepare is not None:
                prepare(driver)
            img = grab(driver)
            res = audit(app, img, screen)
            stats[v.name] = res.stats
            if res.findings and shots_dir is not None:
                path = Path(shots_dir) / f"{_safe(label)}--{v.name}.png"
                annotate(img, res.findings, path)
                for f in res.findings:
                    f.shot = path.name
            findings.extend(res.findings)
    finally:
        set_variant(driver, before)
    return findings, stats


_COLOURS = {"clipped": (255, 0, 255), "lines_cut": (255, 0, 255), "ellipsised": (255, 0, 255),
            "word_split": (200, 0, 255), "off_window": (255, 0, 255), "squeezed": (255, 0, 255), "overlap": (255, 0, 0), "text_contrast": (255, 140, 0),
            "edge_contrast": (0, 160, 255), "too_small": (0, 200, 0), "too_close": (0, 120, 0),
            "missing_role": (255, 0, 0)}


def annotate(img: np.ndarray, findings: list[Finding], path: Path) -> Path:
    """The screenshot with each finding's box outlined and numbered (its index in ``findings``)."""
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(img)
    draw = ImageDraw.Draw(im)
    for i, f in enumerate(findings):
        x, y, w, h = f.bbox
        colour = _COLOURS.get(f.kind, (255, 0, 0))
        if f.kind == "missing_role":
            draw.rectangle([4 + 3 * i, 4 + 3 * i, img.shape[1] - 5 - 3 * i, img.shape[0] - 5 - 3 * i], outline=colour, width=3)
            draw.text((12, img.shape[0] - 40 - 14 * i), f"{i}: missing {f.text}", fill=colour)
            continue
        draw.rectangle([x - 2, y - 2, x + w + 1, y + h + 1], outline=colour, width=3)
        draw.text((x + 2, max(0, y - 14)), f"{i}:{f.kind}", fill=colour)
    im.save(path, compress_level=1)  # fast: these are artefacts to look at, not to keep
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def summarise(findings: list[Finding]) -> str:
    """Markdown: findings grouped by kind, then by screen, with the distinct texts and values."""
    import re
    from collections import defaultdict

    by_kind = defaultdict(lambda: defaultdict(list))
    for f in findings:
        by_kind[f.kind][f.screen].append(f)
    lines = [f"{len(findings)} findings on {len({f.screen for f in findings})} screens", ""]
    for kind in sorted(by_kind, key=lambda k: -sum(len(v) for v in by_kind[k].values())):
        screens = by_kind[kind]
        lines.append(f"## {kind} ({sum(len(v) for v in screens.values())})")
        for screen in sorted(screens):
            group = screens[screen]
            texts = defaultdict(list)
            for f in group:
                texts[(re.sub(r"\d", "#", f.text), f.detail if kind in ("missing_role", "too_small") else "")].append(f)
            lines.append(f"- **{screen}** ({len(group)})")
            for (text, _d), fs in sorted(texts.items(), key=lambda kv: -len(kv[1]))[:12]:
                variants = sorted({f"{f.lang}-{'hc' if f.theme == 'high_contrast' else 'normal'}"
                                   f"{'-large' if f.large_text else ''}" for f in fs})
                values = [f.value for f in fs if f.value is not None]
                val = f" value {min(values)}–{max(values)} (need {fs[0].threshold})" if values else ""
                lines.append(f"  - `{text[:80]}`{val}: {fs[0].detail} [{', '.join(variants)}]")
            if len(texts) > 12:
                lines.append(f"  - … and {len(texts) - 12} more")
        lines.append("")
    return "\n".join(lines)
