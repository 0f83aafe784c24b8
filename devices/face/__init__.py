"""Face match against the chip photo, and liveness, on the kiosk's CPU (no Kivy, no camera I/O).

    from devices.face import match, decode_photo, Challenge, observe, shared_model
    result = match(card.photo_jpeg, rgb_frame)          # MatchResult: passed, distance, threshold, model
    ch = Challenge(turn="left"); ch.feed(observe(shared_model(), rgb_frame, t))   # look → blink → turn

Importing this package does not load dlib or the models: :func:`shared_model` does, once.
How it works, the threshold, the limits and privacy: docs/face.md.
"""
from __future__ import annotations

from devices.face.liveness import Challenge, Observation, ear, eye_aspect_ratio, observe, yaw
from devices.face.match import THRESHOLD, MatchResult, decode_photo, distance, face_embedding, match
from devices.face.model import MODEL_NAME, Box, FaceModel, FaceModelError, available, models_dir, shared_model

__all__ = ["Challenge", "Observation", "ear", "eye_aspect_ratio", "observe", "yaw", "THRESHOLD", "MatchResult",
           "decode_photo", "distance", "face_embedding", "match", "MODEL_NAME", "Box", "FaceModel", "FaceModelError",
           "available", "models_dir", "shared_model"]
