"""A listening face: what to show between utterances. Mouth at rest, learned blinks and brow
motion (Sinha et al.'s blink generator), and a slow head sway, made into a seamless loop.

The sway is motion.sway's, the one every landmark model's video has.
"""

from __future__ import annotations

import numpy as np
import torch

from talkface.face.landmarks import BROWS
from talkface.models.sinha import EYE_REGION, BlinkGenerator
from talkface.motion.blinks import blink_motion
from talkface.motion.sway import HeadSway
from talkface.types import Motion

LOOP_SECONDS = 1.0  # the cross-fade that joins the end to the start


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
    pose = HeadSway(fps, generator, settled=True)(total) * head_motion
    return Motion(
        make_loop(displacements, n_frames, overlap),
        np.clip(make_loop(closure.astype(np.float32), n_frames, overlap), 0, 1),
        fps,
        make_loop(pose, n_frames, overlap),
    )
