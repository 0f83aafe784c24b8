"""Documents: photograph each paper with a live preview, quality hints, retake or keep."""
from __future__ import annotations

from kivy.clock import Clock
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from common.errors import user_message
from flows.steps.documents import step_papers
from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.step import StepScreen, error_text
from kiosk.session import Attachment
from kiosk.ui.widgets.camera_view import show_frame
from kiosk.ui.widgets.common import BigButton, Column, Row, Text, app, scroller, theme


class DocumentsScreen(StepScreen):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.capturing = None      # document id being photographed
        self.candidate = None      # processed capture waiting for keep/retake
        self.message = ""
        self._preview_ev = None

    def on_pre_enter(self, *args):
        self.capturing, self.candidate, self.message = None, None, ""
        super().on_pre_enter(*args)

    def on_leave(self, *args):
        self._stop_preview()

    def documents(self):
        """(Document, photo required) pairs this visit needs, as the engine resolves them."""
        return app().session.engine.step_documents(self.step)

    def build_body(self, body):
        lang = app().lang
        if self.capturing:
            self._build_camera(body, lang)
            return
        self._stop_preview()
        self.add_intro(body)
        col = Column(spacing=28)
        session = app().session
        self.capture_buttons = {}
        # the same labels as the guide ("Phải mang" / the paper's "Chỉ khi …"), from the same
        # listing (flows.steps.documents), now resolved by the answers: a paper they make
        # unnecessary is not listed at all
        papers = step_papers(session.engine, self.step)
        if not papers:
            col.add_widget(Text(tr("guide.no_papers", lang), role="body"))
        for paper in papers:
            doc = paper.document
            row = Row(spacing=16, height=120)
            left = Column(spacing=4, size_hint_x=0.62)
            left.add_widget(Text(paper.title(lang), role="body", bold=True))
            left.add_widget(Text(paper.note(lang), role="body", bold=paper.label == "must"))
            if doc.hint:
                left.add_widget(Text(pick(doc.hint, lang), role="body", color=theme().muted))
            row.add_widget(left)
            # a long name wraps over several lines: the row grows with it, so the next paper's
            # name never slides under this paper's button
            left.bind(height=lambda w, h, r=row: setattr(r, "height", max(120, h)))
            holder = AnchorLayout(anchor_y="center")
            if doc.photo == "none":
                holder.add_widget(Text(tr("docs.at_counter", lang), role="body", color=theme().muted))
            else:
                done = doc.id in session.attachments
                label = tr("docs.capture", lang) if paper.photo_required else tr("docs.capture_optional", lang)
                # "Tiếp tục" is the screen's one filled button; these are outlined until done
                self.capture_buttons[doc.id] = BigButton(("✓ " + tr("docs.done", lang)) if done else label,
                                                         kind="ok" if done else "secondary",
                                                         on_press=lambda d=doc.id: self._start(d))
                holder.add_widget(self.capture_buttons[doc.id])
            row.add_widget(holder)
            col.add_widget(row)
        body.add_widget(scroller(col))
        if self.message:
            body.add_widget(error_text(self.message))
        self.add_footer(body)

    # --- camera -----------------------------------------------------------------------------------
    def _start(self, doc_id):
        self.capturing, self.candidate, self.message = doc_id, None, ""
        self.refresh()

    def _build_camera(self, body, lang):
        doc = next(d for d, _ in self.documents() if d.id == self.capturing)
        body.add_widget(Text(pick(doc.name, lang) + " — " + tr("docs.place", lang), role="body", bold=True))
        self.preview = Image(fit_mode="contain") if hasattr(Image, "fit_mode") else Image()
        body.add_widget(self.preview)
        self.hint = error_text(self.message)
        body.add_widget(self.hint)
        row = BoxLayout(size_hint_y=None, height=110, spacing=20)
        row.add_widget(BigButton(tr("nav.back", lang), kind="secondary", on_press=self._cancel))
        if self.candidate is not None:
            row.add_widget(BigButton(tr("docs.retake", lang), kind="secondary", on_press=lambda: self._start(doc.id)))
            row.add_widget(BigButton(tr("docs.keep", lang), kind="primary", on_press=self._keep))
            self._show_png(self.candidate["preview"])
        else:
            row.add_widget(BigButton("◉ " + tr("docs.capture", lang), kind="primary", on_press=self._shoot))
            self._start_preview()
        body.add_widget(row)

    def _start_preview(self):
        a = app()

        def open_cam():
            return a.services.open_camera()

        def ready(_cam):
            self._stop_preview()
            self._preview_ev = Clock.schedule_interval(self._update_preview, 1 / 10)

        a.run_async(open_cam, on_done=ready, on_error=self._camera_failed)

    def _stop_preview(self):
        if self._preview_ev is not None:
            self._preview_ev.cancel()
            self._preview_ev = None

    def _update_preview(self, _dt):
        cam = app().services.camera
        frame = cam.frame() if cam else None
        if frame is None or not hasattr(self, "preview"):
            return
        show_frame(self.preview, frame, 960)

    def _show_png(self, png: bytes):
        from io import BytesIO

        from kivy.core.image import Image as CoreImage

        self.preview.texture = CoreImage(BytesIO(png), ext="png").texture

    def _camera_failed(self, exc):
        self.capturing = None
        self.message = user_message(exc, app().lang, "Máy ảnh chưa sẵn sàng. Xin báo cán bộ hỗ trợ.",
                                    "The camera is not ready. Please tell the staff.")
        self.refresh()

    def _shoot(self):
        a = app()
        cam = a.services.camera
        frame = cam.frame() if cam is not None else None
        if frame is None:  # the camera is still starting: the preview shows when it is ready
            self.hint.text = "Máy ảnh đang khởi động, xin chờ một chút." if a.lang == "vi" else "The camera is starting."
            return
        self._stop_preview()

        def process():
            import cv2

            from devices.camera.document import (
                DocumentError,
                capture_document,
                encode_jpeg,
            )

            try:
                page = capture_document(frame)
            except DocumentError as exc:
                return {"issues": [exc.issue]}
            jpeg = encode_jpeg(page.image)
            h, w = page.image.shape[:2]
            small = cv2.resize(page.image, (int(w * 900 / h), 900)) if h > 900 else page.image
            return {"issues": page.issues, "jpeg": jpeg.data, "sha256": jpeg.sha256,
                    "preview": cv2.imencode(".png", small)[1].tobytes()}

        a.run_async(process, on_done=self._processed, on_error=self._camera_failed)

    def _processed(self, result):
        lang = app().lang
        self.message = " ".join(getattr(i, "message_vi" if lang == "vi" else "message_en") for i in result["issues"])
        self.candidate = result if "jpeg" in result else None
        self.refresh()

    def _keep(self):
        a = app()
        jpeg, sha = self.candidate["jpeg"], self.candidate["sha256"]
        a.session.attachments[self.capturing] = Attachment(self.capturing, jpeg, "image/jpeg", sha,
                                                           self.candidate["preview"])
        a.session.engine.set_attachment(self.capturing, sha, len(jpeg), "image/jpeg")
        self.capturing, self.candidate, self.message = None, None, ""
        self.refresh()

    def _cancel(self):
        self.capturing, self.candidate, self.message = None, None, ""
        self.refresh()

    def on_next(self):
        a = app()
        if not a.next_step():
            errors = a.session.engine.errors(self.step)
            self.message = " ".join(errors.values()) or tr("docs.required_missing", a.lang)
            self.refresh()

