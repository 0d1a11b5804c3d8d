"""Landmark metrics (metrics.md section 2.6)."""

from __future__ import annotations

import numpy as np

from talkface.face.landmarks import MOUTH, inner_lip_opening

# fae's mouth: face_recognition's top_lip + bottom_lip, 24 points with 48, 54, 60, 64 twice
FAE_MOUTH = np.array(
    [48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60]
    + [54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64]
)
OUTER_EYE_CORNERS = (36, 45)


def lmd(
    real: np.ndarray,
    fake: np.ndarray,
    points: np.ndarray = MOUTH,
    centre: str = "mean",
    reduce: str = "mean",
    distance: str = "l2",
    normalise: str | None = None,
) -> float:
    """Landmark distance between (T, 68, 2) landmark tracks, in their pixel units.

    Defaults follow metrics.md 2.6: the 20 mouth points, each frame's points centred on their
    mean (removes translation), Euclidean distance per point averaged over points ('mean') or
    summed as ATVGnet's code does ('sum'), then averaged over frames. `distance='l1'` is fae's
    per-coordinate absolute difference (mean over points and both coordinates; use with
    centre='none' and points=FAE_MOUTH to match fae). `normalise='interocular'` divides each
    frame by the real face's outer-eye-corner distance, making the value scale-free.
    """
    r, f = real[:, points].astype(np.float64), fake[:, points].astype(np.float64)
    if centre == "mean":
        r = r - r.mean(1, keepdims=True)
        f = f - f.mean(1, keepdims=True)
    elif centre != "none":
        raise ValueError(f"centre must be 'mean' or 'none', got {centre!r}")
    if distance == "l2":
        dist = np.linalg.norm(r - f, axis=-1)  # (T, P)
    elif distance == "l1":
        dist = np.abs(r - f).mean(-1)  # mean over the two coordinates
    else:
        raise ValueError(f"distance must be 'l2' or 'l1', got {distance!r}")
    per_frame = dist.sum(1) if reduce == "sum" else dist.mean(1)
    if normalise == "interocular":
        a, b = OUTER_EYE_CORNERS
        per_frame = per_frame / np.linalg.norm(real[:, a] - real[:, b], axis=-1)
    elif normalise is not None:
        raise ValueError(f"normalise must be None or 'interocular', got {normalise!r}")
    return float(per_frame.mean())


LMD_VARIANTS = {
    # name: (points, keyword arguments); 'lmd_mouth' is the headline number
    "lmd_mouth": (MOUTH, {}),
    "lmd_face": (np.arange(68), {}),
    "lmd_mouth_sum": (MOUTH, {"reduce": "sum"}),  # ATVGnet's evaluation code
    "lmd_mouth_fae": (FAE_MOUTH, {"centre": "none", "distance": "l1"}),
    "lmd_mouth_interocular": (MOUTH, {"normalise": "interocular"}),
}


def lmd_variants(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Every LMD variant of LMD_VARIANTS for one pair of (T, 68, 2) tracks."""
    return {
        name: lmd(real, fake, points=points, **kwargs)
        for name, (points, kwargs) in LMD_VARIANTS.items()
    }


def opening_correlation(real: np.ndarray, fake: np.ndarray) -> float:
    """Pearson correlation of the inner-lip opening over time of two (T, 68, 2) tracks."""
    a, b = inner_lip_opening(real), inner_lip_opening(fake)
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])
