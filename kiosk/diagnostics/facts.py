"""Turn whatever a device returns (dataclasses, enums, bytes) into JSON-friendly facts."""
from __future__ import annotations

import dataclasses
import enum
from typing import Any


def plain(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex(" ")
    if isinstance(value, enum.Enum):
        return plain(value.value, depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "as_dict"):
        return plain(value.as_dict(), depth + 1)
    return str(value)
