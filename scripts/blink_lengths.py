"""Blink rate and lengths as the pipeline draws lids: a blink generator against GRID s1 `train`.

    python scripts/blink_lengths.py [--blinks CHECKPOINT] [--cache cache/grid] [--clips 600]

Generated: `--clips` 3 s clips of `motion.blinks.spontaneous_motion` (after its warm-up), seeds
0, 1, ...; real: every s1 `train` clip's canonical eye landmarks. Both through the same lid
closure and EAR blink detector; prints blinks per second, median and mean length, and the
share of blinks 2-4 frames long (the blink-grid model card's table).
"""

import argparse

import numpy as np
import torch

from talkface.data.landmarks import clip_displacements, load_split
from talkface.eval.blinks import detect_blinks
from talkface.models.sinha import EYE_REGION
from talkface.motion.blinks import eye_region_ear, spontaneous_motion
from talkface.motion.params import closure_to_ear, eyelid_closure
from talkface.weights import load_model, load_weights


def summary(name: str, closures: list[np.ndarray], fps: float = 25.0) -> str:
    lengths = np.array(
        [b.frames for c in closures for b in detect_blinks(closure_to_ear(c))]
    )
    seconds = sum(len(c) for c in closures) / fps
    return (
        f"| {name} | {len(lengths) / seconds:.3f} | {np.median(lengths) / fps:.2f} "
        f"| {lengths.mean() / fps:.2f} | {np.mean((lengths >= 2) & (lengths <= 4)):.0%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blinks", default="blink-grid", help="name or checkpoint")
    parser.add_argument("--cache", default="cache/grid")
    parser.add_argument("--clips", type=int, default=600)
    args = parser.parse_args()

    model = load_model(load_weights(args.blinks)).eval()
    generated = []
    for seed in range(args.clips):
        eyes, _, _ = spontaneous_motion(model, 75, torch.Generator().manual_seed(seed))
        generated.append(eyelid_closure(eye_region_ear(eyes)))  # lids are not smoothed
    clips = load_split(
        args.cache, "train", keys=("landmarks", "fps", "words", "word_times")
    )
    real = [
        eyelid_closure(eye_region_ear(clip_displacements(c)[:, EYE_REGION]))
        for c in clips
    ]
    print("| | blinks/s | median s | mean s | blinks of 2-4 frames |")
    print("|---|---|---|---|---|")
    print(summary("GRID s1 `train`, real", real))
    print(summary(args.blinks, generated))


if __name__ == "__main__":
    main()
