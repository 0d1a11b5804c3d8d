"""A listening face: what to show between utterances. Mouth at rest, learned blinks and brow
motion (Sinha et al.'s blink generator), and a slow head sway, made into a seamless loop.

The sway is Gaussian noise smoothed over SWAY_SECONDS: GRID s1 heads move about 2.6, 0.5 and
0.3 degrees (yaw, pitch, roll; std within clips) while speaking, mostly with speech (their yaw
decorrelates within 0.3 s); a listener's head drifts more slowly and less, so SWAY_STD is about
half that, chosen by eye.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from talkface.face.landmarks import BROWS
from talkface.models.sinha import EYE_REGION, BlinkGenerator
from talkface.motion.blinks import blink_motion
from talkface.types import Motion

SWAY_STD = np.array(
    [1.5, 0.4, 0.3, 0.003, 0.003], np.float32
)  # yaw, pitch, roll (deg), tx, ty
SWAY_SECONDS = 0.6  # smoothing (Gaussian sigma) of the sway
LOOP_SECONDS = 1.0  # the cross-fade that joins the end to the start


def head_sway(n_frames: int, fps: float, generator: torch.Generator) -> np.ndarray:
    """(T, 5) slow head motion with SWAY_STD per parameter."""
    noise = torch.randn(n_frames, 5, generator=generator, dtype=torch.float64).numpy()
    smooth = gaussian_filter1d(noise, SWAY_SECONDS * fps, axis=0, mode="wrap")
    smooth = (smooth - smooth.mean(0)) / (smooth.std(0) + 1e-12)
    return (smooth * SWAY_STD).astype(np.float32)


def make_loop(track: np.ndarray, n_frames: int, overlap: int) -> np.ndarray:
    """The first `n_frames` of a track of n_frames + overlap frames, its start cross-faded with
    its continuation so that frame n_frames - 1 flows into frame 0."""
    out = track[:n_frames].copy()
    w = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, overlap))  # 1 -> 0
    w = w.reshape(-1, *[1] * (track.ndim - 1))
    out[:overlap] = w * track[n_frames : n_frames + overlap] + (1 - w) * track[:overlap]
    return out


def idle_motion(
    blink_model: BlinkGenerator,
    n_frames: int,
    fps: float,
    blink_rate: float | None,
    head_motion: float,
    generator: torch.Generator,
) -> Motion:
    """A looping listening Motion of `n_frames` (mouth at rest)."""
    overlap = max(1, min(int(LOOP_SECONDS * fps), n_frames // 4))
    total = n_frames + overlap
    eyes, closure = blink_motion(blink_model, total, fps, blink_rate, generator)
    displacements = np.zeros((total, 68, 2), np.float32)
    brows = np.isin(EYE_REGION, BROWS)
    displacements[:, EYE_REGION[brows]] = eyes[:, brows]
    pose = head_sway(total, fps, generator) * head_motion
    return Motion(
        make_loop(displacements, n_frames, overlap),
        np.clip(make_loop(closure.astype(np.float32), n_frames, overlap), 0, 1),
        fps,
        make_loop(pose, n_frames, overlap),
    )
