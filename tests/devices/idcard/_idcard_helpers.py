"""Helpers shared by the chip-card tests (imported by basename: the test folders are not packages)."""
from __future__ import annotations

import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TRUST = str(REPO / "config" / "csca")
VPCD_READER = "Virtual PCD 00 00"


def make_rng(seed: str):
    """Deterministic byte source (SHA-256 in counter mode) for injected randomness."""
    counter = [0]

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            counter[0] += 1
            out += hashlib.sha256(f"{seed}:{counter[0]}".encode()).digest()
        return out[:n]

    return rng
