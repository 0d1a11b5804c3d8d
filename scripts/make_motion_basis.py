"""Compute talkface/assets/motion_basis.npz: the PCA basis of canonical landmark displacements
(99% of the variance) that every motion model shares, from GRID s1 `train`.

    talkface preprocess ../shared/data/grid cache/grid --layout grid --jobs 2
    python scripts/make_motion_basis.py cache/grid
"""

import argparse
from pathlib import Path

import numpy as np

from talkface.data.landmarks import MOTION_KEYS, clip_displacements, load_split
from talkface.motion.params import BASIS_VARIANCE, fit_motion_basis, save_motion_basis

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("cache", type=Path, help="output folder of `talkface preprocess`")
parser.add_argument(
    "-o", "--output", type=Path, default=Path("talkface/assets/motion_basis.npz")
)
args = parser.parse_args()

clips = load_split(args.cache, "train", speakers=("s1",), keys=MOTION_KEYS)
displacements = np.concatenate([clip_displacements(c) for c in clips])
basis = fit_motion_basis(displacements, BASIS_VARIANCE)
save_motion_basis(basis, args.output)
print(
    f"{len(basis)} components keep {BASIS_VARIANCE:.0%} of the variance of "
    f"{len(displacements)} frames from {len(clips)} clips -> {args.output}"
)
