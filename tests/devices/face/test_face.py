"""devices.face: the match against the chip photo and the liveness challenge.

The "live" frames here are made, not filmed (devices/face/synth.py): the public-domain photo of
devices/face/photos/card_holder.jpg placed in a camera frame with sway and sensor noise; its blink
is a landmark warp that lowers the upper eyelids onto the lower ones, its head turn a warp that moves
the nose, eyes and mouth sideways while the jaw stays (the parallax a flat picture cannot make); the
printed-photo attack is the same photo, untouched, on a sheet swaying and turning ±25° in perspective
(also recorded to a video and played by the ``file`` camera backend); the phone-screen attack shows it
in a black bezel with a cooler light and a glare, turning ±20°.
What that proves: the match tells this person from another real face (devices/face/photos/stranger.jpg)
across a chip-style crop (240×320, JPEG and JPEG 2000) and a camera frame; the liveness logic passes
landmark motion of a blink and a 3-D turn and refuses a flat, still picture, however it is turned.
What it does not prove: how dlib sees a real person's blink and turn under a kiosk's light (only
recordings of real people can say), nor anything about video replays or masks (docs/face.md).
"""
from __future__ import annotations

import numpy as np
import pytest

from devices.face import liveness
from devices.face.liveness import Challenge, Observation, eye_aspect_ratio, yaw

# --- pure geometry, no model ------------------------------------------------------------------


def _frontal_landmarks() -> np.ndarray:
    """A plausible frontal 68-point layout: jaw from x=0 to 100, nose tip at 50, eyes open."""
    lm = np.zeros((68, 2), np.float32)
    lm[0:17, 0] = np.linspace(0, 100, 17)
    lm[0:17, 1] = 40 + 50 * np.sin(np.linspace(0, np.pi, 17))
    lm[17:27] = np.stack([np.linspace(15, 85, 10), np.full(10, 25)], 1)
    lm[27:31] = np.stack([np.full(4, 50), np.linspace(35, 55, 4)], 1)
    lm[31:36] = np.stack([np.linspace(42, 58, 5), np.full(5, 58)], 1)
    for base, x0 in ((36, 22), (42, 60)):        # p1 outer … p4, upper lid p2 p3, lower p5 p6
        lm[base:base + 6] = [(x0, 40), (x0 + 6, 36), (x0 + 12, 36), (x0 + 18, 40), (x0 + 12, 44), (x0 + 6, 44)]
    lm[48:68] = np.stack([np.linspace(38, 62, 20), np.full(20, 72)], 1)
    return lm


def test_eye_aspect_ratio_open_and_closed():
    open_eye = [(0, 0), (6, -4), (12, -4), (18, 0), (12, 4), (6, 4)]
    closed = [(0, 0), (6, -0.5), (12, -0.5), (18, 0), (12, 0.5), (6, 0.5)]
    assert eye_aspect_ratio(open_eye) == pytest.approx(8 / 18)
    assert eye_aspect_ratio(closed) == pytest.approx(1 / 18)
    assert eye_aspect_ratio([(0, 0)] * 6) == 0.0


def test_yaw_is_zero_frontal_signed_when_turned_and_flat_picture_turning_stays_frontal():
    import cv2

    from devices.face.synth import turned

    lm = _frontal_landmarks()
    assert abs(yaw(lm)) < 0.02
    assert yaw(turned(lm, "left")) > 0.3 and yaw(turned(lm, "right")) < -0.3
    # a flat sheet with these points, turned ±35° about its vertical axis and seen in perspective,
    # or tilted in the image plane: the nose stays between the jaw's ends → still frontal
    src = np.float32([[0, 0], [100, 0], [100, 100], [0, 100]])
    for k in (-0.35, 0.35):
        dst = np.float32([[0, 0 - 12 * k], [100 * (1 - abs(k) / 2), 12 * k], [100 * (1 - abs(k) / 2), 100 - 12 * k],
                          [0, 100 + 12 * k]])
        h = cv2.getPerspectiveTransform(src, dst)
        flat = cv2.perspectiveTransform(lm[None], h)[0]
        assert abs(yaw(flat)) < 0.12, k
    a = np.deg2rad(20)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    assert abs(yaw(lm @ rot.T)) < 0.02


def _obs(seq, fps=10):
    return [Observation(i / fps, *x) for i, x in enumerate(seq)]


def test_challenge_passes_look_blink_turn_in_order():
    seq = [(True, 0.30, 0.0)] * 3 + [(True, 0.12, 0.0)] * 2 + [(True, 0.30, 0.0)] + [(True, 0.3, 0.4)] * 2
    ch = Challenge(turn="left")
    phases = [ch.feed(o) for o in _obs(seq)]
    assert phases[2] == "blink" and phases[5] == "turn" and phases[-1] == "passed"
    assert ch.open_ear == pytest.approx(0.30) and ch.prompt == "passed"


def test_still_picture_times_out_at_the_blink():
    ch = Challenge(turn="right", phase_timeout_s=3)
    for o in _obs([(True, 0.31, 0.01)] * 60):
        ch.feed(o)
    assert ch.phase == "failed" and ch.reason == "no_blink"


def test_turn_to_the_wrong_side_or_no_face_fails():
    ch = Challenge(turn="right", phase_timeout_s=2)
    seq = [(True, 0.3, 0.0)] * 3 + [(True, 0.1, 0.0), (True, 0.3, 0.0)] + [(True, 0.3, 0.45)] * 30
    for o in _obs(seq):
        ch.feed(o)
    assert ch.phase == "failed" and ch.reason == "no_turn"
    ch = Challenge(phase_timeout_s=2)
    for o in _obs([(False, None, None)] * 30):
        ch.feed(o)
    assert ch.reason == "no_face"
    with pytest.raises(ValueError):
        Challenge(turn="up")


