"""Slow head motion for the models that predict none (AT-net, Sinha et al.) and for idle loops.

GRID s1 heads move about 2.6, 0.5 and 0.3 degrees (yaw, pitch, roll; std within clips) while
speaking, mostly with speech (their yaw decorrelates within 0.3 s). Without a model of that
link, a slow drift about half as large keeps a face from looking frozen without moving it
against the speech: white noise through a 3rd-order low-pass at SWAY_HZ (2nd order
leaves visible jerks), scaled to SWAY_STD
(chosen by eye). The filter's state carries over, so a stream sways as smoothly as a file.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

SWAY_STD = np.array([1.5, 0.4, 0.3, 0.003, 0.003])  # yaw, pitch, roll (deg), tx, ty
SWAY_HZ = 0.25  # low-pass cut-off: swings of a few seconds
SWAY_ORDER = 3
SETTLE_SECONDS = 20.0  # several of the filter's time constants
SWAY_STREAM = 0x5A7  # salt: the sway's random stream, apart from the seed's others


@functools.cache
def _filter(fps: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Butterworth (b, a) at SWAY_HZ and the std of its output for unit white noise."""
    from scipy.signal import butter, lfilter

    b, a = butter(SWAY_ORDER, SWAY_HZ, fs=fps)
    impulse = lfilter(b, a, np.r_[1.0, np.zeros(int(60 * fps))])
    return b, a, float(np.sqrt(np.sum(impulse**2)))


class HeadSway:
    """(T, 5) head pose (yaw, pitch, roll, tx, ty) a chunk at a time, continuous from one call
    to the next, starting at rest (the photo's own pose) or `settled` (mid-sway)."""

    def __init__(self, fps: float, generator: torch.Generator, settled: bool = False):
        self.fps = fps
        self.state = np.zeros((SWAY_ORDER, 5))  # the filter's memory, at rest
        # its own stream from the caller's seed: the sway never shifts the caller's other
        # draws (blinks), and NumPy's normals are the same however they are chunked
        self.rng = np.random.default_rng([generator.initial_seed(), SWAY_STREAM])
        if settled:  # already swaying at the first frame (a loop has no start)
            self(int(SETTLE_SECONDS * fps))

    def __call__(self, n_frames: int) -> np.ndarray:
        from scipy.signal import lfilter

        b, a, gain = _filter(self.fps)
        noise = self.rng.standard_normal((n_frames, 5))
        out, self.state = lfilter(b, a, noise, axis=0, zi=self.state)
        return (out / gain * SWAY_STD).astype(np.float32)
