"""Camera backends: ``open()``, ``frame(timeout) -> BGR ndarray``, ``close()``, ``health()``;
picked by ``cfg["backend"]`` from :data:`BACKENDS`; the keys they read are declared in
:mod:`devices.camera.config`. ``open_camera`` builds one without I/O; ``open()`` does it.

* ``opencv`` — ``cv2.VideoCapture`` on a device index, a path or a URL. A worker thread grabs
  frames continuously (so ``frame()`` never waits for the driver and the screen never freezes)
  and reopens the source when it stops delivering (unplugged camera, dropped stream; for a video
  file, that is also how it loops). A file is paced at ``fps``, as a device would be.
* ``file`` — an image (same frame every time) or a video read frame by frame and looping; no
  thread, fully deterministic: what the simulation and tests use for "this exact picture".
* ``sim`` — a generated scene: a form page lying on a desk (see :mod:`devices.camera.scene`);
  ``hold_qr(payload)`` puts a QR code card in view, as a citizen would; ``show_face(who)`` puts a
  person (or a printed photo) in front of it and ``act(prompt)`` makes them blink or turn.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping

import numpy as np

from common.health import Health, State
from common.errors import BilingualError

log = logging.getLogger(__name__)

__all__ = ["CameraError", "OpenCvCamera", "FileCamera", "SimCamera", "BACKENDS", "open_camera"]


class CameraError(BilingualError):
    """No usable picture; ``code`` says why: ``no_camera`` (the device is not there), ``no_file``
    (the file source is not there), ``no_frame`` (there, but no picture came), ``bad_file``, …"""


_NOT_READY_VI = "Máy ảnh chưa sẵn sàng. Vui lòng chờ một chút hoặc báo cán bộ hỗ trợ."


def _no_camera(device: str) -> CameraError:
    """The device node of a camera is not there: unplugged, or the wrong ``source``."""
    return CameraError(code="no_camera",
                       en=f"no camera at {device}: check the camera's USB cable (try another port), then "
                          "[devices.camera] source",
                       vi="Không tìm thấy máy ảnh. Vui lòng báo cán bộ hỗ trợ kiểm tra dây cáp của máy ảnh "
                          "và mục source trong cài đặt máy ảnh.")


def _no_file(path: str) -> CameraError:
    """The file a camera backend should play is not there: the ``source`` setting is wrong."""
    return CameraError(code="no_file",
                       en=f"camera file not found: {path or '(empty source)'}: check [devices.camera] source",
                       vi="Không tìm thấy tệp ảnh hoặc video dùng làm máy ảnh. Vui lòng báo cán bộ hỗ trợ "
                          "kiểm tra mục source trong cài đặt máy ảnh.")


def _settings(cfg: Mapping | None):
    """``cfg`` over the [devices.camera] defaults; reading an undeclared key raises."""
    from devices.camera.config import SECTION  # the section takes its backend names from BACKENDS below

    return SECTION.settings(cfg)


def _source(value: str | int):
    if isinstance(value, int):
        return value
    value = (value or "").strip()
    if value == "":
        return 0
    return int(value) if value.isdigit() else value


class OpenCvCamera:
    def __init__(self, cfg: Mapping | None = None):
        cfg = _settings(cfg)
        self.source = _source(cfg["source"])
        self.width = int(cfg["width"])
        self.height = int(cfg["height"])
        self.fps = int(cfg["fps"])
        self.reconnect_s = float(cfg["reconnect_s"])
        # what the source names decides what "not there" means: an unplugged camera or a wrong path
        if isinstance(self.source, int):
            self._kind = "device"
            # Linux names camera N /dev/videoN; elsewhere an index cannot be checked without opening it
            self._node = f"/dev/video{self.source}" if sys.platform.startswith("linux") else None
        elif "://" in self.source:
            self._kind, self._node = "url", None  # a stream: only opening it tells
        elif self.source.startswith("/dev/"):
            self._kind, self._node = "device", self.source
        else:
            self._kind, self._node = "file", self.source
        self._is_file = self._kind == "file" and os.path.isfile(self.source)
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self._frame_at = 0.0
        self._count = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open_lock = threading.Lock()
        self._error = "not opened"
        self.reopens = 0
        self._started = 0.0

    def _absent(self) -> CameraError | None:
        """The error for a source that is not there (a cheap stat, no opening), or None."""
        if self._node is None or os.path.exists(self._node):
            return None
        return _no_camera(self._node) if self._kind == "device" else _no_file(self._node)

    def open(self) -> None:
        """Start the grab thread (once). Raises CameraError ``no_camera``/``no_file`` when the
        source is not there, and starts no thread then: ``frame()`` opens on first use, so the
        camera delivers once it is plugged in, and an owner that drops this handle leaks nothing.
        Once started, the thread reopens a source that goes away by itself."""
        with self._open_lock:  # the QR loop and a screen may both open on first use: one thread
            if self._thread is not None:
                return
            problem = self._absent()
            if problem is not None:
                raise problem
            self._stop.clear()
            self._started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="camera-grab", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _capture(self):
        import cv2

        # re-checked at every (re)open: a path that was missing at start may be a file now
        self._is_file = self._kind == "file" and os.path.isfile(self.source)
        if self._absent() is not None:
            return None  # cv2 would only log a warning per attempt; health() and frame() say why
        cap = cv2.VideoCapture(self.source)
        if not cap.isOpened():
            cap.release()
            return None
        if not self._is_file:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one from a second ago
        return cap

    def _run(self) -> None:
        period = 1.0 / max(1, self.fps)
        while not self._stop.is_set():
            cap = self._capture()
            if cap is None:
                self._error = "cannot open the camera source"
                self._stop.wait(self.reconnect_s)
                continue
            self._error = ""
            try:
                next_at = time.monotonic()
                while not self._stop.is_set():
                    ok, frame = cap.read()
                    if not ok or frame is None:
                        # end of a file (loop) or a device that went away (reconnect): reopen
                        self._error = "" if self._is_file else "the camera stopped delivering frames"
                        break
                    with self._cond:
                        self._frame = frame
                        self._frame_at = time.monotonic()
                        self._count += 1
                        self._cond.notify_all()
                    if self._is_file:  # a device paces itself; a file would be read flat out
                        next_at += period
                        self._stop.wait(max(0.0, next_at - time.monotonic()))
            finally:
                cap.release()
            self.reopens += 1
            if not self._is_file:
                self._stop.wait(self.reconnect_s)

    def _no_frame(self, what: str) -> CameraError:
        """Why no frame came: the source is not there (said at once), or the plain timeout."""
        return self._absent() or CameraError(code="no_frame", vi=_NOT_READY_VI,
                                             en=f"{what} from the camera ({self._error or 'timeout'})")

    def frame(self, timeout: float = 2.0) -> np.ndarray:
        """The newest frame (a copy: callers may draw on it). Waits for the first one; raises
        CameraError at once when the source is not there, ``no_frame`` after ``timeout``."""
        if self._thread is None:
            self.open()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._frame is None or time.monotonic() - self._frame_at > max(2.0, timeout):
                left = deadline - time.monotonic()
                if left <= 0 or self._absent() is not None:
                    raise self._no_frame("no frame")
                self._cond.wait(min(left, 0.25))  # wakes to notice a camera unplugged meanwhile
            return self._frame.copy()

    def wait_next(self, timeout: float = 2.0) -> np.ndarray:
        """The first frame grabbed after this call (for snapshots: no stale picture)."""
        if self._thread is None:
            self.open()
        deadline = time.monotonic() + timeout
        with self._cond:
            start = self._count
            while self._count <= start:
                left = deadline - time.monotonic()
                if left <= 0 or self._absent() is not None:
                    raise self._no_frame("no new frame")
                self._cond.wait(min(left, 0.25))
            return self._frame.copy()

    def health(self) -> Health:
        # a URL may hold credentials: only its kind is shown
        facts = {"source": "<url>" if self._kind == "url" else self.source, "frames": self._count,
                 "reopens": self.reopens}
        if self._frame is not None:
            facts["size"] = f"{self._frame.shape[1]}x{self._frame.shape[0]}"
        problem = self._absent()
        if problem is not None and self._kind == "file":
            return Health(State.FAILED, problem.message_en,
                          "set [devices.camera] source to an existing video file, a device index or a URL", facts)
        if problem is not None:
            return Health(State.NEEDS_ATTENTION, problem.message_en,
                          "check the camera's USB cable (`ls /dev/video*`) and [devices.camera] source", facts)
        if self._thread is None:
            return Health(State.NOT_READY, "camera not opened", "", facts)
        age = time.monotonic() - (self._frame_at or self._started)
        if self._frame is not None and age < 2.0:
            return Health(State.OK, "camera delivering frames", "", facts)
        if age < 10.0:
            return Health(State.NOT_READY, f"waiting for frames ({self._error or 'starting'})", "wait", facts)
        return Health(State.NEEDS_ATTENTION, f"no frames for {age:.0f} s ({self._error})",
                      "check the camera cable and [devices.camera] source", facts)


class FileCamera:
    def __init__(self, cfg: Mapping | None = None):
        self.path = _settings(cfg)["source"]
        self._cap = None
        self._image: np.ndarray | None = None
        self.frames = 0

    def open(self) -> None:
        import cv2

        if self._image is not None or self._cap is not None:
            return
        if not self.path or not os.path.isfile(self.path):
            raise _no_file(self.path)
        img = cv2.imread(self.path, cv2.IMREAD_COLOR)
        if img is not None:
            self._image = img
            return
        cap = cv2.VideoCapture(self.path)
        if not cap.isOpened():
            raise CameraError(code="bad_file", en="the camera file is neither an image nor a video OpenCV can read",
                              vi=_NOT_READY_VI)
        self._cap = cap

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def frame(self, timeout: float = 2.0) -> np.ndarray:
        import cv2

        if self._image is None and self._cap is None:
            self.open()
        self.frames += 1
        if self._image is not None:
            return self._image.copy()
        ok, frame = self._cap.read()
        if not ok:  # loop the video
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            if not ok:
                raise CameraError(code="bad_file", en="the camera video has no readable frame", vi=_NOT_READY_VI)
        return frame

    def health(self) -> Health:
        facts = {"frames": self.frames, "kind": "image" if self._image is not None else "video"}
        if self._image is None and self._cap is None:
            ok = bool(self.path) and os.path.isfile(self.path)
            return Health(State.NOT_READY if ok else State.FAILED,
                          "file camera not opened" if ok else "camera file not found",
                          "" if ok else "set [devices.camera] source to an image or video file", facts)
        return Health(State.OK, "file camera", "", facts)


class SimCamera:
    """A desk with a form page on it; ``hold_qr(payload)`` shows a QR card next to the page."""

    def __init__(self, cfg: Mapping | None = None):
        cfg = _settings(cfg)
        self.size = (int(cfg["width"]), int(cfg["height"]))
        self._scene: np.ndarray | None = None
        self._qr: bytes | str | None = None
        self._lock = threading.Lock()
        self.frames = 0
        self._face: str | None = None      # show_face(): who stands in front of the camera
        self._pose = "open"
        self._blink_left = 0

    def open(self) -> None:
        with self._lock:
            if self._scene is None:
                from devices.camera.scene import desk_photo

                self._base, self.page_quad = desk_photo(seed=7, size=self.size, tilt=0.08, angle=-6, shadow=0.2,
                                                        coverage=0.75)
                self._scene = self._base

    def close(self) -> None:
        pass

    def place_page(self, title: str | None) -> None:
        """Put a paper headed ``title`` under the camera (None: the birth certificate again): what
        the scripted citizen does before photographing each document."""
        from devices.camera.scene import desk_photo, document_page

        self.open()
        base, quad = desk_photo(seed=7, size=self.size, tilt=0.08, angle=-6, shadow=0.2, coverage=0.75,
                                page=document_page(title=title))
        with self._lock:
            self._base, self.page_quad = base, quad
            self._scene = base
            self._face = None        # a paper laid under the camera: nobody is posing in front of it
        if self._qr is not None:
            self.hold_qr(self._qr)

    def hold_qr(self, payload: bytes | str | None) -> None:
        """Show a QR code card in the corner of the scene (None: take it away)."""
        from devices.qr.synth import paste_quad, qr_image

        self.open()
        with self._lock:
            self._qr = payload
            if payload is None:
                self._scene = self._base
                return
            scene = self._base.copy()
            w, h = self.size
            side = 0.42 * h
            x0, y0 = w * 0.05, h * 0.5 - side / 2
            quad = np.float32([[x0, y0], [x0 + side, y0 + side * 0.04], [x0 + side * 0.97, y0 + side],
                               [x0 - side * 0.02, y0 + side * 0.98]])
            paste_quad(scene, qr_image(payload, scale=8, border=4), quad)
            self._scene = scene

    # --- a person in front of the camera (the face step; devices/face/synth.py makes the frames) ----------
    FACES = ("card_holder", "stranger", "printed")

    def show_face(self, who: str | None) -> None:
        """Put someone in front of the camera instead of the desk: ``card_holder`` (the person of the
        sample card's DG2 photo), ``stranger`` (someone else) or ``printed`` (the card holder's photo
        printed on paper and held up: it sways, but never blinks or turns its head); None: the desk."""
        if who is not None and who not in self.FACES:
            raise ValueError(f"no simulated face {who!r}; known: {', '.join(self.FACES)}")
        with self._lock:
            self._face, self._pose, self._blink_left = who, "open", 0

    def act(self, prompt: str) -> None:
        """The person in view does what the screen asks: ``look`` (straight at the camera), ``blink``
        (eyes closed for a few frames), ``turn_left`` / ``turn_right`` (the person's own side). A
        printed photo does nothing."""
        with self._lock:
            if self._face in (None, "printed"):
                return
            if prompt == "blink":
                self._blink_left = 3
            elif prompt in ("turn_left", "turn_right"):
                self._pose = prompt[5:]
            elif prompt == "look":
                self._pose = "open"

    def _face_frame(self, who: str, index: int) -> np.ndarray:
        from devices.face import synth

        if who == "printed":
            return synth.printed_photo("card_holder", self.size, index=index)[:, :, ::-1].copy()
        with self._lock:
            pose = self._pose
            if self._blink_left > 0:
                self._blink_left -= 1
                pose = "closed"
        return synth.scene(who, pose, self.size, index=index)[:, :, ::-1].copy()

    def frame(self, timeout: float = 2.0) -> np.ndarray:
        self.open()
        self.frames += 1
        who = self._face
        if who is not None:
            return self._face_frame(who, self.frames)
        with self._lock:
            return self._scene.copy()

    def health(self) -> Health:
        facts = {"frames": self.frames, "size": f"{self.size[0]}x{self.size[1]}"}
        if self._scene is None:
            return Health(State.NOT_READY, "simulated camera not opened", "", facts)
        return Health(State.OK, "simulated camera", "", facts)


#: backend name → class; ``[devices.camera] backend`` accepts exactly these names
BACKENDS = {"opencv": OpenCvCamera, "file": FileCamera, "sim": SimCamera}


def open_camera(cfg: Mapping | None):
    """The camera of ``cfg["backend"]`` (the ``[devices.camera]`` section), built without I/O and
    not opened: call ``open()`` (idempotent). An unknown backend raises CameraError naming the known ones."""
    settings = _settings(cfg)
    from devices.camera.config import SECTION

    return SECTION.pick(BACKENDS, settings, CameraError)(settings)
