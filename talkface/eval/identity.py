"""Identity metrics over face embeddings (metrics.md 2.5): ACD-still and ACD-pairwise.

Embeddings come from an injected embedder; talkface uses dlib's ResNet descriptor (128-d, same
person below about 0.6), so these are never comparable with the papers' OpenFace 1e-4 numbers.
"""

from __future__ import annotations

import numpy as np


def acd_still(still: np.ndarray, frames: np.ndarray) -> float:
    """Mean Euclidean distance of (T, D) frame embeddings from the (D,) still's."""
    return float(
        np.linalg.norm(np.asarray(frames) - np.asarray(still)[None], axis=1).mean()
    )


def acd_pairwise(frames: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs i < j of (T, D) embeddings; NaN for T < 2."""
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) < 2:
        return float("nan")
    distances = np.linalg.norm(frames[:, None] - frames[None], axis=-1)
    return float(distances[np.triu_indices(len(frames), k=1)].mean())
