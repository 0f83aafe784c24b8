"""Liveness by an active challenge, from the 68 facial landmarks of successive camera frames:

1. **look** — a face, frontal, in a few frames in a row (its open-eye aspect ratio is measured);
2. **blink** — the eye aspect ratio (EAR, Soukupová & Čech 2016: the eyelids' gap over the eye's
   width) falls below ``ear_closed_ratio`` × the open value, then comes back;
3. **turn** — the head turns to the side the kiosk asked (left or right, drawn at random per try):
   the nose tip moves, along the eye line, towards one edge of the jaw. That is 3-D parallax: the
   nose stands out of the face. A flat picture turned or tilted in front of the camera shrinks as a
   whole and keeps its nose in the middle of its jaw, so it cannot pass this phase however it is held.

A printed photo or a still picture on a phone never blinks and never turns: it times out. What this
does not stop (docs/face.md): a video of the person that blinks and turns to the side asked (half
the time it turned the wrong way), a 3-D mask with moving eyelids, a deepfake fed into the camera's
cable. The face match and the staff fallback sit beside it; the kiosk is in a staffed room.

Pure functions of landmarks plus a small state machine; time comes from the caller (seconds), so
tests feed recorded or generated frames at any pace.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

import numpy as np

RIGHT_EYE = slice(36, 42)   # the person's right eye: on the image's left
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
JAW_RIGHT, JAW_LEFT = 0, 16


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """EAR of one eye's six points (p1 outer corner … p4 inner corner, p2 p3 upper lid, p5 p6 lower):
    (|p2−p6| + |p3−p5|) / (2 |p1−p4|); about 0.25–0.35 open, under 0.15 closed."""
    p = np.asarray(eye, dtype=np.float64)
    width = np.linalg.norm(p[0] - p[3])
    if width <= 0:
        return 0.0
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * width))


def ear(landmarks: np.ndarray) -> float:
    """Mean EAR of both eyes."""
    return (eye_aspect_ratio(landmarks[RIGHT_EYE]) + eye_aspect_ratio(landmarks[LEFT_EYE])) / 2


def yaw(landmarks: np.ndarray) -> float:
    """Head yaw from landmark geometry, −1…1: where the nose tip lies between the two ends of the jaw,
    measured along the eye line (so a tilted head reads the same). 0 frontal; > 0 the nose towards the
    image's right, which is the person's own left (camera not mirrored); about ±0.3 is a clear turn."""
    lm = np.asarray(landmarks, dtype=np.float64)
    axis = lm[45] - lm[36]                       # outer corner of the right eye → of the left eye
    n = np.linalg.norm(axis)
    if n <= 0:
        return 0.0
    axis /= n
    a, b, nose = lm[JAW_RIGHT] @ axis, lm[JAW_LEFT] @ axis, lm[NOSE_TIP] @ axis
    if b - a <= 1e-6:
        return 0.0
    return float(2 * ((nose - a) / (b - a) - 0.5))


@dataclass(frozen=True)
class Observation:
    """One frame: a face or not, and its EAR and yaw."""

    t: float
    face: bool
    ear: float | None = None
    yaw: float | None = None


def observe(model, rgb: np.ndarray, t: float) -> Observation:
    """Measure one RGB frame with ``model`` (:class:`devices.face.model.FaceModel`)."""
    boxes = model.detect(rgb)
    if not boxes:
        return Observation(t, False)
    lm = model.landmarks68(rgb, boxes[0])
    return Observation(t, True, ear(lm), yaw(lm))


# phase → what the screen says (i18n keys of kiosk.ui.screens.face_check)
PROMPTS = {"look": "look", "blink": "blink", "turn_left": "turn_left", "turn_right": "turn_right"}


@dataclass
class Challenge:
    """Feed observations in time order; ``phase`` goes look → blink → turn → passed, or failed with a
    ``reason`` (``no_face``, ``no_blink``, ``no_turn``) when a phase takes longer than ``phase_timeout_s``."""

    turn: str = "left"                 # the side asked, the person's own: "left" or "right"
    phase_timeout_s: float = 8.0
    look_frames: int = 3
    frontal_max: float = 0.18          # |yaw| of a face looking straight
    ear_closed_ratio: float = 0.65     # closed: EAR below this × the open EAR
    ear_open_ratio: float = 0.85       # open again: above this × the open EAR
    yaw_turn: float = 0.3              # a turn: |yaw| at least this, on the side asked
    turn_frames: int = 2
    phase: str = "look"
    reason: str = ""
    open_ear: float | None = None
    history: list[tuple[float, str]] = field(default_factory=list)   # (t, phase entered)
    _since: float | None = None
    _run: list[float] = field(default_factory=list)
    _closed: bool = False

    def __post_init__(self):
        if self.turn not in ("left", "right"):
            raise ValueError("turn must be 'left' or 'right'")

    @property
    def prompt(self) -> str:
        """What to ask now: ``look``, ``blink``, ``turn_left``/``turn_right``, ``passed``, ``failed``."""
        return f"turn_{self.turn}" if self.phase == "turn" else self.phase

    @property
    def done(self) -> bool:
        return self.phase in ("passed", "failed")

    def _enter(self, phase: str, t: float) -> None:
        self.phase, self._since, self._run = phase, t, []
        self.history.append((t, phase))

    def feed(self, obs: Observation) -> str:
        if self.done:
            return self.phase
        if self._since is None:
            self._enter("look", obs.t)
        if obs.t - self._since > self.phase_timeout_s:
            self.reason = {"look": "no_face", "blink": "no_blink", "turn": "no_turn"}[self.phase]
            self._enter("failed", obs.t)
            return self.phase
        if not obs.face:
            self._run = []
            return self.phase
        if self.phase == "look":
            if abs(obs.yaw) <= self.frontal_max:
                self._run.append(obs.ear)
                if len(self._run) >= self.look_frames:
                    self.open_ear = median(self._run)
                    self._closed = False
                    self._enter("blink", obs.t)
            else:
                self._run = []
        elif self.phase == "blink":
            if not self._closed and obs.ear < self.ear_closed_ratio * self.open_ear:
                self._closed = True
            elif self._closed and obs.ear > self.ear_open_ratio * self.open_ear:
                self._enter("turn", obs.t)
        elif self.phase == "turn":
            sign = 1.0 if self.turn == "left" else -1.0
            if sign * obs.yaw >= self.yaw_turn:
                self._run.append(obs.yaw)
                if len(self._run) >= self.turn_frames:
                    self._enter("passed", obs.t)
            else:
                self._run = []
        return self.phase
