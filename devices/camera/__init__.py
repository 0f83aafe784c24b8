"""Cameras and document capture.

    from devices.camera import open_camera, frame_to_texture_bytes
    cam = open_camera(cfg["devices.camera"]); cam.open(); frame = cam.frame()   # BGR ndarray
    from devices.camera.document import capture_document                # page → flat JPEG
"""
from __future__ import annotations

import numpy as np

from devices.camera.backends import BACKENDS, CameraError, FileCamera, OpenCvCamera, SimCamera, open_camera

__all__ = ["open_camera", "BACKENDS", "CameraError", "OpenCvCamera", "FileCamera", "SimCamera", "frame_to_texture_bytes"]


def frame_to_texture_bytes(frame: np.ndarray, size: tuple[int, int] | None = None) -> tuple[bytes, tuple[int, int]]:
    """BGR (or gray) frame → (RGBA bytes, bottom row first; (width, height)) for
    ``Texture.create(size=…, colorfmt="rgba")`` + ``blit_buffer(data, colorfmt="rgba", bufferfmt="ubyte")``:
    Kivy textures start at the bottom-left corner. ``size`` resizes first (a preview need not be 1080p)."""
    import cv2

    if size is not None and (frame.shape[1], frame.shape[0]) != tuple(size):
        frame = cv2.resize(frame, tuple(size), interpolation=cv2.INTER_AREA)
    code = cv2.COLOR_GRAY2RGBA if frame.ndim == 2 else cv2.COLOR_BGR2RGBA
    rgba = cv2.cvtColor(frame, code)
    return np.ascontiguousarray(rgba[::-1]).tobytes(), (rgba.shape[1], rgba.shape[0])
