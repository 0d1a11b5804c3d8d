"""Sinha et al. (paper 000): person-independent landmark motion from speech and the MMD-trained
spontaneous blink generator (sec. III-A, III-B and IV).

LandmarkNet: for each video frame a 16-frame window of speech features (here per-utterance
normalised log-mel at 100 Hz, 64 feature frames = 16 video frames at 25 fps, in place of the
paper's DeepSpeech logits, whose weights cannot be had) -> four conv layers with leaky ReLU ->
two linear decoder layers, the last initialised with the PCA components of the training
displacements (99% variance) -> (68, 2) canonical displacements.

BlinkGenerator: Gaussian noise (T, 10) -> GRU -> linear layer initialised with the PCA of the
eye-region displacements (eyes and brows, 22 points) -> (T, 22, 2) displacements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from talkface.face.landmarks import BROWS, LEFT_EYE, RIGHT_EYE

EYE_REGION = np.concatenate([BROWS, RIGHT_EYE, LEFT_EYE])  # the 22 points blinks move


@dataclass(frozen=True)
class LandmarkNetConfig:
    n_mels: int = 40  # log-mel bands per feature frame
    context: int = 64  # feature frames per window (16 video frames at 25 fps)
    channels: tuple[int, ...] = (64, 128, 128, 256)  # the four conv layers
    hidden: int = 256  # first decoder layer
    n_components: int = 108  # last layer's inputs: the motion basis (99% variance)
    dropout: float = 0.2

    features = "log_mel"  # what pipelines compute for this model

    def __post_init__(self):
        if len(self.channels) != 4:
            raise ValueError("channels must list the 4 conv widths of the encoder")


PRESETS = {
    "sinha-grid": LandmarkNetConfig(),
    "sinha-tiny": LandmarkNetConfig(
        context=16, channels=(4, 4, 8, 8), hidden=8, n_components=4
    ),
}


class LandmarkNet(nn.Module):
    """Speech windows -> canonical landmark displacements, each frame on its own window."""

    def __init__(self, config: LandmarkNetConfig):
        super().__init__()
        self.config = config
        layers, cin = [], config.n_mels
        for cout in config.channels:  # conv over time, mel bands as channels
            layers += [nn.Conv1d(cin, cout, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin = cout
        self.encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.decoder = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(cin, config.hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(config.hidden, config.n_components),
            nn.Linear(config.n_components, 136),  # initialised with the PCA components
        )

    def set_pca(
        self, components: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
    ):
        """Initialise the output layer as the PCA decoder: coefficients (whitened) -> 136."""
        out = self.decoder[-1]
        with torch.no_grad():
            out.weight.copy_((components * scale[:, None]).T)
            out.bias.copy_(mean)

    def forward(
        self, windows: torch.Tensor, identity: torch.Tensor | None = None, state=None
    ) -> tuple[torch.Tensor, None]:
        """
        Args:
            windows: (B, T, context, n_mels) normalised log-mel windows, one per video frame.
            identity, state: unused (the motion is person-independent and needs no memory);
                present so that every speech -> landmark model is called the same way.
        Returns:
            (B, T, 68, 2) canonical displacements, and None.
        """
        B, T = windows.shape[:2]
        x = windows.reshape(B * T, *windows.shape[2:]).transpose(1, 2)
        out = self.decoder(self.encoder(x))
        return out.reshape(B, T, 68, 2), None


@dataclass(frozen=True)
class BlinkGeneratorConfig:
    noise_dim: int = 10  # z ~ N(0, 1) per frame
    hidden: int = 128
    layers: int = 2
    n_components: int = 12  # PCA of the 44-d eye-region displacement (99% variance)


BLINK_PRESETS = {
    "blink-grid": BlinkGeneratorConfig(),
    "blink-tiny": BlinkGeneratorConfig(hidden=8, layers=1, n_components=4),
}


class BlinkGenerator(nn.Module):
    """Noise -> eye-region (brows + eyes) displacement sequences; no audio input."""

    def __init__(self, config: BlinkGeneratorConfig):
        super().__init__()
        self.config = config
        self.rnn = nn.GRU(
            config.noise_dim, config.hidden, num_layers=config.layers, batch_first=True
        )
        self.to_components = nn.Linear(config.hidden, config.n_components)
        self.decoder = nn.Linear(config.n_components, 2 * len(EYE_REGION))

    def set_pca(
        self, components: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
    ):
        with torch.no_grad():
            self.decoder.weight.copy_((components * scale[:, None]).T)
            self.decoder.bias.copy_(mean)

    def forward(
        self, noise: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, noise_dim) noise -> (B, T, 22, 2) displacements and the GRU state."""
        hidden, state = self.rnn(noise, state)
        out = self.decoder(self.to_components(hidden))
        return out.unflatten(-1, (len(EYE_REGION), 2)), state