# --- with dlib's models -------------------------------------------------------------------------

face = pytest.importorskip("devices.face.model")
needs_models = pytest.mark.skipif(not face.available(), reason="dlib or face-recognition-models not installed")


@pytest.fixture(scope="module")
def model():
    return face.shared_model()


@needs_models
@pytest.mark.parametrize("fmt", ["jpeg", "jp2"])
def test_chip_photo_matches_the_same_person_and_refuses_another(model, fmt):
    from devices.face import match
    from devices.face.synth import chip_portrait, scene

    chip = chip_portrait(fmt=fmt)
    assert chip[:2] == b"\xff\xd8" if fmt == "jpeg" else chip[4:8] == b"jP  "
    same = match(chip, scene("card_holder", "open"), model=model)
    other = match(chip, scene("stranger", "open"), model=model)
    assert same.passed and same.reason == "match" and same.distance < 0.45
    assert not other.passed and other.reason == "no_match" and other.distance > same.threshold
    rec = same.record()
    assert set(rec) == {"passed", "distance", "threshold", "model", "reason"}   # numbers only, no image


@needs_models
def test_no_face_in_the_frame(model):
    from devices.face import match
    from devices.face.synth import chip_portrait

    blank = np.full((720, 1280, 3), 200, np.uint8)
    r = match(chip_portrait(), blank, model=model)
    assert not r.passed and r.reason == "no_face_live" and r.distance is None


def _run(model, frames, turn):
    ch = Challenge(turn=turn, phase_timeout_s=2.0)
    for i, f in enumerate(frames):
        if ch.feed(liveness.observe(model, f, i / 8)) in ("passed", "failed"):
            break
    return ch


@needs_models
@pytest.mark.parametrize("turn", ["left", "right"])
def test_genuine_sequence_passes(model, turn):
    from devices.face.synth import scene

    script = ["open"] * 3 + ["closed"] * 2 + ["open"] + [turn] * 3
    ch = _run(model, [scene("card_holder", p, index=i) for i, p in enumerate(script)], turn)
    assert ch.phase == "passed", (ch.reason, ch.history)


@needs_models
def test_blink_then_a_flat_turn_of_the_printed_photo_is_not_a_head_turn(model):
    """A real blink (the warp) followed by the printed photo swaying: still refused at the turn."""
    from devices.face.synth import printed_photo, scene

    frames = [scene("card_holder", p, index=i) for i, p in enumerate(["open"] * 3 + ["closed"] * 2 + ["open"])]
    frames += [printed_photo("card_holder", index=i) for i in range(0, 40, 2)]
    ch = _run(model, frames, "left")
    assert ch.phase == "failed" and ch.reason == "no_turn", ch.history


@needs_models
def test_simulated_camera_person_obeys_prompts_and_a_printed_photo_does_not(model):
    from devices.camera import open_camera

    cam = open_camera({"backend": "sim", "width": 1280, "height": 720})
    cam.open()
    with pytest.raises(ValueError):
        cam.show_face("nobody")
    cam.show_face("card_holder")
    base = liveness.observe(model, cam.frame()[:, :, ::-1], 0)
    cam.act("blink")
    blink = liveness.observe(model, cam.frame()[:, :, ::-1], 0)
    cam.act("turn_right")
    for _ in range(3):                    # a blink lasts 3 frames, then the eyes open again
        frame = cam.frame()
    turned = liveness.observe(model, frame[:, :, ::-1], 0)
    assert blink.ear < 0.65 * base.ear and turned.yaw < -0.3
    cam.show_face("printed")
    cam.act("blink")
    cam.act("turn_left")
    still = [liveness.observe(model, cam.frame()[:, :, ::-1], 0) for _ in range(3)]
    assert all(o.face and o.ear > 0.8 * base.ear and abs(o.yaw) < 0.15 for o in still)
    cam.place_page(None)                  # a paper under the camera: the desk scene again, nobody posing
    assert cam.frame().shape == (720, 1280, 3) and not liveness.observe(model, cam.frame()[:, :, ::-1], 0).face


@needs_models
def test_phone_screen_and_a_recorded_video_of_the_printed_photo_through_the_file_camera_fail(model, tmp_path):
    """The attacks as recordings: a phone showing her photo, and an MJPG video of the printed photo
    swaying, played by the ``file`` camera backend as a camera would deliver it."""
    import cv2

    from devices.camera import open_camera
    from devices.face.synth import phone_screen, printed_photo

    frames = [phone_screen("card_holder", index=i) for i in range(20)]
    assert liveness.observe(model, frames[0], 0).face          # the phone's face is seen…
    ch = _run(model, frames, "right")
    assert ch.phase == "failed" and ch.reason == "no_blink", ch.history   # …but never blinks
    video = tmp_path / "printed.avi"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 8, (640, 360))
    assert out.isOpened()
    for i in range(20):
        out.write(cv2.resize(printed_photo("card_holder", index=i), (640, 360))[:, :, ::-1])
    out.release()
    cam = open_camera({"backend": "file", "source": str(video)})
    cam.open()
    ch = _run(model, [cam.frame()[:, :, ::-1].copy() for _ in range(20)], "left")
    assert ch.phase == "failed" and ch.reason == "no_blink", ch.history
