"""Frames of the Vougioukas et al. temporal GAN, generated in order with its GRU states carried.

The generator makes model-size crops (128 px) directly from the still and the audio; frames are
made in chunks, so memory stays flat for long audio and the first frame comes quickly. Asking for
an earlier chunk than the current one replays from the start (the GRU state is sequential).
GANStream is the step both use: a file's frames (GANFrames) and a live stream's
(pipelines.streaming) come from the same calls, and NoiseTrack draws the same noise for a seed
however the frames are split into calls.
"""

from __future__ import annotations

import numpy as np
import torch

from talkface.features.align import audio_windows, n_video_frames
from talkface.models.vougioukas import AUDIO_WINDOW, GeneratorState, TemporalGenerator
from talkface.render.neural import to_model_range

NOISE_BLOCK = 25  # frames of noise drawn at a time (1 s at 25 fps)


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(..., 3, H, W) in [-1, 1] -> (..., H, W, 3) uint8."""
    x = ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).cpu().numpy()


class NoiseTrack:
    """The generator's noise input for one seed, frame after frame: drawn NOISE_BLOCK frames at
    a time, so taking it 5 + 40 frames at a time gives what taking 45 at once does."""

    def __init__(self, model: TemporalGenerator, generator: torch.Generator | None):
        self.model, self.generator = model, generator
        self.drawn, self.state = model.draw_noise(1, 0, generator)  # (1, 0, noise_dim)

    def take(self, frames: int) -> torch.Tensor:
        """(1, frames, noise_dim) the next frames' noise."""
        while self.drawn.shape[1] < frames:
            block, self.state = self.model.draw_noise(
                1, NOISE_BLOCK, self.generator, self.state
            )
            self.drawn = torch.cat([self.drawn, block], 1)
        taken, self.drawn = self.drawn[:, :frames], self.drawn[:, frames:]
        return taken


class GANStream:
    """The generator's crops for one still, made in order from raw-audio windows as they come:
    the identity encoded once, the GRU states carried from call to call."""

    def __init__(self, model: TemporalGenerator, still: np.ndarray):
        size = model.config.size
        if still.shape[:2] != (size, size):
            raise ValueError(
                f"the still must be {size} x {size}, got {still.shape[:2]}"
            )
        self.model, self.still = model, still
        with torch.no_grad():
            self.identity = model.encode_identity(
                to_model_range(still)[None].to(model.device)
            )
        self.reset()

    def reset(self) -> None:
        """Back to before the first frame."""
        self.state = GeneratorState()

    @torch.no_grad()
    def __call__(self, audio: np.ndarray, noise: torch.Tensor) -> np.ndarray:
        """(T, AUDIO_WINDOW) audio windows and (1, T, noise_dim) noise of the next T frames ->
        (T, S, S, 3) uint8 crops."""
        windows = torch.from_numpy(audio).float()[None].to(self.model.device)
        frames, self.state = self.model.decode(
            self.identity, windows, noise.to(self.model.device), self.state
        )
        return to_uint8(frames[0])


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
        self.stream, self.chunk, self.still = GANStream(model, still), chunk, still
        self.frames = n_video_frames(len(wav), fps)
        self.audio = audio_windows(wav, self.frames, fps, AUDIO_WINDOW)
        # all noise drawn up front: a seed gives the same video whatever order frames are asked in
        self.noise = NoiseTrack(model, generator).take(self.frames)
        self._reset()

    def __len__(self) -> int:
        return self.frames

    def _reset(self) -> None:
        self.stream.reset()
        self.current, self.cached = -1, None

    def _advance(self) -> None:
        self.current += 1
        span = slice(self.current * self.chunk, (self.current + 1) * self.chunk)
        self.cached = self.stream(self.audio[span], self.noise[:, span])

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
