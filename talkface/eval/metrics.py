"""Landmark metrics (metrics.md section 2.6)."""

from __future__ import annotations

import numpy as np

from talkface.face.landmarks import MOUTH, inner_lip_opening


def lmd(
    real: np.ndarray,
    fake: np.ndarray,
    points: np.ndarray = MOUTH,
    centre: str = "mean",
    reduce: str = "mean",
) -> float:
    """Landmark distance between (T, 68, 2) landmark tracks, in their pixel units.

    Defaults follow metrics.md 2.6: the 20 mouth points, each frame's points centred on their
    mean (removes translation), Euclidean distance per point averaged over points ('mean') or
    summed as ATVGnet's code does ('sum'), then averaged over frames.
    """
    r, f = real[:, points].astype(np.float64), fake[:, points].astype(np.float64)
    if centre == "mean":
        r = r - r.mean(1, keepdims=True)
        f = f - f.mean(1, keepdims=True)
    elif centre != "none":
        raise ValueError(f"centre must be 'mean' or 'none', got {centre!r}")
    dist = np.linalg.norm(r - f, axis=-1)  # (T, P)
    per_frame = dist.sum(1) if reduce == "sum" else dist.mean(1)
    return float(per_frame.mean())


def opening_correlation(real: np.ndarray, fake: np.ndarray) -> float:
    """Pearson correlation of the inner-lip opening over time of two (T, 68, 2) tracks."""
    a, b = inner_lip_opening(real), inner_lip_opening(fake)
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
