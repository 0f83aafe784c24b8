"""The chip photo against the live face: decode, detect, embed, distance, decision.

Decision: the Euclidean distance between the two 128-number embeddings is at most
:data:`THRESHOLD` → the same person. 0.6 is dlib's published operating point for this network
(99.38 % accuracy on LFW's 6,000 pairs at 0.6); ``bench/bench_face.py`` measures FAR/FRR at it on
what can be measured here (docs/face.md, BENCHMARKS.md). Nothing is kept: the images and the
embeddings live in the caller's variables and go with the visit.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np

from devices.face.model import MODEL_NAME, Box, FaceModel, shared_model

THRESHOLD = 0.6


def decode_photo(data: bytes) -> np.ndarray:
    """A chip photo (DG2: JPEG or JPEG 2000) or any image file → RGB uint8 array."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


@dataclass(frozen=True)
class MatchResult:
    """``passed``: the same person. ``reason``: ``match``, ``no_match``, ``no_face_reference`` (no face
    found on the chip photo), ``no_face_live`` (none in the camera frame)."""

    passed: bool
    distance: float | None
    threshold: float
    model: str
    reason: str

    def record(self) -> dict:
        """What a dossier may keep: the decision and its numbers, never an image or an embedding."""
        d = asdict(self)
        if d["distance"] is not None:
            d["distance"] = round(float(d["distance"]), 4)
        return d


def face_embedding(rgb: np.ndarray, model: FaceModel | None = None, *, small: bool = False) -> tuple[np.ndarray, Box] | None:
    """The embedding of the largest face in ``rgb`` and its box, or None when no face is found.
    ``small``: the image is a small portrait (a chip photo, 240×320): look for faces from 40 px."""
    model = model or shared_model()
    boxes = model.detect(rgb, upsample=1 if small else 0, max_side=None if small else 640)
    if not boxes and not small:
        boxes = model.detect(rgb, upsample=1, max_side=960)
    if not boxes:
        return None
    return model.embed(rgb, boxes[0]), boxes[0]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def match(reference: bytes | np.ndarray, live_rgb: np.ndarray, *, model: FaceModel | None = None,
          threshold: float = THRESHOLD, reference_embedding: np.ndarray | None = None) -> MatchResult:
    """Does the face in ``live_rgb`` belong to the person of ``reference`` (the chip photo's bytes
    or an RGB array)? ``reference_embedding`` skips embedding the reference again (the step embeds
    the chip photo once per visit)."""
    model = model or shared_model()
    if reference_embedding is None:
        ref_rgb = decode_photo(reference) if isinstance(reference, (bytes, bytearray)) else reference
        got = face_embedding(ref_rgb, model, small=True)
        if got is None:
            return MatchResult(False, None, threshold, MODEL_NAME, "no_face_reference")
        reference_embedding = got[0]
    live = face_embedding(live_rgb, model)
    if live is None:
        return MatchResult(False, None, threshold, MODEL_NAME, "no_face_live")
    d = distance(reference_embedding, live[0])
    return MatchResult(d <= threshold, d, threshold, MODEL_NAME, "match" if d <= threshold else "no_match")
