"""Made-up camera frames of a face, for the simulated camera, the tests and the benchmark — made from
one still photograph and its 68 landmarks, because nobody can be filmed here:

* **blink**: a piecewise-affine warp (Delaunay triangles over the landmarks) moves the upper eyelid
  points onto the lower lid, so the skin above the eye is stretched down over it;
* **turn**: the same warp moves the inner face (nose most, eyes, brows and mouth less) sideways
  while the jaw line stays, which is what a head turning in 3-D does in a picture and a flat
  photograph cannot do;
* **printed photo** / **phone screen**: the untouched photo on a sheet of paper, or on a phone's screen
  (bezel, cooler light, glare), held up and swaying — turned about its vertical axis in perspective, as
  a flat thing turns.

What this proves and what it does not (docs/face.md): the liveness logic and its thresholds react to
landmark motion of the right kind and refuse a flat, still picture; it says nothing of how a real
person's blink or turn looks to dlib's landmark predictor under a kiosk's lighting, which only a
recording of real people can tell.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

PHOTOS = Path(__file__).resolve().parent / "photos"
POSES = ("open", "closed", "left", "right")


def photo_path(who: str) -> Path:
    """``card_holder`` or ``stranger`` (devices/face/photos/README.md: who, source, licence)."""
    if who not in ("card_holder", "stranger"):
        raise ValueError(f"no sample photo {who!r}")
    return PHOTOS / f"{who}.jpg"


@lru_cache(maxsize=2)
def _photo(who: str) -> np.ndarray:
    from PIL import Image

    with Image.open(photo_path(who)) as img:
        rgb = np.asarray(img.convert("RGB"))
    rgb.setflags(write=False)
    return rgb


def photo_rgb(who: str) -> np.ndarray:
    return _photo(who).copy()


def warp_points(img: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Piecewise-affine warp of ``img`` taking points ``src`` to ``dst`` (Delaunay triangles of ``src``;
    the image's corners and edge midpoints are added as fixed anchors)."""
    import cv2

    h, w = img.shape[:2]
    anchors = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1], [w / 2, 0], [w - 1, h / 2],
                          [w / 2, h - 1], [0, h / 2]])
    s = np.vstack([np.asarray(src, np.float32), anchors])
    d = np.vstack([np.asarray(dst, np.float32), anchors])
    subdiv = cv2.Subdiv2D((0, 0, w, h))
    index = {}
    for i, (x, y) in enumerate(s):
        x, y = float(min(max(x, 0), w - 1)), float(min(max(y, 0), h - 1))
        s[i] = (x, y)
        index[(round(x, 2), round(y, 2))] = i
        subdiv.insert((x, y))
    out = img.copy()
    for t in subdiv.getTriangleList():
        pts = t.reshape(3, 2)
        try:
            ids = [index[(round(float(x), 2), round(float(y), 2))] for x, y in pts]
        except KeyError:
            continue
        ts, td = s[ids], d[ids]
        if np.allclose(ts, td):
            continue
        x, y, bw, bh = cv2.boundingRect(np.vstack([ts, td]).astype(np.float32))
        if bw <= 0 or bh <= 0:
            continue
        m = cv2.getAffineTransform((ts - [x, y]).astype(np.float32), (td - [x, y]).astype(np.float32))
        patch = cv2.warpAffine(img, _shift(m, x, y), (bw, bh), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT_101)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillConvexPoly(mask, np.int32(np.round(td - [x, y])), 1)
        region = out[y:y + bh, x:x + bw]
        mk = mask[:region.shape[0], :region.shape[1]].astype(bool)
        region[mk] = patch[:region.shape[0], :region.shape[1]][mk]
    return out


def _shift(m: np.ndarray, x: float, y: float) -> np.ndarray:
    """An affine map between triangle-local coordinates, as one that reads the whole image (source
    in global coordinates, destination in the bounding box's)."""
    a = np.vstack([m, [0, 0, 1]])
    to_local = np.array([[1, 0, -x], [0, 1, -y], [0, 0, 1]], np.float64)
    return (a @ to_local)[:2]


def closed_eyes(lm: np.ndarray) -> np.ndarray:
    """Landmarks with both upper eyelids lowered onto the lower ones."""
    d = np.array(lm, np.float32).copy()
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        d[up] = lm[low] + (lm[up] - lm[low]) * 0.1
    return d


