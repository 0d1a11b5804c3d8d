"""The contracts passed between stages: Motion (what the face does) and Video (the result)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Motion:
    """Per-frame facial motion, independent of any particular face.

    displacements: (T, 68, 2) float32 canonical landmark displacements from the neutral face,
        in mean-face units (the mean face spans the unit square).
    blink: (T,) float32 eyelid closure, 0 = open, 1 = shut.
    fps: video frames per second.
    pose: (T, 5) float32 head pose relative to the photo's: yaw, pitch, roll in degrees, tx, ty
        in canonical units (motion.params); None = a still head.
    """

    displacements: np.ndarray
    blink: np.ndarray
    fps: float
    pose: np.ndarray | None = None

    def __post_init__(self):
        if self.pose is None:
            object.__setattr__(
                self, "pose", np.zeros((len(self.displacements), 5), np.float32)
            )

    def __len__(self) -> int:
        return len(self.displacements)


@dataclass(frozen=True)
class Video:
    """A talking-head video: frames rendered on demand, plus the audio to mux in.

    Frames are produced lazily by `render_frame(i)` -> (H, W, 3) uint8 RGB, so a long video never
    has to sit in memory; iterate or index to get them, `save()` to encode an mp4.
    audio: (N,) float32 mono at `sample_rate` Hz.
    motion, landmarks: what the frames show, when a motion stage made them: the Motion and the
        (T, 68, 2) rendered landmarks in photo pixels (io.motion.save_motion writes both).
    """

    render_frame: Callable[[int], np.ndarray]
    n_frames: int
    fps: float
    audio: np.ndarray
    sample_rate: int
    height: int
    width: int
    motion: Motion | None = None
    landmarks: np.ndarray | None = None

    def __len__(self) -> int:
        return self.n_frames

    def __getitem__(self, index: int) -> np.ndarray:
        if not -self.n_frames <= index < self.n_frames:
            raise IndexError(index)
        return self.render_frame(index % self.n_frames)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self.render_frame(i) for i in range(self.n_frames))

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def frames(self) -> np.ndarray:
        """All frames as one (T, H, W, 3) uint8 array (mind the memory for long videos)."""
        return np.stack(list(self))

    def save(
        self,
        path: str | Path,
        progress: bool = False,
        on_frame: Callable[[int], None] | None = None,
    ) -> Path:
        """Encode as H.264 (yuv420p) + AAC mp4, atomically. Returns the path written.

        progress: show a tqdm bar on stderr.
        on_frame: called with n after the n-th frame (1-based) is rendered, before it is
            encoded. An exception it raises stops the encoding and no file is left behind,
            so it can cancel as well as report (the web app's jobs do both).
        """
        from tqdm import tqdm

        from talkface.io.video import write_video

        frames: Iterable[np.ndarray] = tqdm(
            self,
            total=self.n_frames,
            desc="render",
            unit="frame",
            disable=not progress,
            leave=False,
        )
        if on_frame is not None:
            frames = _reporting(frames, on_frame)
        return write_video(path, frames, self.fps, self.audio, self.sample_rate)


def _reporting(
    frames: Iterable[np.ndarray], on_frame: Callable[[int], None]
) -> Iterator[np.ndarray]:
    for n, frame in enumerate(frames, 1):
        on_frame(n)
        yield frame
