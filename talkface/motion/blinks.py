"""Eye blinks: a renewal process of blink events at a natural rate, and eyelid closure.

Human spontaneous blinking while talking: about 0.25-0.45 blinks/s (Bentivoglio et al. 1997;
GRID video shows ~0.39/s), each 0.1-0.4 s long, closing fast and opening more slowly. Intervals
follow a gamma distribution (shape 2), which avoids the implausibly short gaps of a Poisson
process. The learned MMD blink generator (Sinha et al. sec. III-B) replaces this in a later stage.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RATE = 0.33  # blinks per second
MIN_GAP = 0.6  # seconds between blinks at least
DURATION_RANGE = (0.15, 0.3)  # seconds, eyes fully closed near the middle
CLOSING_SHARE = 0.3  # the lid falls in 30% of the blink,
CLOSED_SHARE = (
    0.3  # stays shut for 30% (at least one frame at 25 fps), and rises in the rest
)


def sample_blinks(
    n_frames: int,
    fps: float,
    rate: float = DEFAULT_RATE,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """(n_frames,) float32 eyelid closure in [0, 1] (1 = shut) for a random blink sequence."""
    rng = rng or np.random.default_rng()
    closure = np.zeros(n_frames, np.float32)
    if rate <= 0:
        return closure
    duration_total = n_frames / fps
    mean_gap = 1.0 / rate
    # first blink: anywhere in the first interval, so short clips still blink at the right rate
    t = rng.uniform(0.2, mean_gap)
    times = np.arange(n_frames) / fps + 0.5 / fps
    while t < duration_total:
        length = rng.uniform(*DURATION_RANGE)
        closure = np.maximum(closure, _blink_profile(times - t, length))
        gap = max(MIN_GAP, rng.gamma(2.0, (mean_gap - MIN_GAP / 2) / 2.0))
        t += length + gap
    return closure


def _blink_profile(dt: np.ndarray, length: float) -> np.ndarray:
    closing, closed = CLOSING_SHARE * length, CLOSED_SHARE * length
    down = np.clip(dt / closing, 0, 1)
    up = np.clip((length - dt) / (length - closing - closed), 0, 1)
    shape = np.minimum(down, up)
    shape = np.where((dt < 0) | (dt > length), 0.0, shape)
    return (0.5 - 0.5 * np.cos(np.pi * shape)).astype(
        np.float32
    )  # smooth ease in and out


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
