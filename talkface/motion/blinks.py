"""Spontaneous blinks and brow motion from the learned blink generator (Sinha et al. sec. III-B),
eyelid closure on a person's landmarks, and retiming to a blink rate a user asks for.

The generator's blinks come at GRID's natural rate and duration (docs/models/blink-grid.md).
A requested rate retimes them: the open-eye gaps between generated blinks are stretched or
squeezed, so each blink keeps its learned shape and length.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from talkface.eval.blinks import Blink, detect_blinks
from talkface.face.align import mean_face
from talkface.face.landmarks import BROWS, eye_aspect_ratio
from talkface.models.sinha import EYE_REGION, BlinkGenerator
from talkface.motion.params import closure_to_ear, eyelid_closure

RATE_PROBE_FRAMES = 25 * 240  # 4 minutes of generated motion measure the natural rate
# The generator learned from 3 s GRID clips that start with open eyes: trained with the paper's
# loss alone its first second hardly ever blinked (0.38 blinks/s over 3 s sequences, 0.47 after
# 2 s; the shipped one: 0.475 and 0.479). Motion starts after this many frames of its own
# warm-up, so a short video blinks at the steady rate whichever checkpoint draws it.
WARMUP_FRAMES = 50
BROW_SMOOTHING = 2.0  # frames (Gaussian sigma)


def spontaneous_motion(
    model: BlinkGenerator, n_frames: int, generator: torch.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, list[Blink]]:
    """(T, 22, 2) canonical eye-region displacements (brows and lids), (T,) eyelid closure and
    the blinks in it, found by the same EAR detector that measures real video."""
    noise = torch.randn(
        1, WARMUP_FRAMES + n_frames, model.config.noise_dim, generator=generator
    )
    with torch.no_grad():
        eyes = model(noise)[0][0, WARMUP_FRAMES:].numpy()
    closure = eyelid_closure(eye_region_ear(eyes))
    blinks = detect_blinks(closure_to_ear(closure))
    # the generator also learned dlib's frame-to-frame jitter: keep the brows' slow motion and
    # the lids' blinks only (drawn lids turn each jitter into a short blink of its own: 1.1
    # blinks/s of median 0.16 s in rendered video instead of the learned 0.5/s of 0.24 s)
    brows = np.isin(EYE_REGION, BROWS)
    eyes[:, brows] = gaussian_filter1d(eyes[:, brows], BROW_SMOOTHING, axis=0)
    return eyes, blinks_only(closure, blinks), blinks


def blinks_only(closure: np.ndarray, blinks: list[Blink]) -> np.ndarray:
    """(T,) closure inside the given blinks, open eyes everywhere else."""
    lids = np.zeros(len(closure), np.float32)
    for blink in blinks:
        lids[blink.start : blink.end + 1] = closure[blink.start : blink.end + 1]
    return lids


def eye_region_ear(eyes):
    """(..., T) eye aspect ratio of the mean face moved by (..., T, 22, 2) eye-region
    displacements (a numpy array, or a torch tensor for a differentiable loss)."""
    shape = (*eyes.shape[:-2], 68, 2)
    if isinstance(eyes, torch.Tensor):
        face = torch.as_tensor(mean_face(), dtype=eyes.dtype).expand(shape).clone()
    else:
        face = np.broadcast_to(mean_face(), shape).copy()
    face[..., EYE_REGION, :] += eyes
    return eye_aspect_ratio(face)


@functools.cache
def natural_rate(model: BlinkGenerator, fps: float = 25.0) -> float:
    """Blinks per second the generator produces on its own (measured once per model)."""
    probe = torch.Generator().manual_seed(0)
    _, _, blinks = spontaneous_motion(model, RATE_PROBE_FRAMES, probe)
    return max(len(blinks), 1) / (RATE_PROBE_FRAMES / fps)


def retime_blinks(
    closure: np.ndarray, blinks: list[Blink], n_frames: int, factor: float
) -> np.ndarray:
    """(n_frames,) closure with `factor` times as many blinks per second: the open-eye stretches
    between `blinks` are resampled to 1/factor of their length, the blinks kept as they are.
    factor 0 leaves the eyes open. `closure` must cover about n_frames * factor frames."""
    if factor <= 0:
        return np.zeros(n_frames, np.float32)
    pieces, previous_end = [], 0
    for blink in [*blinks, Blink(len(closure), len(closure))]:
        gap = closure[previous_end : blink.start]
        if len(gap):
            length = max(1, int(round(len(gap) / factor)))
            index = np.linspace(0, len(gap) - 1, length).round().astype(int)
            pieces.append(gap[index])
        pieces.append(closure[blink.start : blink.end])
        previous_end = blink.end
    out = np.concatenate(pieces)[:n_frames]
    return np.pad(out, (0, n_frames - len(out)), mode="edge").astype(np.float32)


def blink_motion(
    model: BlinkGenerator,
    n_frames: int,
    fps: float,
    rate: float | None,
    generator: torch.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Eye-region displacements and closure for `n_frames`; `rate` blinks per second, or None
    for the generator's natural rate."""
    if rate is None:
        eyes, closure, _ = spontaneous_motion(model, n_frames, generator)
        return eyes, closure
    factor = rate / natural_rate(model, fps)
    source = int(np.ceil(n_frames * max(factor, 1.0))) + 2 * int(fps)
    eyes, closure, blinks = spontaneous_motion(model, source, generator)
    return eyes[:n_frames], retime_blinks(closure, blinks, n_frames, factor)


# upper-lid point -> the lower-lid point below it, for both eyes
UPPER_LIDS = np.array([37, 38, 43, 44])
LOWER_LIDS = np.array([41, 40, 47, 46])
MEET_AT = (
    0.8  # closed lids meet 80% of the way down: the upper lid does most of the travel
)


def close_eyelids(landmarks: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """Move upper and lower lids of (T, 68, 2) landmarks together by (T,) closure in [0, 1]."""
    out = landmarks.copy()
    upper, lower = landmarks[:, UPPER_LIDS], landmarks[:, LOWER_LIDS]
    meet = upper + MEET_AT * (lower - upper)
    c = closure[:, None, None]
    out[:, UPPER_LIDS] = upper + c * (meet - upper)
    out[:, LOWER_LIDS] = lower + c * (meet - lower)
    return out
