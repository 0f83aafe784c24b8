"""A camera frame (an OpenCV BGR array) shown in a Kivy Image: scaled down to ``width`` pixels, turned
the right way up for OpenGL, mirrored when asked (a face preview: citizens expect a mirror), blitted
into the image's own texture, made anew only when the size changes. One copy for the documents and
the face screens."""
from __future__ import annotations

from kivy.graphics.texture import Texture


def show_frame(image, frame, width: int, mirror: bool = False) -> None:
    import cv2

    small = cv2.resize(frame, (width, int(width * frame.shape[0] / frame.shape[1])), interpolation=cv2.INTER_AREA)
    rgb = cv2.flip(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), -1 if mirror else 0)  # -1: upside down and mirrored
    h, w = rgb.shape[:2]
    tex = image.texture if image.texture and image.texture.size == (w, h) else None
    if tex is None:
        tex = Texture.create(size=(w, h), colorfmt="rgb")
    tex.blit_buffer(rgb.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    image.texture = tex
    image.canvas.ask_update()
