"""The set of flows a kiosk offers: lookup by id, by field (lĩnh vực) and diacritic-insensitive search."""
from __future__ import annotations

from pathlib import Path

from flows.errors import FlowLoadError, Problem
from flows.loader import flow_files, load_flow
from flows.model import Flow
from flows.text import fold


class FlowRegistry:
    """Flows that loaded; ``errors`` holds a :class:`Problem` for every file that was refused."""

    def __init__(self, flows: list[Flow], errors: list[Problem] | None = None):
        self.flows = sorted(flows, key=lambda f: (fold(f.field["vi"]), fold(f.name["vi"])))
        self.errors = list(errors or [])
        self._by_id = {f.id: f for f in self.flows}
        self._index = {
            f.id: fold(" ".join([f.name["vi"], f.name["en"], f.procedure_code, f.field["vi"], f.field["en"], *f.keywords]))
            for f in self.flows
        }

    def get(self, flow_id: str) -> Flow | None:
        return self._by_id.get(flow_id)

    def by_field(self) -> dict[str, list[Flow]]:
        """Flows grouped by their field's Vietnamese name, in display order."""
        out: dict[str, list[Flow]] = {}
        for f in self.flows:
            out.setdefault(f.field["vi"], []).append(f)
        return out

    def search(self, text: str) -> list[Flow]:
        """Flows whose name, code, field or keywords contain every word of ``text``, accents ignored;
        names that start with the query come first."""
        words = fold(text).split()
        if not words:
            return list(self.flows)
        hits = [f for f in self.flows if all(w in self._index[f.id] for w in words)]
        q = " ".join(words)

        def rank(f):
            vi, en = fold(f.name["vi"]), fold(f.name["en"])
            return (q not in vi and q not in en, not (vi.startswith(q) or en.startswith(q)))

        return sorted(hits, key=rank)

    def __len__(self) -> int:
        return len(self.flows)

    def __iter__(self):
        return iter(self.flows)


def load_registry(path: str | Path) -> FlowRegistry:
    """Load every flow under ``path`` (a folder, searched recursively, or one file). A file that
    fails is left out and reported in ``.errors``; two files with the same id: the first (by
    path) wins and the other is reported."""
    flows, errors, seen = [], [], {}
    p = Path(path)
    if not p.exists():
        return FlowRegistry([], [Problem(str(p), "no such file or folder")])
    for f in flow_files(p):
        try:
            flow = load_flow(f)
        except FlowLoadError as exc:
            errors.extend(exc.problems)
            continue
        if flow.id in seen:
            errors.append(Problem(str(f), f"flow id '{flow.id}' is already defined in {seen[flow.id]}"))
            continue
        seen[flow.id] = str(f)
        flows.append(flow)
    return FlowRegistry(flows, errors)
