"""Run a command under the system-call filters a unit file asks systemd for, without systemd.

The build machine has no systemd as PID 1, so `systemctl start` cannot show that the kiosk
tolerates its units' filters. This loads the same seccomp filters systemd 252 would, through
libseccomp (which systemd itself uses), then execs the command:

- ``SystemCallFilter=`` lines: an allow-list (the groups expanded by ``systemd-analyze
  syscall-filter``, ``@default`` implied as systemd does for a first positive line, ``~`` lines
  removed), everything else failing with ``SystemCallErrorNumber=`` (EPERM) — or killing the
  process when the unit sets none;
- ``RestrictAddressFamilies=``: ``socket()`` of any other family fails with EAFNOSUPPORT;
- ``MemoryDenyWriteExecute=yes`` (or ``--mdwe``): the rules of systemd's
  ``seccomp_memory_deny_write_execute()``: ``mmap`` with PROT_WRITE|PROT_EXEC, ``mprotect`` /
  ``pkey_mprotect`` adding PROT_EXEC and ``shmat`` with SHM_EXEC fail with EPERM;
- ``NoNewPrivileges``: loading a filter unprivileged sets it anyway.

What it does not emulate (namespaces, ProtectSystem=, DevicePolicy=, capabilities) is checked
statically by `systemd-analyze verify/security`.

    python tests/systemd/sandbox.py systemd/kiosk.service [--mdwe] -- COMMAND…
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

SCMP_ACT_KILL_PROCESS = 0x80000000
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_EQ = 4
SCMP_CMP_MASKED_EQ = 7
PROT_WRITE, PROT_EXEC = 0x2, 0x4
SHM_EXEC = 0o100000
AF_MAX = 46


def SCMP_ACT_ERRNO(code: int) -> int:  # noqa: N802 - libseccomp's macro name
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


@lru_cache(maxsize=None)
def expand(group: str) -> frozenset[str]:
    """The system calls of ``@group`` (nested groups expanded), as this systemd defines it."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", group],
                         capture_output=True, text=True, check=True).stdout
    names: set[str] = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        names |= expand(item) if item.startswith("@") else {item}
    return frozenset(names)


def _names(words: list[str]) -> set[str]:
    out: set[str] = set()
    for w in words:
        w = w.split(":")[0]  # "name:errno" gives a call its own error number; the name is what counts
        out |= expand(w) if w.startswith("@") else {w}
    return out


def unit_settings(unit: str | os.PathLike) -> dict:
    """The [Service] settings this harness emulates, read as systemd would (repeated lines add up)."""
    allow: set[str] | None = None
    deny: set[str] = set()
    errno_name = None
    families: set[str] | None = None
    mdwe = False
    for raw in Path(unit).read_text().splitlines():
        m = re.match(r"^(\w+)=(.*)$", raw.strip())
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "SystemCallFilter":
            if value.startswith("~"):
                words = value[1:].split()
                if allow is None:
                    deny |= _names(words)
                else:
                    allow -= _names(words)
            else:
                if allow is None:
                    allow = set(expand("@default"))
                allow |= _names(value.split())
        elif key == "SystemCallErrorNumber":
            errno_name = value
        elif key == "RestrictAddressFamilies":
            families = set(value.split())
        elif key == "MemoryDenyWriteExecute":
            mdwe = value in ("yes", "true", "1", "on")
    return {"allow": allow, "deny": deny, "errno": errno_name, "families": families, "mdwe": mdwe}


class _Filter:
    def __init__(self, lib, default_action: int):
        self.lib = lib
        self.ctx = lib.seccomp_init(default_action)
        if not self.ctx:
            raise OSError("seccomp_init failed")

    def rule(self, action: int, name: str, *cmps: tuple[int, int, int, int]) -> bool:
        nr = self.lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:  # not a call of this architecture (e.g. the 32-bit *_time64 ones)
            return False
        arr = (_ArgCmp * max(len(cmps), 1))(*[_ArgCmp(*c) for c in cmps])
        rc = self.lib.seccomp_rule_add_array(self.ctx, action, nr, len(cmps), arr)
        if rc < 0 and rc != -errno.EEXIST:
            raise OSError(-rc, f"seccomp_rule_add({name})")
        return True

    def load(self) -> None:
        rc = self.lib.seccomp_load(self.ctx)
        self.lib.seccomp_release(self.ctx)
        if rc < 0:
            raise OSError(-rc, "seccomp_load")


def _libseccomp():
    path = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    lib = ctypes.CDLL(path, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def apply(settings: dict) -> None:
    """Load the filters into this process (inherited by whatever it execs)."""
    lib = _libseccomp()
    import socket

    fail = SCMP_ACT_KILL_PROCESS
    if settings["errno"]:
        fail = SCMP_ACT_ERRNO(getattr(errno, settings["errno"]))
    if settings["families"] is not None:
        allowed = {getattr(socket, fam) for fam in settings["families"]}
        f = _Filter(lib, SCMP_ACT_ALLOW)
        for fam in range(AF_MAX):
            if fam not in allowed:
                f.rule(SCMP_ACT_ERRNO(errno.EAFNOSUPPORT), "socket", (0, SCMP_CMP_EQ, fam, 0))
        f.load()
    if settings["mdwe"]:
        f = _Filter(lib, SCMP_ACT_ALLOW)
        eperm = SCMP_ACT_ERRNO(errno.EPERM)
        for name in ("mmap", "mmap2"):
            f.rule(eperm, name, (2, SCMP_CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC))
        for name in ("mprotect", "pkey_mprotect"):
            f.rule(eperm, name, (2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
        f.rule(eperm, "shmat", (2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
        f.load()
    # the call filter last, as systemd does: it forbids seccomp() itself, so nothing loads after it
    if settings["allow"] is not None:
        f = _Filter(lib, fail)
        for name in sorted(settings["allow"]):
            f.rule(SCMP_ACT_ALLOW, name)
        f.load()
    elif settings["deny"]:
        f = _Filter(lib, SCMP_ACT_ALLOW)
        for name in sorted(settings["deny"]):
            f.rule(fail, name)
        f.load()


def main(argv: list[str]) -> None:
    unit, rest = argv[0], argv[1:]
    mdwe = False
    if rest and rest[0] == "--mdwe":
        mdwe, rest = True, rest[1:]
    if not rest or rest[0] != "--" or len(rest) < 2:
        sys.exit("usage: sandbox.py UNIT [--mdwe] -- COMMAND…")
    settings = unit_settings(unit)
    settings["mdwe"] = settings["mdwe"] or mdwe
    apply(settings)
    os.execvp(rest[1], rest[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
