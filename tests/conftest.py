"""Shared test set-up. Kivy reads its environment at import time, so it is fixed here first."""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_AUDIO", "sdl2")
os.environ.setdefault("KIVY_VIDEO", "ffpyplayer")
# Kivy has one window per process, made by whichever test touches it first; in random order that
# may be a test that never called kiosk.ui.display.prepare_kivy_env. Make every window the kiosk
# panel's (1920×1080, no MSAA) so no test sees an 800×600 window where the keyboard hides the list.
os.environ.setdefault("KCFG_GRAPHICS_WIDTH", "1920")
os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", "1080")
os.environ.setdefault("KCFG_GRAPHICS_MULTISAMPLES", "0")
os.environ.setdefault("KCFG_GRAPHICS_RESIZABLE", "0")
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

import fcntl  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# testkit/ (helpers shared with bench/) lives at the top of the repository and is not installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402

from common import redact  # noqa: E402

VPCD_READER = "Virtual PCD 00 00"


# On CI every package in scripts/apt-packages.txt and pyproject.toml is installed by setup, so a
# skip because something is missing means the install step is broken: fail instead of hiding it.
# Skips for other reasons (e.g. no permission to mount a tmpfs) stay skips.
_MISSING_INSTALL = re.compile(r"not installed|not available|not found|could not import|No module named", re.I)


def _fail_missing_install_skip(report) -> None:
    if not (report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail")):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if _MISSING_INSTALL.search(reason):
        report.outcome = "failed"
        report.longrepr = f"skipped on CI because something is not installed (fix scripts/setup.sh): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_missing_install_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):  # module-level importorskip / pytestmark skips
    outcome = yield
    _fail_missing_install_skip(outcome.get_result())


@pytest.fixture(autouse=True)
def _clean_redaction_registry():
    yield
    redact.forget_all()


@pytest.fixture(autouse=True)
def clock():
    """The project's clock (common.clock), back on the system time after every test; a test
    sets it with ``clock.set_now("2027-03-01T08:00")`` / ``clock.freeze(...)`` / ``clock.advance(...)``."""
    from common import clock as the_clock

    the_clock.reset()
    yield the_clock
    the_clock.reset()


def _pcscd_answers() -> bool:
    from devices.idcard.errors import CardError
    from devices.idcard.pcsc import list_readers

    try:
        return VPCD_READER in list_readers()
    except CardError:
        return False


PCSCD_LOCK = "/tmp/kiosk-pcscd.lock"   # one test on the vpcd reader at a time, across processes


def _start_pcscd() -> subprocess.Popen:
    """pcscd in the foreground, as root, without systemd, once its vpcd reader shows; raises
    RuntimeError saying what is missing."""
    exe = shutil.which("pcscd") or "/usr/sbin/pcscd"
    if not os.path.exists(exe):
        raise RuntimeError("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)")
    if not Path("/etc/reader.conf.d/vpcd").exists():
        raise RuntimeError("vpcd driver configuration /etc/reader.conf.d/vpcd missing (apt-get install vsmartcard-vpcd)")
    proc = subprocess.Popen([exe, "--foreground", "--error"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not _pcscd_answers():
        if proc.poll() is not None:
            raise RuntimeError(f"pcscd exited: {proc.stderr.read().decode(errors='replace')}")
        if time.monotonic() > deadline:
            _stop_pcscd(proc)
            raise RuntimeError("pcscd did not show the vpcd reader within 10 s")
        time.sleep(0.05)
    return proc


def _stop_pcscd(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


def pytest_sessionstart(session):
    """Under pytest-xdist the controller starts pcscd for both workers and stops it after them: a
    worker that owned it would stop it at its own end, under the other's feet."""
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None) or _pcscd_answers():
        return
    try:
        config._kiosk_pcscd = _start_pcscd()
    except RuntimeError as exc:  # the workers' fixture fails each pcscd test with the reason
        config._kiosk_pcscd_error = str(exc)


def pytest_sessionfinish(session):
    proc = getattr(session.config, "_kiosk_pcscd", None)
    if proc is not None:
        _stop_pcscd(proc)


@pytest.fixture(scope="session")
def pcscd():
    """A running pcscd with the vpcd readers: ours (started here, or by the xdist controller) or
    one already running on this machine (then left running). One pcscd for the whole run, because
    vpcd listens on the fixed TCP port 35963: two pcscd instances would fight over it."""
    if _pcscd_answers():
        yield None
        return
    try:
        proc = _start_pcscd()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield proc
    finally:
        _stop_pcscd(proc)


@pytest.fixture(autouse=True)
def _one_test_on_the_vpcd_reader_at_a_time(request):
    """vpcd serves one virtual card on one reader: a test that uses pcscd holds an exclusive lock
    on PCSCD_LOCK for its duration, so the other xdist worker (or another test run on this machine)
    never puts its card in, or takes it out, meanwhile."""
    if "pcscd" not in request.fixturenames:
        yield
        return
    fd = os.open(PCSCD_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
