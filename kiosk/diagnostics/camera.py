"""Camera: grab one frame and score its focus and brightness. The frame itself is never kept
here; only `kiosk diag bundle --maintenance` stores a snapshot (see kiosk.diagnostics.bundle)."""
from __future__ import annotations

from common.health import Health, State
from kiosk.diagnostics.result import Outcome
from kiosk.diagnostics import imaging
from kiosk.diagnostics.runner import Unavailable, held, need

FRAME_TIMEOUT_S = 5.0  # a USB camera needs a second or two for its first frame


def _frame(cam):
    try:
        return cam.frame(timeout=FRAME_TIMEOUT_S)
    except TypeError:
        return cam.frame()


def grab_frame(cfg, camera=None):
    """One frame and the camera's health → (frame, Health|None). ``camera``: one the app holds
    (used as is); otherwise the configured camera is opened and closed again. Raises whatever the
    backend raises when no frame comes."""
    if camera is not None:
        return _frame(camera), (camera.health() if hasattr(camera, "health") else None)
    open_camera = need("devices.camera", "open_camera")
    cam = open_camera(dict(cfg["devices.camera"]))
    try:
        if hasattr(cam, "open"):
            cam.open()
        return _frame(cam), (cam.health() if hasattr(cam, "health") else None)
    finally:
        if hasattr(cam, "close"):
            try:
                cam.close()
            except Exception:  # closing a camera that already vanished must not mask the real error
                pass


def check(cfg, opts) -> Outcome:
    section = cfg["devices.camera"]
    facts = {"backend": section.get("backend"), "source": str(section.get("source", ""))}
    try:
        camera = held(opts, "camera")
        if camera is None and getattr(opts.services, "open_camera", None) is not None:
            # inside the app (heartbeat, maintenance): the app's own camera, opened once and
            # kept; a second handle on /dev/video* would make the citizen's capture fail
            camera = opts.services.open_camera()
        frame, device_health = grab_frame(cfg, camera)
    except Exception as exc:
        if isinstance(exc, (ImportError, Unavailable)):
            raise
        reason = getattr(exc, "message_en", None) or str(exc)
        code = getattr(exc, "code", "")
        if code in ("bad_file", "unknown_backend") or isinstance(exc, ValueError):
            return Health(State.FAILED, f"camera misconfigured: {reason}",
                          "Fix [devices.camera] backend/source in /etc/kiosk/kiosk.toml.", facts), "Camera không hoạt động"
        if code == "no_file":  # a path that is not there: the setting, not the cable (a file may come later)
            return Health(State.NEEDS_ATTENTION, f"no picture from the camera: {reason}",
                          "Set [devices.camera] source in /etc/kiosk/kiosk.toml to a USB camera's device index "
                          "(0) or /dev/video path, an existing video file, or a URL.", facts), "Không tìm thấy tệp của camera"
        if code == "no_camera":  # the device node is gone: unplugged
            return Health(State.NEEDS_ATTENTION, f"no picture from the camera: {reason}",
                          "Check the camera's USB cable (try another port); `ls /dev/video*` must list it; then "
                          "check [devices.camera] source in /etc/kiosk/kiosk.toml.", facts), "Không tìm thấy camera"
        return Health(State.NEEDS_ATTENTION, f"no picture from the camera: {reason}",
                      "Check the camera's USB cable (try another port), then `ls /dev/video*` and "
                      "`v4l2-ctl --list-devices`; check [devices.camera] source in /etc/kiosk/kiosk.toml.",
                      facts), "Camera không hoạt động"
    if frame is None or getattr(frame, "size", 0) == 0:
        return Health(State.FAILED, "the camera answered with an empty frame",
                      "Unplug and replug the camera; if it persists, replace it.", facts), "Camera không hoạt động"
    focus, brightness = imaging.focus_score(frame), imaging.brightness_score(frame)
    facts.update({"width": int(frame.shape[1]), "height": int(frame.shape[0]),
                  "focus": round(focus, 1), "brightness": round(brightness, 1)})
    if device_health is not None and device_health.state in (State.FAILED, State.NEEDS_ATTENTION):
        return Health(device_health.state, device_health.detail, device_health.action, facts)
    problems = imaging.quality_problems(focus, brightness)
    if problems:
        return Health(State.NEEDS_ATTENTION, "picture " + " and ".join(problems),
                      "Clean the lens, check the document lamp and the camera's focus ring; "
                      "put a printed form under the camera and run `kiosk diag camera` again.", facts), "Camera cần chỉnh lại"
    return Health(State.OK, f"{facts['width']}×{facts['height']} frame, focus {focus:.0f}, brightness {brightness:.0f}/255", "", facts)
