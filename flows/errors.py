"""Errors raised by the flows package. Each carries a plain Vietnamese message for the citizen
(or the admin) and the English one; ``str()`` is the English message plus where it happened."""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import BilingualError


class FlowError(BilingualError):
    """A flow cannot be used as asked (engine misuse, incomplete dossier)."""

    message_vi = "Quy trình này hiện không dùng được. Quý khách vui lòng báo cán bộ hỗ trợ."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow file: where (file, line, path inside the document) and what."""

    file: str
    message: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.message}"


class FlowLoadError(FlowError):
    """A flow file was refused; ``problems`` lists every reason found (the default texts name the first five)."""

    def __init__(self, *, problems: list[Problem] | None = None, en: str | None = None, vi: str | None = None,
                 code: str = "", detail: str = ""):
        self.problems = list(problems or [])
        text = "; ".join(str(p) for p in self.problems[:5])
        if len(self.problems) > 5:
            text += f" (and {len(self.problems) - 5} more)"
        super().__init__(en=en or text, vi=vi or "Định nghĩa thủ tục không hợp lệ: " + text, code=code, detail=detail)


class ConditionError(ValueError):
    """A `visible_if` / `skip_to` / `prefill` expression does not parse or names something unknown."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message if position is None else f"{message} (at character {position + 1})")
        self.position = position
