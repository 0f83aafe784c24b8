"""QR decoding on a generated hard set of 1080p frames: each engine alone vs our pipeline.

    python bench/bench_qr.py [--frames 250] [--seed 2026]

Writes bench/results/qr.md. Frames come from devices.qr.synth.hard_frame (rotation, perspective,
blur, noise, low contrast, small modules, glare, two codes per frame, and combinations), cycling
through the kinds. Payloads: even frames carry a full CCCD-style QR (2021 layout), odd frames one
field of one (a name or an address) — short Vietnamese strings are where charset guessing goes
wrong. A frame counts as decoded when every code in it comes out with exactly the right text; a
wrong decode is any text that is not one of the frame's payloads.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from devices.qr.engines import Decoded, OpenCvEngine, ZbarBinaryEngine, ZxingEngine, to_gray  # noqa: E402
from devices.qr.pipeline import QrPipeline, _preps, _ZxingFixed  # noqa: E402
from devices.qr.synth import DEGRADATIONS, cccd_payload, hard_frame  # noqa: E402


def pyzbar_plain(frame):
    """pyzbar as most code calls it: decode() then .data.decode() — zbar has already transcoded."""
    from pyzbar import pyzbar

    out = []
    for r in pyzbar.decode(to_gray(frame), symbols=[pyzbar.ZBarSymbol.QRCODE]):
        out.append(Decoded(r.data, r.data.decode("utf-8", errors="replace"), "pyzbar-plain"))
    return out


def make_set(n: int, seed: int):
    rng = random.Random(seed)
    frames = []
    for i in range(n):
        kind = DEGRADATIONS[i % len(DEGRADATIONS)]
        payloads = []
        for _ in range(2 if kind == "multi" else 1):
            p = cccd_payload(rng)
            if i % 2:
                p = p.split("|")[rng.choice([2, 5])]
            payloads.append(p)
        frames.append((kind, payloads, hard_frame(rng, payloads, kind)))
    return frames


def run_all(contenders, frames):
    """Every decoder on frame 1, then every decoder on frame 2, …: on a shared, noisy machine the
    load then hits all decoders alike, so their ratios are fair even when absolute times drift."""
    acc = {name: {"ok": 0, "wrong": 0, "times": [], "per_kind": Counter(), "engines": Counter()}
           for name, _ in contenders}
    for kind, payloads, frame in frames:
        for name, decode in contenders:
            a = acc[name]
            t0 = time.perf_counter()
            got = decode(frame)
            a["times"].append((time.perf_counter() - t0) * 1000)
            texts = [d.text for d in got]
            a["wrong"] += sum(1 for t in texts if t is not None and t not in payloads)
            if sorted(t for t in texts if t in payloads) == sorted(payloads):
                a["ok"] += 1
                a["per_kind"][kind] += 1
            for d in got:
                a["engines"][d.engine] += 1
    for a in acc.values():
        t = a.pop("times")
        a.update(median=statistics.median(t), p90=float(np.percentile(t, 90)), max=max(t))
    return acc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=250)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "qr.md"))
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)  # the kiosk decodes in one worker thread; measure that
    t0 = time.monotonic()
    frames = make_set(args.frames, args.seed)
    gen_s = time.monotonic() - t0
    print(f"generated {len(frames)} frames in {gen_s:.1f} s", flush=True)

    pipeline = QrPipeline()
    contenders = [
        ("pyzbar plain", pyzbar_plain),
        ("pyzbar binary (ZBAR_CFG_BINARY)", ZbarBinaryEngine().decode),
        ("zxing-cpp (QR only)", ZxingEngine().decode),
        ("OpenCV QRCodeDetector", OpenCvEngine().decode),
        ("**our pipeline** (`decode_frame`)", pipeline.decode),
    ]
    for _, fn in contenders:
        fn(frames[0][2])  # warm-up: first-call allocations are not per-frame cost
    results = run_all(contenders, frames)
    for name, r in results.items():
        print(f"{name:40s} {r['ok']}/{len(frames)} wrong={r['wrong']} median={r['median']:.1f} ms", flush=True)

    # why the pipeline's fallbacks are ordered as they are: each pre-processing × engine on the
    # frames plain zxing-cpp misses
    zx = ZxingEngine()
    missed = [f for f in frames if sorted(d.text for d in zx.decode(f[2]) if d.text in f[1]) != sorted(f[1])]
    prep_rows = []
    for pname, prep in [("none (gray)", lambda g: (g, 1.0)), *_preps()]:
        for ename, eng in (("zxing-cpp", zx), ("zxing-cpp, fixed threshold", _ZxingFixed()),
                           ("zbar binary", ZbarBinaryEngine())):
            solved, ms = 0, []
            for kind, payloads, frame in missed:
                t = time.perf_counter()
                img, _ = prep(to_gray(frame))
                texts = [d.text for d in eng.decode(img)]
                ms.append((time.perf_counter() - t) * 1000)
                solved += sorted(x for x in texts if x in payloads) == sorted(payloads)
            prep_rows.append((pname, ename, solved, statistics.median(ms) if ms else 0.0))

    best_single = max((r["ok"] for n, r in results.items() if "pipeline" not in n))
    pipe = results[contenders[-1][0]]
    n = len(frames)
    cmd = f"python bench/bench_qr.py --frames {args.frames} --seed {args.seed}"
    lines = [
        "## QR decoding (`devices/qr`)",
        "",
        f"Command: `{cmd}` — {n} generated 1920×1080 frames (kinds cycled: {', '.join(DEGRADATIONS)}; "
        "`combo` = two troubles at once), half full CCCD-style payloads, half one Vietnamese field "
        "(name or address). Decoded = every code in the frame with exactly the right text. One thread; "
        "decoders interleaved frame by frame.",
        "",
        "| decoder | decoded | rate | wrong text | median ms/frame | p90 ms | max ms | median vs pipeline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['ok']}/{n} | {100 * r['ok'] / n:.1f} % | {r['wrong']} | {r['median']:.1f} | "
                     f"{r['p90']:.1f} | {r['max']:.0f} | {r['median'] / pipe['median']:.2f}× |")
    lines += ["", "Decoded per kind of trouble:", "",
              "| decoder | " + " | ".join(DEGRADATIONS) + " |", "|---|" + "---:|" * len(DEGRADATIONS)]
    per = Counter(k for k, _, _ in frames)
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{r['per_kind'][k]}/{per[k]}" for k in DEGRADATIONS) + " |")
    goal_rate = pipe["ok"] >= 0.99 * n
    lines += [
        "",
        f"Goals: pipeline ≥ best single engine ({pipe['ok']} vs {best_single}: "
        f"{'met' if pipe['ok'] >= best_single else 'NOT met'}); ≥ 99 % ({100 * pipe['ok'] / n:.1f} %: "
        f"{'met' if goal_rate else 'NOT met'}); ≤ 30 ms median ({pipe['median']:.1f} ms: "
        f"{'met' if pipe['median'] <= 30 else 'NOT met'}); no wrong Vietnamese text ({pipe['wrong']}: "
        f"{'met' if pipe['wrong'] == 0 else 'NOT met'}).",
        "",
        "Which stage of the pipeline produced the codes: "
        + ", ".join(f"`{k}` {v}" for k, v in pipe["engines"].most_common()) + ".",
        "",
        f"### Fallback pre-processing, measured on the {len(missed)} frames zxing-cpp alone misses",
        "",
        "The pipeline tries these on a crop around zxing-cpp's failed detections, then (if nothing "
        "was decoded) on the whole frame, in this order: zxing-cpp with a fixed threshold on the plain "
        "gray image, then per pre-processing zxing-cpp, zxing-cpp fixed threshold, zbar binary. No "
        "single fallback rescues all of these frames, which is why the pipeline chains them.",
        "",
        "| pre-processing | engine | frames solved | median ms (whole frame) |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {p} | {e} | {s}/{len(missed)} | {ms:.1f} |" for p, e, s, ms in prep_rows]
    lines += ["", f"Frame generation took {gen_s:.0f} s (not timed above)."]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
