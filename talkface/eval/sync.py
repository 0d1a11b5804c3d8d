"""Audio-visual sync scoring from per-window embeddings: the joonson/syncnet_python rule
(metrics.md 2.8), independent of the network that made the embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VSHIFT = 15  # candidate offsets -15..15 frames (the scripts' value; calc_pdist defaults to 10)


@dataclass(frozen=True)
class SyncScore:
    offset: int  # frames; positive when the audio leads the video
    confidence: float  # median over offsets minus the minimum mean distance
    min_distance: float  # LSE-D for one video


def sync_score(video: np.ndarray, audio: np.ndarray, vshift: int = VSHIFT) -> SyncScore:
    """Score (T, D) video-window embeddings against (T, D) audio-window embeddings.

    Audio windows are zero-padded by `vshift` on both sides, as joonson's calc_pdist does; for
    unrelated streams that padding wins (offset at +-vshift, low confidence).
    """
    video = np.asarray(video, np.float64)
    audio = np.asarray(audio, np.float64)
    padded = np.pad(audio, ((vshift, vshift), (0, 0)))
    T = len(video)
    candidates = np.arange(2 * vshift + 1)
    # dists[i, j] = || v_i - a_{i - vshift + j} || (+1e-6 as torch's pairwise_distance)
    windows = padded[np.arange(T)[:, None] + candidates[None, :]]  # (T, 2v+1, D)
    dists = np.linalg.norm(video[:, None, :] - windows + 1e-6, axis=-1)
    mean = dists.mean(0)
    best = int(np.argmin(mean))
    return SyncScore(
        offset=vshift - best,
        confidence=float(np.median(mean) - mean[best]),
        min_distance=float(mean[best]),
    )
