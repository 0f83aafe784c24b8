"""Base of every screen that shows one step of a procedure flow."""
from __future__ import annotations

from pathlib import Path

from kiosk.ui.i18n import pick, tr
from kiosk.ui.screens.base import KioskScreen, footer, next_button
from kiosk.ui.widgets.common import BigButton, Text, app, theme


class StepScreen(KioskScreen):
    show_help = True
    own_footer = True

    @property
    def show_restart(self) -> bool:
        """Not once the dossier is filed (the receipt): nothing is left to start over, and
        "what you entered will be deleted" would frighten a citizen holding a receipt."""
        from flows import steps

        engine = app().session.engine
        return engine is not None and not engine.done and not steps.kind(engine.step.kind).terminal  # add_footer: back on the left, the step's action on the right

    @property
    def step(self):
        return app().session.engine.step

    def title(self) -> str:
        a = app()
        if a.session.engine is None:
            return ""
        return pick(self.step.title, a.lang)

    def kicker(self) -> str:
        a = app()
        return pick(a.session.flow.name, a.lang) if a.session.engine is not None else ""

    def step_indicator(self) -> str:
        a = app()
        if a.session.engine is None:
            return ""
        number, total = a.session.engine.progress()
        return tr("step.indicator", a.lang, n=number, total=total)

    def step_text(self) -> str:
        return pick(getattr(self.step, "text", None), app().lang)

    def add_intro(self, body) -> None:
        text = self.step_text()
        if text:
            body.add_widget(Text(text, role="body"))

    def add_footer(self, body, on_next=None, text_key="nav.next") -> None:
        body.add_widget(footer(
            BigButton(tr("nav.back", app().lang), kind="secondary", on_press=self.on_back),
            next_button(on_next or self.on_next, text_key),
        ))

    def on_next(self) -> None:
        if not app().next_step():
            self.show_errors(app().session.engine.errors())

    def show_errors(self, errors: dict) -> None:
        pass

    def help_paths(self) -> tuple[Path | None, Path | None]:
        help_ = getattr(self.step, "help", None) or {}
        if not isinstance(help_, dict):
            help_ = {"video": getattr(help_, "video", None), "captions": getattr(help_, "captions", None)}
        media = Path(app().cfg["paths"]["media_dir"])
        root = media.parent
        out = []
        for key in ("video", "captions"):
            rel = help_.get(key)
            p = (root / rel) if rel else None
            out.append(p if p and p.exists() else None)
        return out[0], out[1]

    def on_listen(self) -> None:
        a = app()
        if getattr(a, "read_screen", None) is not None:
            a.read_screen()
            return
        a.read_aloud(". ".join(t for t in (pick(self.step.title, a.lang), self.step_text()) if t))

    def on_help(self) -> None:
        from kiosk.ui.widgets.video_help import VideoHelp

        video, captions = self.help_paths()
        VideoHelp(title=pick(self.step.title, app().lang), text=self.step_text(), video=video,
                  captions=captions).open()


def error_text(message: str = "", role: str = "body", **kw) -> Text:
    """What went wrong, in the one red every screen uses (blank until there is something to say);
    the speech mode says it as an error when it appears (kiosk/ui/widgets/text_role.py)."""
    from kiosk.ui.widgets.text_role import ERROR, spoken_as

    return spoken_as(Text(message, role=role, color=theme().danger, **kw), ERROR)
