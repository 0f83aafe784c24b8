"""systemd's sd_notify protocol in a few lines of pure Python (no dependency).

kiosk.service is ``Type=notify`` with ``WatchdogSec=``: the app calls :func:`ready` once the first
screen is up and :func:`watchdog` from its main loop (a Kivy Clock interval of
``watchdog_interval() / 2``). If the main loop freezes, the pings stop and systemd restarts the
kiosk. Outside systemd ($NOTIFY_SOCKET unset) every call is a cheap no-op returning False.
"""
from __future__ import annotations

import os
import socket


def _address(name: str) -> str | bytes:
    # "@name" is a Linux abstract socket: a leading NUL byte on the wire
    return b"\0" + name[1:].encode() if name.startswith("@") else name


def notify(*assignments: str) -> bool:
    """Send ``KEY=value`` lines to systemd; True when a message was delivered."""
    name = os.environ.get("NOTIFY_SOCKET")
    if not name or not assignments:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(_address(name))
            sock.sendall("\n".join(assignments).encode())
        return True
    except OSError:
        return False


def ready(status: str | None = None) -> bool:
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def watchdog() -> bool:
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    return notify(f"STATUS={text}")


def stopping() -> bool:
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between watchdog deadlines for this process (None: no watchdog asked for).

    Unlike sd_watchdog_enabled() this ignores WATCHDOG_PID on purpose: systemd sets it to the unit's
    main process, systemd/kiosk-session.py, and the app is a grandchild (through cage);
    kiosk.service has NotifyAccess=main, and kiosk-session.py passes the app's READY and WATCHDOG
    on as its own.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec:
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None
