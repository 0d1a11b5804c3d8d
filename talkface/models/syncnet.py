"""A SyncNet-style audio-visual sync expert (Chung & Zisserman 2016; metrics.md sec. 4).

Two streams embed 0.2 s of speech and the 5 video frames showing it:
    video: 5 grey lower-face frames (48 x 96, stacked as channels) -> conv stack -> R^D
    audio: 20 normalised MFCC frames (c1..c12, 100 Hz)             -> conv stack -> R^D
In-sync pairs lie close; the joonson rule (eval/sync.py) turns distances over +-15 frame
shifts into an offset and a confidence. Trained multi-way (one in-sync audio window against
shifted ones, logits = -distance, "Perfect Match", Chung et al. 2019) by train/syncnet.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

WINDOW_FRAMES = 5  # video frames per window (0.2 s at 25 fps)
WINDOW_FEATURES = 20  # MFCC frames per window (0.2 s at 100 Hz)
FACE_HEIGHT, FACE_WIDTH = 48, 96  # lower half of a 96 x 96 aligned face crop


@dataclass(frozen=True)
class SyncNetConfig:
    n_mfcc: int = 12
    video_channels: tuple[int, ...] = (32, 64, 128, 256)  # each halves the image
    audio_channels: tuple[int, ...] = (32, 64, 128)  # the last two halve time
    embedding: int = 256


PRESETS = {
    "syncnet-grid": SyncNetConfig(),
    # a second expert to train a generator against: never evaluate with the network used as a
    # training loss (metrics.md 4.1), so it differs from the evaluator in widths and seed
    "sync-loss-grid": SyncNetConfig(
        video_channels=(24, 48, 96, 192), audio_channels=(24, 48, 96), embedding=128
    ),
    "tiny": SyncNetConfig(
        video_channels=(4, 8, 8, 8), audio_channels=(4, 8, 8), embedding=8
    ),
}


def _conv(cin: int, cout: int, stride: int | tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SyncNet(nn.Module):
    """Embeds video windows and audio windows into one space where in-sync pairs are near."""

    def __init__(self, config: SyncNetConfig):
        super().__init__()
        self.config = config
        v = config.video_channels
        self.video_encoder = nn.Sequential(
            _conv(WINDOW_FRAMES, v[0], 1),
            *[_conv(a, b, 2) for a, b in zip(v[:-1], v[1:])],
            _conv(v[-1], v[-1], 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(v[-1], config.embedding),
        )
        a = config.audio_channels
        self.audio_encoder = nn.Sequential(  # over the (n_mfcc x time) MFCC image
            _conv(1, a[0], 1),
            _conv(a[0], a[1], (1, 2)),
            _conv(a[1], a[2], 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(a[2], config.embedding),
        )

    def embed_video(self, faces: torch.Tensor) -> torch.Tensor:
        """(B, WINDOW_FRAMES, FACE_HEIGHT, FACE_WIDTH) normalised grey faces -> (B, D)."""
        return self.video_encoder(faces)

    def embed_audio(self, mfcc: torch.Tensor) -> torch.Tensor:
        """(B, WINDOW_FEATURES, n_mfcc) normalised MFCC windows -> (B, D)."""
        return self.audio_encoder(mfcc.transpose(1, 2)[:, None])

    def forward(
        self, faces: torch.Tensor, mfcc: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.embed_video(faces), self.embed_audio(mfcc)


def load_syncnet(checkpoint: dict) -> SyncNet:
    """Rebuild a SyncNet from a checkpoint dict {"config", "model", ...}."""
    from talkface.weights import load_model

    return load_model({"architecture": "SyncNet", **checkpoint})
