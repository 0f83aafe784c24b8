"""dlib's face models, loaded once per process from the files of the ``face-recognition-models``
package (read from disk: the package's own ``__init__`` needs ``pkg_resources`` and is never imported).

* detector: dlib's HOG frontal face detector (built into dlib, no file);
* ``shape_predictor_5_face_landmarks.dat``: 5 points (eye corners, under the nose), used to align
  the face for the embedding (dlib's ``get_face_chip``, inside ``compute_face_descriptor``);
* ``shape_predictor_68_face_landmarks.dat``: 68 points (iBUG 300-W layout), used for liveness only
  (eye aspect ratio, head yaw);
* ``dlib_face_recognition_resnet_model_v1.dat``: a ResNet that maps an aligned 150×150 face to a
  128-number embedding; two photos of one person lie closer than :data:`devices.face.match.THRESHOLD`.

No network, no GPU; every call takes an RGB ``uint8`` array. dlib's objects are not safe to share
between threads, so one lock serialises the calls (the kiosk serves one citizen at a time).
Licences of the files: docs/face.md.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import BilingualError

MODEL_NAME = "dlib_face_recognition_resnet_model_v1"
_FILES = {
    "shape5": "shape_predictor_5_face_landmarks.dat",
    "shape68": "shape_predictor_68_face_landmarks.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
}


class FaceModelError(BilingualError):
    """The face models cannot be used: ``code`` ``no_dlib`` or ``no_models``."""


def models_dir() -> Path | None:
    """Where the model files are: ``$KIOSK_FACE_MODELS``, else the installed ``face_recognition_models``
    package's ``models/`` folder (found without importing it); None when neither holds them."""
    env = os.environ.get("KIOSK_FACE_MODELS")
    candidates = [Path(env)] if env else []
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(list(spec.submodule_search_locations)[0]) / "models")
    for c in candidates:
        if all((c / f).is_file() for f in _FILES.values()):
            return c
    return None


def available() -> bool:
    """dlib imports and the model files are there (what the face step needs)."""
    return importlib.util.find_spec("dlib") is not None and models_dir() is not None


@dataclass(frozen=True)
class Box:
    """A face's rectangle in pixels (left, top, right, bottom: right/bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.bottom - self.top)

    def scaled(self, f: float) -> "Box":
        return Box(int(round(self.left * f)), int(round(self.top * f)), int(round(self.right * f)),
                   int(round(self.bottom * f)))


class FaceModel:
    """The detector, both landmark predictors and the embedding network (load with :func:`shared_model`)."""

    def __init__(self, directory: Path | None = None):
        try:
            import dlib
        except ImportError as e:  # pragma: no cover - the kiosk extra installs it
            raise FaceModelError(code="no_dlib", en=f"dlib is not installed ({e}): install the kiosk extra",
                                 vi="Máy chưa cài phần so khớp khuôn mặt. Vui lòng báo cán bộ hỗ trợ.") from e
        directory = directory or models_dir()
        if directory is None:
            raise FaceModelError(code="no_models",
                                 en="face model files not found: install face-recognition-models or set KIOSK_FACE_MODELS",
                                 vi="Máy thiếu tệp mô hình khuôn mặt. Vui lòng báo cán bộ hỗ trợ.")
        self._dlib = dlib
        self._lock = threading.Lock()
        self._detector = dlib.get_frontal_face_detector()
        self._shape5 = dlib.shape_predictor(str(directory / _FILES["shape5"]))
        self._shape68 = dlib.shape_predictor(str(directory / _FILES["shape68"]))
        self._resnet = dlib.face_recognition_model_v1(str(directory / _FILES["resnet"]))
        self.name = MODEL_NAME

    @staticmethod
    def _rgb(img: np.ndarray) -> np.ndarray:
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError("an RGB uint8 image (h, w, 3) is needed")
        return np.ascontiguousarray(img)

    def detect(self, rgb: np.ndarray, upsample: int = 0, max_side: int | None = 640) -> list[Box]:
        """Faces in ``rgb``, largest first. The image is first shrunk so its longer side is at most
        ``max_side`` (speed: a 1080p frame in 40 ms instead of 400); boxes are in ``rgb``'s pixels.
        dlib's HOG detector finds faces from about 80 pixels wide (``upsample=1``: from 40)."""
        import cv2

        rgb = self._rgb(rgb)
        f = 1.0
        if max_side and max(rgb.shape[:2]) > max_side:
            f = max_side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (int(rgb.shape[1] * f), int(rgb.shape[0] * f)), interpolation=cv2.INTER_AREA)
        with self._lock:
            rects = self._detector(rgb, upsample)
        boxes = [Box(r.left(), r.top(), r.right(), r.bottom()).scaled(1 / f) for r in rects]
        return sorted(boxes, key=lambda b: -b.area)

    def _rect(self, box: Box):
        return self._dlib.rectangle(box.left, box.top, box.right, box.bottom)

    def landmarks68(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        """The 68 points (iBUG 300-W order) of the face in ``box``: float array (68, 2) of x, y."""
        rgb = self._rgb(rgb)
        with self._lock:
            shape = self._shape68(rgb, self._rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def embed(self, rgb: np.ndarray, box: Box, jitter: int = 0) -> np.ndarray:
        """The 128-number embedding of the face in ``box`` (aligned on the 5 landmarks first)."""
        rgb = self._rgb(rgb)
        with self._lock:
            shape = self._shape5(rgb, self._rect(box))
            vec = self._resnet.compute_face_descriptor(rgb, shape, jitter)
        return np.array(vec, dtype=np.float64)


_shared: FaceModel | None = None
_shared_lock = threading.Lock()


def shared_model() -> FaceModel:
    """The process's one :class:`FaceModel` (loading takes ~0.3 s and ~120 MB; done once)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = FaceModel()
    return _shared
