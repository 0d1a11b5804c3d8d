"""Audio-visual sync scoring from per-window embeddings: the joonson/syncnet_python rule
(metrics.md 2.8), independent of the network that made the embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from talkface.features.align import sync_windows
from talkface.models.syncnet import WINDOW_FEATURES

VSHIFT = 15  # candidate offsets -15..15 frames (the scripts' value; calc_pdist defaults to 10)
TEST_SHIFT = 5  # frames: the misalignment the in-sync confidence is compared with


@dataclass(frozen=True)
class SyncScore:
    offset: int  # frames; positive when the audio leads the video
    confidence: float  # median over offsets minus the minimum mean distance
    min_distance: float  # LSE-D for one video
    # the confidence of one alignment rather than the best one: median minus the mean distance
    # at offset 0, and at +-TEST_SHIFT frames (averaged): as if the audio were shifted by that
    # much. Lips that follow this audio in time score clearly higher at 0.
    in_sync_confidence: float
    shifted_confidence: float


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
    median = np.median(mean)
    shifted = mean[[vshift - TEST_SHIFT, vshift + TEST_SHIFT]].mean()
    return SyncScore(
        offset=vshift - best,
        confidence=float(median - mean[best]),
        min_distance=float(mean[best]),
        in_sync_confidence=float(median - mean[vshift]),
        shifted_confidence=float(median - shifted),
    )


MIN_WINDOWS = 2 * VSHIFT  # fewer windows than candidate shifts: offsets mean nothing


def scorable(n_frames: int, n_samples: int) -> bool:
    """Whether a clip of `n_frames` 25 fps frames and `n_samples` 16 kHz samples is long
    enough to score."""
    return len(sync_windows(n_frames, n_samples)[0]) >= MIN_WINDOWS


def embed_clip(
    model, faces: np.ndarray, wav: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Video and audio window embeddings, (N, D) each, of one clip for a SyncNet expert.

    faces: (T, 48, 96) uint8 grey lower faces at 25 fps (features.visual.lower_face);
    wav: (N,) float32 mono at 16 kHz.
    """
    import torch

    from talkface.features.visual import face_windows

    if not scorable(len(faces), len(wav)):
        raise ValueError(
            f"sync scoring needs {MIN_WINDOWS} windows (about {MIN_WINDOWS + 5} frames "
            f"with sound); got {len(faces)} frames and {len(wav)} samples"
        )
    video_starts, _ = sync_windows(len(faces), len(wav))
    video = torch.from_numpy(face_windows(faces, video_starts))
    with torch.no_grad():
        return (
            model.embed_video(video).double().numpy(),
            embed_audio(model, wav, len(faces)),
        )


def embed_audio(model, wav: np.ndarray, n_frames: int) -> np.ndarray:
    """(N, D) float64 embeddings of the audio of each of the clip's sync windows (N as
    `sync_windows(n_frames, len(wav))`), by a SyncNet expert."""
    import torch

    from talkface.features.audio import speech_features

    _, feature_starts = sync_windows(n_frames, len(wav))
    mfcc, _ = speech_features(wav)
    audio = mfcc[feature_starts[:, None] + np.arange(WINDOW_FEATURES)[None]]
    with torch.no_grad():
        return model.embed_audio(audio).double().numpy()


def score_clip(model, faces: np.ndarray, wav: np.ndarray) -> SyncScore:
    """Offset and confidence of one clip (grey lower faces + its 16 kHz audio)."""
    return sync_score(*embed_clip(model, faces, wav))
