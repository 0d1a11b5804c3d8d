"""What a user can choose for one generation, whichever pipeline makes it."""

from __future__ import annotations

from dataclasses import dataclass, fields

from talkface.errors import TalkfaceError

# Regression to the mean makes the AT-net under-articulate voices it never heard; 1.3 was
# chosen on GRID val (docs/results.md).
DEFAULT_MOTION_SCALE = 1.3
# Streaming: audio a frame waits for past its centre. On the bundled sample in 20 ms chunks,
# the lip opening of streamed video against the file pipeline's correlates 0.925 waiting for the
# AT-net's whole window (first frame after 180 ms of audio), 0.925 at 80 ms (after 120 ms),
# 0.904 at 40 ms (80 ms), 0.763 at 0 (40 ms).
DEFAULT_LOOKAHEAD_MS = 80.0


@dataclass(frozen=True)
class GenerateOptions:
    """What a user can choose for one generation."""

    fps: float = 25.0  # output frame rate
    seed: int | None = None  # makes blinks, brows and head motion reproducible
    face: int = 0  # which detected face to animate, 0 = the largest
    blink_rate: float | None = None  # blinks per second; None = natural, 0 = no blinks
    head_motion: float = (
        1.0  # scales DIRFA's head motion or the slow sway; 0 = still head
    )
    # face crop size in pixels; None = the face's own resolution
    crop_size: int | None = None
    motion_scale: float = DEFAULT_MOTION_SCALE  # multiplies lip and jaw motion
    # frames show the renderer at work instead: crop + landmarks | attention | colour maps
    debug: bool = False

    def __post_init__(self):
        if not 1 <= self.fps <= 120:
            raise TalkfaceError(f"fps must be between 1 and 120, got {self.fps}")
        if self.face < 0:
            raise TalkfaceError(f"face index must be >= 0, got {self.face}")
        if self.blink_rate is not None and not 0 <= self.blink_rate <= 3:
            raise TalkfaceError(
                f"blink rate must be between 0 and 3 per second, got {self.blink_rate}"
            )
        if not 0 <= self.head_motion <= 2:
            raise TalkfaceError(
                f"head motion must be between 0 and 2, got {self.head_motion}"
            )
        if not 0 <= self.motion_scale <= 3:
            raise TalkfaceError(
                f"motion scale must be between 0 and 3, got {self.motion_scale}"
            )
        if self.crop_size is not None and not 64 <= self.crop_size <= 1024:
            raise TalkfaceError(
                f"crop size must be between 64 and 1024, got {self.crop_size}"
            )

    def random_generator(self):
        """A torch.Generator seeded by `seed` (a fresh random seed when it is None)."""
        import torch

        generator = torch.Generator()
        generator.manual_seed(self.seed if self.seed is not None else generator.seed())
        return generator


# the choices of a generation (debug is a view of one, not a choice)
CHOICES = tuple(f.name for f in fields(GenerateOptions) if f.name != "debug")
