"""Our decoder on a public corpus someone else made and labelled: ZXing's QR blackbox photos
(bench/corpus/zxing-qrcode, Apache-2.0), the set bench/bench_qr.py measures. It must read at least
as many as measured when the corpus was added, and never give a text other than the expected one."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from devices.qr import decode_frame

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "bench" / "corpus" / "zxing-qrcode"
# measured with decode_frame when the corpus was added (bench/results/qr.md): 138 of 154 with the
# right text, 7 read with the text withheld (Shift_JIS half-width katakana alone), 9 not found
FLOOR = 138


def _bench_qr():
    """bench/bench_qr.py's loader: the test reads the corpus exactly as the benchmark does."""
    spec = importlib.util.spec_from_file_location("bench_qr", ROOT / "bench" / "bench_qr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus():
    return _bench_qr().load_corpus(CORPUS)


def test_corpus_is_zxings_files_unmodified():
    lines = (CORPUS / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 310  # 154 images, their 154 expected texts, 2 metadata files
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (CORPUS / "LICENSE").read_text(encoding="utf-8")


def test_decoder_reads_the_corpus_and_never_gives_a_wrong_text(corpus):
    assert len(corpus) == 154
    decoded, wrong = 0, []
    for name, expected, also, image in corpus:
        # a generous budget: the floor is about what the fallbacks can read, not how busy the machine is
        texts = [d.text for d in decode_frame(image, budget_ms=1000)]
        wrong += [name for t in texts if t is not None and t != expected and t not in also]
        decoded += expected in texts
    assert wrong == []
    assert decoded >= FLOOR
