"""Compute talkface/assets/mean_face.npy: the canonical neutral face from GRID s1 `train`.

    talkface preprocess ../shared/data/grid cache/grid --layout grid --jobs 2
    python scripts/make_mean_face.py cache/grid

The mean face is the generalised Procrustes mean of every training clip's leading-silence frames
(closed mouth), aligned on eyes and nose, symmetrised, and placed in the unit square.
"""

import argparse
from pathlib import Path

import numpy as np

from talkface.data.landmarks import MOTION_KEYS, compute_mean_face, load_split

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("cache", type=Path, help="output folder of `talkface preprocess`")
parser.add_argument(
    "-o", "--output", type=Path, default=Path("talkface/assets/mean_face.npy")
)
args = parser.parse_args()

clips = load_split(args.cache, "train", speakers=("s1",), keys=MOTION_KEYS)
mean = compute_mean_face(clips)
np.save(args.output, mean.astype(np.float32))
print(f"mean face from {len(clips)} clips -> {args.output}")
