"""bench/lfw_pairs.py: LFW's pairs.txt read as the protocol says, and the bench's FAR/FRR section
measured on a set laid out as LFW is — here a two-person stand-in made from the public-domain photos
of devices/face/photos (devices/face/synth), because LFW itself may not be committed (bench/lfw_pairs.py).
With the real set at $KIOSK_CORPORA/lfw the same code measures the 6,000 pairs."""
from __future__ import annotations

import pytest

from bench.lfw_pairs import Pair, parse_pairs

PAIRS = "2 1\nAnh 1 2\nAnh 1 Binh 2\nBinh 1 2\nBinh 2 Anh 2\n"


def test_pairs_txt_is_read_fold_by_fold():
    pairs = parse_pairs(PAIRS)
    assert pairs == [Pair(0, ("Anh", 1), ("Anh", 2)), Pair(0, ("Anh", 1), ("Binh", 2)),
                     Pair(1, ("Binh", 1), ("Binh", 2)), Pair(1, ("Binh", 2), ("Anh", 2))]
    assert [p.genuine for p in pairs] == [True, False, True, False]


@pytest.mark.parametrize("text, where", [
    ("", "first line"), ("ten 300\n", "first line"), ("2 1\nAnh 1 2\n", "pair lines"),
    ("1 1\nAnh 1 x\nAnh 1 Binh 2\n", "line 2"), ("1 1\nAnh 1 2\nAnh 1 Binh\n", "line 3"),
])
def test_a_broken_pairs_txt_says_where(text, where):
    with pytest.raises(ValueError, match=where):
        parse_pairs(text)


def _lfw_like(root, people: dict) -> None:
    """LFW's layout: <Name>/<Name>_0001.jpg … (250×250) and pairs.txt (one fold)."""
    import cv2

    from devices.face import synth

    for name, (who, shots) in people.items():
        (root / name).mkdir(parents=True)
        for n, (pose, frac, index) in enumerate(shots, start=1):
            frame = synth.scene(who, pose, (250, 250), face_frac=frac, index=index)
            cv2.imwrite(str(root / name / f"{name}_{n:04d}.jpg"), frame[:, :, ::-1])
    (root / "pairs.txt").write_text("1 2\nAnh 1 2\nBinh 1 2\nAnh 1 Binh 2\nBinh 1 Anh 2\n", encoding="utf-8")


def test_the_bench_measures_far_and_frr_on_a_set_laid_out_as_lfw(tmp_path, monkeypatch):
    from devices import face

    if not face.available():
        pytest.skip("dlib or face-recognition-models not installed")
    from bench import bench_face

    monkeypatch.setenv("KIOSK_CORPORA", str(tmp_path / "none"))
    assert "not measured" in bench_face.lfw_section()[0]
    _lfw_like(tmp_path / "lfw", {"Anh": ("card_holder", [("open", 0.45, 1), ("left", 0.4, 5)]),
                                 "Binh": ("stranger", [("open", 0.45, 2), ("right", 0.4, 7)])})
    monkeypatch.setenv("KIOSK_CORPORA", str(tmp_path))
    lines = bench_face.lfw_section()
    text = "\n".join(lines)
    assert "2 genuine pairs" in text and "2 impostor pairs" in text and "4 photographs" in text, text
    used = next(line for line in lines if "**(used)**" in line)
    assert used.startswith("| 0.60") and "| 0/2 (0.00 %) | 0/2 (0.00 %) |" in used, used
    assert "Accuracy at 0.6: **100.00 %**" in text
