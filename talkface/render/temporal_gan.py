"""Frames of the Vougioukas et al. temporal GAN, generated in order with its GRU states carried.

The generator makes model-size crops (128 px) directly from the still and the audio; frames are
made in chunks, so memory stays flat for long audio and the first frame comes quickly. Asking for
an earlier chunk than the current one replays from the start (the GRU state is sequential).
"""

from __future__ import annotations

import numpy as np
import torch

from talkface.features.align import audio_windows, n_video_frames
from talkface.models.vougioukas import AUDIO_WINDOW, GeneratorState, TemporalGenerator
from talkface.render.neural import to_model_range


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(..., 3, H, W) in [-1, 1] -> (..., H, W, 3) uint8."""
    x = ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).cpu().numpy()


class GANFrames:
    """Frame index -> (S, S, 3) uint8 crop of the temporal GAN for one still and one audio."""

    def __init__(
        self,
        model: TemporalGenerator,
        still: np.ndarray,
        wav: np.ndarray,
        fps: float,
        generator: torch.Generator | None = None,
        chunk: int = 25,
    ):
        size = model.config.size
        if still.shape[:2] != (size, size):
            raise ValueError(
                f"the still must be {size} x {size}, got {still.shape[:2]}"
            )
        self.model, self.chunk, self.still = model, chunk, still
        self.frames = n_video_frames(len(wav), fps)
        self.audio = audio_windows(wav, self.frames, fps, AUDIO_WINDOW)
        # all noise drawn up front: a seed gives the same video whatever order frames are asked in
        self.noise = model.sample_noise(1, self.frames, generator)
        with torch.no_grad():
            self.identity = model.encode_identity(
                to_model_range(still)[None].to(model.device)
            )
        self._reset()

    def __len__(self) -> int:
        return self.frames

    def _reset(self) -> None:
        self.state, self.current, self.cached = GeneratorState(), -1, None

    @torch.no_grad()
    def _advance(self) -> None:
        self.current += 1
        span = slice(self.current * self.chunk, (self.current + 1) * self.chunk)
        audio = torch.from_numpy(self.audio[span]).float()[None].to(self.model.device)
        frames, self.state = self.model.decode(
            self.identity, audio, self.noise[:, span], self.state
        )
        self.cached = to_uint8(frames[0])

    def __call__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.frames:
            raise IndexError(f"frame {index} of {self.frames}")
        wanted = index // self.chunk
        if wanted < self.current:
            self._reset()
        while self.current < wanted:
            self._advance()
        return self.cached[index % self.chunk]

    def all(self) -> np.ndarray:
        """(T, S, S, 3) every frame."""
        return np.stack([self(i) for i in range(self.frames)])