def turned(lm: np.ndarray, side: str, amount: float = 0.22) -> np.ndarray:
    """Landmarks of the head turned to the person's own ``side`` (``left``: the nose moves to the
    image's right): inner points move by ``amount`` × the face's width, the nose most, the jaw not at all."""
    d = np.array(lm, np.float32).copy()
    width = float(np.linalg.norm(lm[16] - lm[0]))
    dx = amount * width * (1 if side == "left" else -1)
    weight = np.zeros(68, np.float32)
    weight[17:27] = 0.5          # brows
    weight[27:31] = 0.9          # nose bridge
    weight[31:36] = 1.0          # nose bottom
    weight[36:48] = 0.6          # eyes
    weight[48:68] = 0.55         # mouth
    d[:, 0] += dx * weight
    return d


@lru_cache(maxsize=2)
def _poses(who: str) -> dict[str, np.ndarray]:
    from devices.face.model import shared_model

    rgb = _photo(who)
    model = shared_model()
    box = model.detect(rgb, upsample=1, max_side=None)[0]
    lm = model.landmarks68(rgb, box)
    poses = {"open": rgb.copy(), "closed": warp_points(rgb, lm, closed_eyes(lm)),
             "left": warp_points(rgb, lm, turned(lm, "left")), "right": warp_points(rgb, lm, turned(lm, "right"))}
    for p in poses.values():
        p.setflags(write=False)
    return {"box": np.array([box.left, box.top, box.right, box.bottom]), **poses}


def pose(who: str, name: str) -> np.ndarray:
    """The photo of ``who`` in pose ``name`` (:data:`POSES`), RGB at the photo's size."""
    return _poses(who)[name].copy()


def _place(rgb: np.ndarray, box: np.ndarray, size: tuple[int, int], face_frac: float, dx: float = 0, dy: float = 0,
           background=(200, 205, 210)) -> np.ndarray:
    """``rgb`` scaled so its face (``box``) is ``face_frac`` of the frame's height, centred, on a wall."""
    import cv2

    w, h = size
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    s = face_frac * h / max(1.0, box[2] - box[0])
    m = np.float32([[s, 0, w / 2 - s * cx + dx], [0, s, h * 0.45 - s * cy + dy]])
    return cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=background)


def scene(who: str, name: str, size: tuple[int, int] = (1280, 720), *, index: int = 0,
          face_frac: float = 0.4) -> np.ndarray:
    """A camera frame (RGB, ``size``) of ``who`` in pose ``name``, standing in front of the kiosk:
    a little sway and sensor noise that change with ``index``, as in a live picture."""
    p = _poses(who)
    frame = _place(p[name], p["box"], size, face_frac, dx=2 * np.sin(index / 3), dy=1.5 * np.cos(index / 4))
    return _noisy(frame, index)


@lru_cache(maxsize=2)
def _noise(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = rng.normal(0, 2.0, (shape[0] + 16, shape[1] + 16, shape[2])).round()
    return np.clip(n, 0, 255).astype(np.uint8), np.clip(-n, 0, 255).astype(np.uint8)


def _noisy(frame: np.ndarray, index: int) -> np.ndarray:
    """Sensor noise that changes with ``index`` (a window of one cached field: a frame costs ~ms)."""
    import cv2

    plus, minus = _noise(frame.shape)
    dy, dx = (index * 7) % 16, (index * 11) % 16
    h, w = frame.shape[:2]
    return cv2.subtract(cv2.add(frame, plus[dy:dy + h, dx:dx + w]), minus[dy:dy + h, dx:dx + w])


def printed_photo(who: str, size: tuple[int, int] = (1280, 720), *, index: int = 0, face_frac: float = 0.4) -> np.ndarray:
    """A camera frame of ``who``'s photo printed on a white sheet and held up: the sheet sways,
    turning up to ±25° about its vertical axis in perspective (a flat thing turning) and tilting a little."""
    import cv2

    w, h = size
    p = _poses(who)
    photo = p["open"]
    ph, pw = photo.shape[:2]
    margin = int(0.08 * pw)
    sheet = np.full((ph + 2 * margin, pw + 2 * margin, 3), 245, np.uint8)
    sheet[margin:margin + ph, margin:margin + pw] = photo
    box = p["box"] + margin
    s = face_frac * h / max(1.0, box[2] - box[0])
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    sh, sw = sheet.shape[:2]
    # the sheet's corners centred on its face, then turned by angle a about the face's vertical axis
    a = np.deg2rad(25 * np.sin(index / 5))
    corners = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]]) - [cx, cy]
    xs, ys = corners[:, 0] * s, corners[:, 1] * s
    depth = 1.0 + xs * np.sin(a) / (3.0 * w)            # the far edge looks smaller (perspective)
    dst = np.stack([xs * np.cos(a) / depth + w / 2, ys / depth + h * 0.45 + 3 * np.sin(index / 2)], axis=1)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]]), dst.astype(np.float32))
    frame = cv2.warpPerspective(sheet, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=(200, 205, 210))
    return _noisy(frame, index)


