"""One app after another in the same process, as the test modules and `make demo` start them.

Kivy's window, clock and exception manager outlive an app. A stopped app that stayed on the window
(Kivy's App.stop skips every other child of the window: a modal open at stop left the app's whole
tree behind) or stayed bound to its keys drew over the next app's home and took its keys: three UI
tests failed on CI depending on which module ran before them."""
from __future__ import annotations

import threading

from kivy.core.window import Window


def test_a_stopped_app_leaves_nothing_behind_for_the_next(tmp_path_factory):
    from kivy.base import ExceptionManager

    from testkit.kiosk_app import kiosk_app

    shots = tmp_path_factory.mktemp("shots")
    handlers_before = list(ExceptionManager.handlers)
    with kiosk_app(tmp_path_factory, shots, central=False) as (first, d, _):
        d.tap("Làm thủ tục hành chính")
        d.wait_screen("picker")
        first.show_idle_warning(25)  # a modal over the screen at the moment the app stops
        d.pump(3)
        assert d.has_text("Tôi cần thêm thời gian")
        old_roots = list(Window.children)
        assert len(old_roots) >= 2
        ticks = {"idle": 0}
        real_tick = first._idle_tick
        first._idle_tick = lambda dt: (ticks.__setitem__("idle", ticks["idle"] + 1), real_tick(dt))
    assert not Window.children  # the whole first app is gone from the window, modal and all
    assert ExceptionManager.handlers == handlers_before
    assert not [t for t in threading.enumerate() if t.name in ("qr-listener", "camera-grab") and t.is_alive()]

    with kiosk_app(tmp_path_factory, shots, central=False) as (second, d2, _):
        assert second.root in Window.children and not any(r in Window.children for r in old_roots)
        assert d2.has_text("Làm thủ tục hành chính") and not d2.has_text("Tôi cần thêm thời gian")
        # the keys reach the second app only: a first app still bound would hand them to its
        # keypad controller (this spy) and take them
        pressed = []

        class Spy:
            def on_key(self, *a):
                pressed.append(a)
                return True

        first.__dict__["_access"] = Spy()
        d2.key("tab")
        d2.key("enter")  # the focused choice opens, in the second app
        d2.wait_for(lambda: second.sm.current != "home", 10, "the second app to take the keys")
        assert not pressed
        # and the first app's clock tick is not running any more
        seen = ticks["idle"]
        d2.pump(2)
        import time

        time.sleep(1.2)
        d2.pump(2)
        assert ticks["idle"] == seen
