"""Registration by presence: a package whose modules each declare one entry (a step kind, a
step's screen…) is read here, so adding an entry is adding a module and nothing else is edited."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


def discover(package: ModuleType, attr: str, cls: type[T], key: str) -> dict[str, T]:
    """``{module name: module.<attr>}`` for every public module of ``package``, in name order.

    Each module must declare ``attr`` as a ``cls`` whose ``key`` attribute is the module's own name
    (``flows/steps/form.py`` declares ``KIND = StepKind("form", …)``), else TypeError names it."""
    found: dict[str, T] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        entry = getattr(importlib.import_module(f"{package.__name__}.{info.name}"), attr, None)
        if not isinstance(entry, cls) or getattr(entry, key) != info.name:
            where = package.__name__.replace(".", "/")
            raise TypeError(f"{where}/{info.name}.py must declare {attr} = {cls.__name__}({info.name!r}, ...)")
        found[info.name] = entry
    return found
