"""QR scanner: open it and, where possible, a test scan.

On the simulated backend a known payload is injected and must come back byte for byte. On a real
scanner a scan needs a person: with `--scan-timeout N` the check waits N seconds for the technician
to scan any code (the procedure poster's `kiosk://flow/...` code works) and reports only its length
and kind, never its content, because a citizen's card QR holds personal data. The camera backend
on a real camera (or a video file) looks for a code in view for a few seconds: a code read is a
test scan; no code but pictures coming is ok; no picture says why (no camera, no file).
"""
from __future__ import annotations

from common.health import Health, State
from kiosk.diagnostics.result import Outcome
from kiosk.diagnostics.facts import plain
from kiosk.diagnostics.runner import held, need

TEST_PAYLOAD = b"kiosk://flow/kiosk-diag-test"
CAMERA_LOOK_S = 3.0  # camera backend without --scan-timeout: how long to look for a code already in view
FIRST_FRAME_S = 5.0  # a USB camera needs a second or two for its first frame (as in the camera check)


def _kind(payload: bytes) -> str:
    if payload.startswith(b"kiosk://flow/"):
        return "procedure"
    if payload.startswith((b"KIOSKVN2|", b"KIOSKVN1|")):
        return "receipt"
    if payload.count(b"|") >= 5:
        return "id card"
    return "other"


def check(cfg, opts) -> Outcome:
    section = dict(cfg["devices.qr"])
    facts: dict = {"backend": section.get("backend"), "port": section.get("port", "")}
    app_scanner = held(opts, "scanner")
    if app_scanner is not None:
        # the app's reading loop consumes codes: a test payload would be taken as a citizen's scan
        health = app_scanner.health()
        return Health(health.state, health.detail, health.action, {**facts, **plain(health.facts)})
    open_scanner = need("devices.qr", "open_scanner")
    try:
        # the camera backend decodes frames of the [devices.camera] camera; scanner.open() opens it
        scanner = open_scanner(section, camera=dict(cfg["devices.camera"]))
        try:
            scanner.open()
        except Exception:
            if section.get("backend") != "serial":
                raise
            # a serial port that is not there: health() below says why
    except Exception as exc:
        if isinstance(exc, ImportError):
            raise
        if getattr(exc, "code", "") == "camera_failed":  # the camera is not there: a person must act
            return _camera_failed(exc, facts)
        return Health(State.FAILED, f"cannot open the QR scanner: {getattr(exc, 'message_en', None) or exc}",
                      "Check [devices.qr] in /etc/kiosk/kiosk.toml (backend, port).", facts), "Máy quét QR không hoạt động"
    try:
        health: Health = scanner.health() if hasattr(scanner, "health") else Health(State.OK)
        facts.update(plain(health.facts))
        if section.get("backend") == "serial" and health.state is State.NOT_READY:
            # just opened and the port is not there: in a diagnostic that means unplugged, not "wait"
            return Health(State.NEEDS_ATTENTION, f"the scanner's serial port cannot be opened: {health.detail}",
                          "Check the scanner's USB cable; `ls -l /dev/serial/by-id/` must show it; check "
                          "[devices.qr] port in /etc/kiosk/kiosk.toml and that user kiosk is in group dialout.",
                          facts), "Chưa cắm máy quét QR"
        if health.state in (State.FAILED, State.NEEDS_ATTENTION):
            return Health(health.state, health.detail, health.action, facts), "Máy quét QR cần kiểm tra"
        camera = getattr(scanner, "camera", None)
        if hasattr(scanner, "inject") or hasattr(camera, "hold_qr"):
            if hasattr(scanner, "inject"):
                scanner.inject(TEST_PAYLOAD)
            else:  # camera backend on the simulated camera: show it a code
                camera.hold_qr(TEST_PAYLOAD)
            try:
                got = scanner.read(5.0)
            finally:
                if hasattr(camera, "hold_qr"):
                    camera.hold_qr(None)
            if got != TEST_PAYLOAD:
                return Health(State.FAILED, f"test scan: injected {len(TEST_PAYLOAD)} bytes, read back {'nothing' if got is None else f'{len(got)} different bytes'}",
                              "The scanner pipeline loses data: send a support bundle (kiosk diag bundle).", facts)
            facts["test_scan"] = "injected payload read back"
            return Health(State.OK, "test scan ok (simulated payload read back)", "", facts)
        if section.get("backend") == "camera":
            return _camera_look(scanner, opts, facts)
        if opts.scan_timeout_s > 0:
            got = scanner.read(opts.scan_timeout_s)
            if got is None:
                return Health(State.NEEDS_ATTENTION, f"no code scanned within {opts.scan_timeout_s:.0f} s",
                              "Hold a QR code 10–20 cm under the scanner's light; if its light stays off, replug it or replace it.",
                              facts), "Máy quét QR cần kiểm tra"
            facts["test_scan"] = {"bytes": len(got), "kind": _kind(got)}
            return Health(State.OK, f"test scan ok ({len(got)} bytes, {_kind(got)} code)", "", facts)
        return Health(health.state, health.detail or "scanner open; no test scan (use --scan-timeout 15 to scan a code)",
                      health.action, facts)
    finally:
        if hasattr(scanner, "close"):
            try:
                scanner.close()
            except Exception:  # an unplugged scanner cannot be closed cleanly; nothing to do
                pass


def _camera_failed(exc, facts: dict) -> Outcome:
    return Health(State.NEEDS_ATTENTION, f"the QR scanner's camera gives no picture: {exc.message_en}",
                  "Check the camera's USB cable (try another port) and `ls /dev/video*`; check [devices.camera] "
                  "source in /etc/kiosk/kiosk.toml (a device index such as 0, a video file or a URL).",
                  facts), "Camera của máy quét QR không có hình"


def _camera_look(scanner, opts, facts: dict) -> Outcome:
    """The camera backend on a real camera or a video file: a code already in view is a test scan;
    pictures without a code are fine unless a scan was asked for (--scan-timeout)."""
    camera_error = need("devices.camera", "CameraError")
    wait = opts.scan_timeout_s if opts.scan_timeout_s > 0 else CAMERA_LOOK_S
    try:
        # the first frame first, with the camera check's patience: read() gives a frame 2 s
        camera = getattr(scanner, "camera", None)
        if camera is not None:
            camera.frame(FIRST_FRAME_S)
        got = scanner.read(wait)
    except Exception as exc:  # the camera's error, or ScannerError camera_failed caused by it
        if isinstance(exc, camera_error) or getattr(exc, "code", "") == "camera_failed":
            return _camera_failed(exc, facts)
        raise
    health: Health = scanner.health()
    facts.update(plain(health.facts))
    if got is not None:
        facts["test_scan"] = {"bytes": len(got), "kind": _kind(got)}
        return Health(State.OK, f"test scan ok ({len(got)} bytes, {_kind(got)} code, seen by the camera)", "", facts)
    if opts.scan_timeout_s > 0:
        return Health(State.NEEDS_ATTENTION, f"no code seen by the camera within {opts.scan_timeout_s:.0f} s",
                      "Hold a QR code flat under the camera, 15–30 cm away, in good light; clean the lens.",
                      facts), "Máy quét QR cần kiểm tra"
    if health.state is State.OK:
        return Health(State.OK, f"{health.detail}; no QR code in view (use --scan-timeout 15 to test a scan)", "", facts)
    return Health(health.state, health.detail, health.action, facts)
