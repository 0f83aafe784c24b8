"""documents on the kiosk: kiosk.ui.screens.documents.DocumentsScreen (camera, preview, keep or
retake). The scripted citizen photographs each required paper on the simulated desk; the help-clip
walk attaches a blank page for each."""
from __future__ import annotations

from kiosk.ui.steps import StepUI


def citizen(w, label: str) -> bool:
    w.capture_documents(label)
    w.tap("nav.next")
    return False


def attach_blank_pages(app) -> None:
    """A blank white page for every required document not yet attached (the camera is not what a
    help clip shows)."""
    import hashlib
    import io

    from PIL import Image

    from kiosk.session import Attachment

    engine = app.session.engine
    for doc, required in engine.step_documents():
        if required and doc.id not in app.session.attachments:
            buf = io.BytesIO()
            Image.new("RGB", (640, 480), "white").save(buf, format="JPEG", quality=80)
            jpeg = buf.getvalue()
            sha = hashlib.sha256(jpeg).hexdigest()
            app.session.attachments[doc.id] = Attachment(doc.id, jpeg, "image/jpeg", sha)
            engine.set_attachment(doc.id, sha, len(jpeg), "image/jpeg")


def clip(c) -> bool:
    attach_blank_pages(c.app)
    c.app.show_step()
    c.d.pump(3)
    return False


UI = StepUI(
    "documents", "step-documents", "kiosk.ui.screens.documents:DocumentsScreen",
    hint_vi="Đặt từng giấy tờ lên khay, thẳng và đủ sáng, rồi bấm nút {button}.",
    button="docs.capture", citizen=citizen, clip=clip,
)
