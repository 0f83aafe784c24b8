"""The third-party interoperability corpora: where they are, and their files checked against the
SHA256SUMS manifest committed beside this file.

The corpora are other projects' test data (real documents' EF.SOD, certificates, APDU transcripts);
they are not in this repository. The steering repository places them under its ``shared/corpora/``
(read-only here); ``KIOSK_CORPORA`` points elsewhere (e.g. a local copy: ``KIOSK_CORPORA=/work/corpora``).
Default: ``<repo>/../shared/corpora``. README.md beside this file says what each corpus holds and where
it comes from. Used by the interop tests, tests/devices/idcard/test_no_traceback.py and
bench/bench_idcard.py; no pytest import here (the bench uses it too).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
SUMS = HERE / "SHA256SUMS"
GMRTD = "emrtd-gmrtd"
NFCPASSPORTREADER = "emrtd-nfcpassportreader"


class CorpusError(AssertionError):
    """A corpus file is not the one the manifest names (changed, missing, or not listed)."""


def corpora_root() -> Path:
    env = os.environ.get("KIOSK_CORPORA", "").strip()
    return Path(env).expanduser().resolve() if env else (REPO.parent / "shared" / "corpora").resolve()


def manifest() -> dict[str, str]:
    """``corpus/relative/path`` -> SHA-256 hex, from SHA256SUMS (sha256sum's format)."""
    out = {}
    for line in SUMS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split(None, 1)
            out[rel.lstrip("*").strip()] = digest.lower()
    return out


class Corpus:
    def __init__(self, name: str):
        self.name = name
        self.root = corpora_root() / name
        self.sums = {rel[len(name) + 1:]: h for rel, h in manifest().items() if rel.startswith(name + "/")}
        self._json: dict[str, object] = {}

    @property
    def present(self) -> bool:
        return self.root.is_dir()

    @property
    def missing_reason(self) -> str:
        how = (f"KIOSK_CORPORA={os.environ['KIOSK_CORPORA']}" if os.environ.get("KIOSK_CORPORA", "").strip()
               else "KIOSK_CORPORA unset, so <repo>/../shared/corpora")
        return (f"interop corpus folder {self.root} is missing ({how}): the {self.name} corpus is third-party "
                f"data kept out of this repository; the steering repo provides it under its shared/corpora/ "
                f"(tests/devices/idcard/interop/README.md)")

    def path(self, rel: str) -> Path:
        return self.root / rel

    def names(self, pattern: str = "*") -> list[str]:
        """Manifest entries matching ``pattern`` (``sod/*.sod``), sorted: the manifest decides, not the disk."""
        return sorted(rel for rel in self.sums if fnmatch.fnmatch(rel, pattern))

    def blob(self, rel: str) -> bytes:
        """The file's bytes, checked against the manifest."""
        want = self.sums.get(rel)
        if want is None:
            raise CorpusError(f"{self.name}/{rel} is not in {SUMS.name}")
        try:
            data = self.path(rel).read_bytes()
        except OSError as exc:
            raise CorpusError(f"{self.path(rel)}: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != want:
            raise CorpusError(f"{self.path(rel)} differs from its SHA-256 in {SUMS.name}")
        return data

    def problems(self) -> list[str]:
        """Every difference between the folder and the manifest (empty: the corpus is intact)."""
        out = []
        for rel in self.sums:
            try:
                self.blob(rel)
            except CorpusError as exc:
                out.append(str(exc))
        on_disk = {str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()} if self.present else set()
        out += [f"{self.name}/{rel} is not in {SUMS.name}" for rel in sorted(on_disk - set(self.sums))]
        return out

    def json_file(self, rel: str):
        """A JSON file of the corpus, parsed once (checked against the manifest like any file)."""
        if rel not in self._json:
            self._json[rel] = json.loads(self.blob(rel))
        return self._json[rel]


def corpus(name: str = GMRTD) -> Corpus:
    return Corpus(name)
