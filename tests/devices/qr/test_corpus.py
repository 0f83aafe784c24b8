"""Our decoder on a public corpus someone else made and labelled: ZXing's QR blackbox photos
(Apache-2.0), the set bench/bench_qr.py measures. It must read at least as many as measured when the
corpus was added, and never give a text other than the expected one.

Other projects' data is not committed here (the machine's rules): the photos come from the steering
repo's shared/corpora/zxing-qrcode or $KIOSK_CORPORA (testkit.corpora), checked file by file against
bench/corpus/zxing-qrcode/SHA256SUMS. Where they are not provided, these tests say so and skip."""
from __future__ import annotations

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
    bench = _bench_qr()
    root, why = bench.corpus_root()
    if root is None:
        pytest.skip(why)
    return bench.load_corpus(root)


def test_the_manifest_names_the_measured_files():
    lines = (CORPUS / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 310  # 154 images, their 154 expected texts, 2 metadata files
    assert all(len(line.split(maxsplit=1)[0]) == 64 for line in lines)
    assert not list(CORPUS.glob("qrcode-*")), "other projects' files are not committed here"


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
