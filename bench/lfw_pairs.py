"""LFW's verification protocol for bench/bench_face.py: false accepts and false rejects of the kiosk's
face match on genuine pairs (one person, two different photographs) and impostor pairs, when an
identity-labelled copy of Labeled Faces in the Wild is on this machine.

The set cannot be installed from PyPI, Debian or npm, and other projects' data may not be committed
here (the machine's rules), so it is looked for where the other corpora live: ``$KIOSK_CORPORA/lfw``
or ``<repo>/../shared/corpora/lfw`` (testkit.corpora), in LFW's own layout::

    lfw/pairs.txt                      "10 300", then per fold 300 "Name n1 n2" and 300 "Name1 n1 Name2 n2"
    lfw/<Name>/<Name>_<nnnn>.jpg       250×250 photographs

LFW (University of Massachusetts Amherst, http://vis-www.cs.umass.edu/lfw/) is published for research;
its photographs are of public figures taken from news sites; check its terms before relying on it for
anything but this measurement. Without the set the bench says "not measured" and where to put it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def lfw_root() -> Path | None:
    """The LFW folder (with pairs.txt) if this machine has one, else None."""
    from testkit.corpora import base

    root = base() / "lfw"
    return root if (root / "pairs.txt").is_file() else None


@dataclass(frozen=True)
class Pair:
    fold: int
    a: tuple[str, int]       # (name, image number)
    b: tuple[str, int]

    @property
    def genuine(self) -> bool:
        return self.a[0] == self.b[0]


def parse_pairs(text: str) -> list[Pair]:
    """LFW's pairs.txt: a header "folds n" then, per fold, n genuine lines "Name i j" and n impostor
    lines "Name1 i Name2 j". A line that fits neither raises ValueError with its number."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    if not lines or len(lines[0]) != 2 or not all(x.isdigit() for x in lines[0]):
        raise ValueError("pairs.txt: the first line must be '<folds> <pairs per fold>'")
    folds, n = int(lines[0][0]), int(lines[0][1])
    body = lines[1:]
    if len(body) != folds * 2 * n:
        raise ValueError(f"pairs.txt: {len(body)} pair lines, expected {folds} × 2 × {n}")
    out = []
    for k, parts in enumerate(body):
        fold = k // (2 * n)
        try:
            if len(parts) == 3:
                out.append(Pair(fold, (parts[0], int(parts[1])), (parts[0], int(parts[2]))))
            elif len(parts) == 4:
                out.append(Pair(fold, (parts[0], int(parts[1])), (parts[2], int(parts[3]))))
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"pairs.txt line {k + 2}: {' '.join(parts)!r}") from None
    return out


def image_path(root: Path, name: str, number: int) -> Path:
    return root / name / f"{name}_{number:04d}.jpg"


def evaluate(pairs: list[Pair], embed, thresholds, at: float) -> dict:
    """``embed(name, number)`` → an embedding or None (no face found). Returns the counts per
    threshold, the share of pairs judged right at ``at`` (LFW's "accuracy", the figure dlib
    publishes) and the pairs left out because no face was found in one of their photos."""
    import numpy as np

    cache: dict = {}

    def get(key):
        if key not in cache:
            cache[key] = embed(*key)
        return cache[key]

    genuine, impostor, missed = [], [], 0
    for p in pairs:
        ea, eb = get(p.a), get(p.b)
        if ea is None or eb is None:
            missed += 1
            continue
        (genuine if p.genuine else impostor).append(float(np.linalg.norm(np.asarray(ea) - np.asarray(eb))))
    g, i = np.array(genuine), np.array(impostor)
    rows = []
    for t in thresholds:
        rows.append({"threshold": t, "frr": (int((g > t).sum()), len(g)), "far": (int((i <= t).sum()), len(i))})
    right = int((g <= at).sum() + (i > at).sum())
    return {"rows": rows, "missed": missed, "genuine": len(g), "impostor": len(i),
            "accuracy": right / max(1, len(g) + len(i)), "images": len(cache)}