def phone_screen(who: str, size: tuple[int, int] = (1280, 720), *, index: int = 0, face_frac: float = 0.28) -> np.ndarray:
    """A camera frame of ``who``'s photo shown on a phone held up to the camera: the picture inside
    a black bezel, a little brighter and bluer than paper, with a diagonal glare, swaying and turning
    up to ±20° like the sheet of :func:`printed_photo` (a flat thing, however it is held)."""
    import cv2

    p = _poses(who)
    photo = p["open"].astype(np.float32)
    photo = np.clip(photo * [0.95, 1.0, 1.1] + 12, 0, 255)           # an LCD's cooler, brighter white
    h, w = photo.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    glare = np.clip(1 - np.abs((xx - yy * 0.6) - w * 0.55) / (0.12 * w), 0, 1)[..., None] * 40
    screen = np.clip(photo + glare, 0, 255).astype(np.uint8)
    bezel = int(0.06 * w)
    phone = np.full((h + 4 * bezel, w + 2 * bezel, 3), 12, np.uint8)
    phone[2 * bezel:2 * bezel + h, bezel:bezel + w] = screen
    box = p["box"] + [bezel, 2 * bezel, bezel, 2 * bezel]
    fw, fh = size
    s = face_frac * fh / max(1.0, box[2] - box[0])
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    ph, pw = phone.shape[:2]
    a = np.deg2rad(20 * np.sin(index / 4))
    corners = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]) - [cx, cy]
    xs, ys = corners[:, 0] * s, corners[:, 1] * s
    depth = 1.0 + xs * np.sin(a) / (3.0 * fw)
    dst = np.stack([xs * np.cos(a) / depth + fw / 2 + 4 * np.sin(index / 3), ys / depth + fh * 0.45], axis=1)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), dst.astype(np.float32))
    frame = cv2.warpPerspective(phone, m, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=(200, 205, 210))
    return _noisy(frame, index)


def chip_portrait(who: str = "card_holder", *, fmt: str = "jpeg") -> bytes:
    """A chip-style portrait (DG2) of ``who``: a 3:4 crop around the face, 240×320, lighter and with
    less colour than the source (as a printed ID photo reads back), JPEG quality 75 or JPEG 2000."""
    import io

    from PIL import Image, ImageEnhance

    rgb = _photo(who)
    # the face box of card_holder.jpg found once by dlib's detector: (179, 83)–(266, 170); crop fixed
    # here so the card's bytes do not depend on dlib being installed
    boxes = {"card_holder": (179, 83, 266, 170), "stranger": (161, 137, 376, 352)}
    l, t, r, b = boxes[who]
    cx, cy, fw = (l + r) / 2, (t + b) / 2, r - l
    cw, ch = 2.1 * fw, 2.8 * fw
    x0, y0 = int(max(0, cx - cw / 2)), int(max(0, cy - ch * 0.45))
    crop = Image.fromarray(rgb[y0:int(y0 + ch), x0:int(x0 + cw)]).resize((240, 320), Image.LANCZOS)
    crop = ImageEnhance.Color(ImageEnhance.Brightness(crop).enhance(1.08)).enhance(0.8)
    buf = io.BytesIO()
    if fmt == "jp2":
        crop.save(buf, "JPEG2000", quality_mode="rates", quality_layers=[20], irreversible=True)
    else:
        crop.save(buf, "JPEG", quality=75)
    return buf.getvalue()
