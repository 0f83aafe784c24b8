"""The real kiosk app, offscreen at the panel's 1920×1080, on simulated devices, for a test module.

Kivy has one window per process, so each UI test module holds one app for all its tests
(a module-scoped fixture ``with kiosk_app(...) as (app, d, cfg): yield ...``)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def kiosk_app(tmp_path_factory, shots: Path, extra: str = "", central: bool = True):
    """Start the app (with the embedded central system unless ``central=False``); yields
    ``(app, driver, cfg)`` once home is shown. ``extra`` is TOML added to the demo config."""
    from kiosk.ui.display import prepare_kivy_env

    prepare_kivy_env(tmp_path_factory.mktemp("kivy"), want_xvfb=False)
    from kiosk.tools.demo import demo_config, running_app
    from kiosk.tools.touch_robot import Driver

    cfg = demo_config(tmp_path_factory.mktemp("kiosk"), extra=extra)
    Path(shots).mkdir(parents=True, exist_ok=True)
    with running_app(cfg, central=central) as app:
        d = Driver(app, shots)
        d.wait_screen("home")
        yield app, d, cfg


def back_home(app, d) -> None:
    """Each test starts a new visit at home: ``end_session`` closes an idle warning or panel the test
    before left open, forgets its help call and wipes the session (language, speech mode, text size
    back to the defaults)."""
    app.end_session()
    d.wait_screen("home")
