"""Video help for a step: the clip (ffpyplayer through Kivy's Video), its captions, replay."""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.ui.widgets.common import Background, BigButton, Column, Text, app, theme


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """WebVTT cues → (start s, end s, text). Only what our generated captions use."""
    cues = []

    def secs(stamp: str) -> float:
        parts = stamp.strip().replace(",", ".").split(":")
        parts = [float(p) for p in parts]
        while len(parts) < 3:
            parts.insert(0, 0.0)
        return parts[0] * 3600 + parts[1] * 60 + parts[2]

    for block in text.replace("\r", "").split("\n\n"):
        lines = [l for l in block.strip().split("\n") if l.strip()]
        for i, line in enumerate(lines):
            if "-->" in line:
                start, end = line.split("-->")
                cues.append((secs(start), secs(end.split()[0]), "\n".join(lines[i + 1:])))
                break
    return cues


class VideoHelp(ModalView):
    def __init__(self, title: str, text: str, video: Path | None, captions: Path | None, **kw):
        super().__init__(size_hint=(0.9, 0.9), auto_dismiss=False, **kw)
        lang = app().lang
        box = Column(spacing=16, padding=24, size_hint_y=1)
        Background.paint(box, theme().bg, radius=12)
        box.add_widget(Text(title, role="title", bold=True))
        # the generated clips are narrated and captioned in Vietnamese; on the English screen the
        # step's English text stays under the picture instead of Vietnamese captions
        self.cues = parse_vtt(captions.read_text(encoding="utf-8")) if captions and lang == "vi" else []
        self.video = None
        if video is not None:
            from kivy.uix.video import Video

            self.video = Video(source=str(video), state="play", options={"eos": "stop"}, size_hint_y=1)
            box.add_widget(self.video)
            self._tick = Clock.schedule_interval(self._update_caption, 0.25)
        self.caption = Text(text, role="body", halign="center")
        box.add_widget(self.caption)
        row = BoxLayout(size_hint_y=None, height=100, spacing=16)
        if self.video is not None:
            row.add_widget(BigButton("↺ " + ("Xem lại" if lang == "vi" else "Replay"), kind="secondary",
                                     on_press=self.replay))
        row.add_widget(BigButton("✕ " + ("Đóng" if lang == "vi" else "Close"), kind="primary", on_press=self.close))
        box.add_widget(row)
        self.add_widget(box)
        if self.video is None:  # no clip for this step: the text is read aloud instead
            app().read_aloud(text)

    def _update_caption(self, _dt):
        if not self.cues or self.video is None:
            return
        pos = self.video.position
        for start, end, text in self.cues:
            if start <= pos < end:
                self.caption.text = text
                return

    def replay(self):
        if self.video is not None:
            self.video.state = "stop"
            self.video.seek(0)
            self.video.state = "play"

    def close(self):
        self.dismiss()

    def on_dismiss(self):
        # however the panel goes (its button, or the visit ending under it), the player and its
        # frame texture go too: ffpyplayer keeps decoding threads and a texture per open clip
        if self.video is not None:
            self.video.state = "stop"
            self.video.unload()
            Clock.unschedule(self._update_caption)
