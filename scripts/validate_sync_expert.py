"""Validate a sync expert as metrics.md section 4.4 asks, on preprocessed GRID clips.

    python scripts/validate_sync_expert.py [--model syncnet-grid|CHECKPOINT] [--cache cache/grid]
        [-o docs/eval/sync_expert.json]

Per set (the unseen val speakers s26 and s31, and s1 `test`):
1. offset recovery: the audio shifted to lead by k in -10..10 frames; the share of (clip, k)
   whose estimated offset is within one frame of k (and exactly k);
2. calibration: confidence of the unshifted real clips (median and interquartile range);
3. negative controls: a static video (the first frame repeated) and mismatched audio (the next
   clip's sound) must give low confidence.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from talkface.data.landmarks import load_split
from talkface.eval.sync import score_clip
from talkface.features.align import shift_audio
from talkface.models.syncnet import load_syncnet
from talkface.train.syncnet import SYNC_KEYS, make_clips
from talkface.weights import load_weights

SETS = {"s26-val": ("val", "s26"), "s31-val": ("val", "s31"), "s1-test": ("test", "s1")}
SHIFTS = range(-10, 11)


def validate_set(model, clips) -> dict:
    hits, exact, real, static, mismatched = [], [], [], [], []
    for i, clip in enumerate(clips):
        for lead in SHIFTS:
            score = score_clip(model, clip.faces, shift_audio(clip.wav, lead))
            hits.append(abs(score.offset - lead) <= 1)
            exact.append(score.offset == lead)
            if lead == 0:
                real.append(score.confidence)
        still = np.repeat(clip.faces[:1], len(clip.faces), axis=0)
        static.append(score_clip(model, still, clip.wav).confidence)
        other = clips[(i + 1) % len(clips)].wav
        n = min(len(other), len(clip.wav))
        mismatched.append(score_clip(model, clip.faces, other[:n]).confidence)
    q1, median, q3 = np.percentile(real, [25, 50, 75])
    return {
        "clips": len(clips),
        "offset_within_1": float(np.mean(hits)),
        "offset_exact": float(np.mean(exact)),
        "confidence_real_median": float(median),
        "confidence_real_iqr": [float(q1), float(q3)],
        "confidence_static_median": float(np.median(static)),
        "confidence_mismatched_median": float(np.median(mismatched)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="syncnet-grid")
    parser.add_argument("--cache", default="cache/grid")
    parser.add_argument("--limit", type=int, default=None, help="clips per set")
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    model = load_syncnet(load_weights(args.model))
    results = {}
    for name, (split, speaker) in SETS.items():
        raw = load_split(args.cache, split, speakers=(speaker,), keys=SYNC_KEYS)
        results[name] = validate_set(model, make_clips(raw[: args.limit]))
        r = results[name]
        print(
            f"| {name} | {r['clips']} | {r['offset_within_1']:.3f} | {r['offset_exact']:.3f} "
            f"| {r['confidence_real_median']:.2f} ({r['confidence_real_iqr'][0]:.2f}-"
            f"{r['confidence_real_iqr'][1]:.2f}) | {r['confidence_static_median']:.2f} "
            f"| {r['confidence_mismatched_median']:.2f} |",
            flush=True,
        )
    if args.output:
        Path(args.output).write_text(
            json.dumps({"model": args.model, **results}, indent=1)
        )


if __name__ == "__main__":
    main()
