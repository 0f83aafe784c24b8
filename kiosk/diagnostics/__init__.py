"""Technician diagnostics, shared by `kiosk diag`, the maintenance screen and heartbeats.

No Kivy here. Each check imports its device module lazily and reports ``failed`` with the reason
when the module or backend is missing, so one absent driver never hides the other results.

    from kiosk.diagnostics import run_all, run, exit_code
    results = run_all(cfg)                 # list[CheckResult], fixed order
    printer = run(cfg, "printer", Options(test_page=True))
    text = format_table(run_all(cfg, services=app.services))   # maintenance screen: the app's devices
"""
from kiosk.diagnostics.result import (  # noqa: F401
    EXIT_FAILED,
    EXIT_NEEDS_ATTENTION,
    EXIT_OK,
    STATE_VI,
    CheckResult,
    Outcome,
    exit_code,
    worst_state,
)
from kiosk.diagnostics.runner import CHECKS, NAMES, Options, run, run_all  # noqa: F401
from kiosk.diagnostics.report import format_table  # noqa: F401
