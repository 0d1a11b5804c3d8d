"""Sinha et al. (paper 000): person-independent landmark motion from speech and the MMD-trained
spontaneous blink generator (sec. III-A, III-B and IV).

LandmarkNet: for each video frame a 16-frame window of speech features (here per-utterance
normalised log-mel at 100 Hz, 64 feature frames = 16 video frames at 25 fps, in place of the
paper's DeepSpeech logits, whose weights cannot be had) -> four conv layers with leaky ReLU ->
two linear decoder layers, the last initialised with the PCA components of the training
displacements (99% variance) -> (68, 2) canonical displacements.

BlinkGenerator: Gaussian noise (T, 10) -> GRU -> linear layer initialised with the PCA of the
eye-region displacements (eyes and brows, 22 points) -> (T, 22, 2) displacements.

TextureGenerator (sec. III-C, IV): the landmark images of the frame and of the identity, each
through one landmark encoder; their feature difference, concatenated with the base image, into
an encoder-decoder (GANimation's: strided convs, residual blocks, transposed convs, instance
norm) with two heads, an attention map and a colour map: I_t = (1 - att_t) C_t + att_t I_base.
The paper's base is the identity photo; `base="warp"` composites onto the warp renderer's frame
instead, so that attention keeps the warp's identity and the network paints what a warp cannot
(mouth interior, lids). PatchDiscriminator: PatchGAN with instance norm, for LSGAN.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from talkface.face.landmarks import BROWS, LEFT_EYE, RIGHT_EYE
from talkface.features.audio import feature_dims
from talkface.models.compositing import check_base_and_regions
from talkface.models.speech import strided_length, window_summary

EYE_REGION = np.concatenate([BROWS, RIGHT_EYE, LEFT_EYE])  # the 22 points blinks move


@dataclass(frozen=True)
class LandmarkNetConfig:
    # features.audio.FEATURE_KINDS: "log_mel+phones" adds pocketsphinx's phone per frame
    features: str = "log_mel"
    context: int = 64  # feature frames per window (16 video frames at 25 fps)
    channels: tuple[int, ...] = (64, 128, 128, 256)  # the four conv layers
    hidden: int = 256  # first decoder layer
    n_components: int = 108  # last layer's inputs: the motion basis (99% variance)
    dropout: float = 0.2
    # models.speech.window_summary; checkpoints saved before the field existed averaged
    audio_summary: str = "mean"

    def __post_init__(self):
        if len(self.channels) != 4:
            raise ValueError("channels must list the 4 conv widths of the encoder")


PRESETS = {
    "sinha-grid": LandmarkNetConfig(audio_summary="flatten"),
    "sinha-grid-mean": LandmarkNetConfig(),  # before 2026-12-04: the window averaged
    "sinha-grid-phones": LandmarkNetConfig(
        audio_summary="flatten", features="log_mel+phones"
    ),
    "sinha-tiny": LandmarkNetConfig(
        context=16,
        channels=(4, 4, 8, 8),
        hidden=8,
        n_components=4,
        audio_summary="flatten",
    ),
}
PRESETS["sinha-tiny-phones"] = replace(PRESETS["sinha-tiny"], features="log_mel+phones")


class LandmarkNet(nn.Module):
    """Speech windows -> canonical landmark displacements, each frame on its own window."""

    def __init__(self, config: LandmarkNetConfig):
        super().__init__()
        self.config = config
        layers, cin = [], feature_dims(config.features)
        for cout in config.channels:  # conv over time, mel bands as channels
            layers += [nn.Conv1d(cin, cout, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin = cout
        steps = strided_length(config.context, len(config.channels))
        self.encoder = nn.Sequential(
            *layers, *window_summary(config.audio_summary, cin, steps)
        )
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
            windows: (B, T, context, feature_dims(features)) normalised log-mel windows (then the
                one-hot phones, for "log_mel+phones"), one per video frame.
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


@dataclass(frozen=True)
class TextureGeneratorConfig:
    size: int = 128  # square aligned crop (px)
    channels: int = 16  # first encoder width, doubled by each downsampling
    downsamplings: int = 2
    residual_blocks: int = 4
    landmark_features: int = 8  # landmark encoder output channels
    base: str = "warp"  # what the maps composite onto: "identity" (the paper) or "warp"
    # where the maps may change the base: "face" (the whole crop, the paper) or "mouth-eyes"
    # (render.neural.edit_regions; the warp keeps an unseen face everywhere else)
    regions: str = "face"

    def __post_init__(self):
        check_base_and_regions(self.base, self.regions)
        if self.size % 2**self.downsamplings:
            raise ValueError("size must be divisible by 2 ** downsamplings")


@dataclass(frozen=True)
class PatchDiscriminatorConfig:
    channels: int = 32  # first layer width, doubled by each strided layer
    strided_layers: int = 3  # 70x70 receptive field with 3 (pix2pix)


TEXTURE_PRESETS = {
    "texture-grid": TextureGeneratorConfig(regions="mouth-eyes"),
    "texture-paper": TextureGeneratorConfig(base="identity"),
    "texture-tiny": TextureGeneratorConfig(
        size=32,
        channels=4,
        residual_blocks=1,
        landmark_features=2,
        regions="mouth-eyes",
    ),
}
PATCH_PRESETS = {
    "patch-grid": PatchDiscriminatorConfig(),
    "patch-tiny": PatchDiscriminatorConfig(channels=4, strided_layers=2),
}


def _conv_block(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    padding = kernel // 2 if stride == 1 else 1
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding, bias=False),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv_block(channels, channels, 3),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TextureGenerator(nn.Module):
    """Landmark images + base image -> frame, attention map and colour map (eq. 6)."""

    def __init__(self, config: TextureGeneratorConfig):
        super().__init__()
        self.config = config
        f, c = config.landmark_features, config.channels
        self.landmark_encoder = nn.Sequential(
            nn.Conv2d(1, f, 3, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(f, f, 3, padding=1),
            nn.LeakyReLU(0.2),
        )
        layers = [_conv_block(3 + f, c, 5)]
        for _ in range(config.downsamplings):
            layers.append(_conv_block(c, 2 * c, 4, stride=2))
            c *= 2
        layers += [_ResidualBlock(c) for _ in range(config.residual_blocks)]
        for _ in range(config.downsamplings):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(c // 2, affine=True),
                nn.ReLU(inplace=True),
            ]
            c //= 2
        self.trunk = nn.Sequential(*layers)
        # 5x5 / 3x3 where GANimation has 7x7: the full-resolution layers dominate CPU time
        self.colour = nn.Conv2d(c, 3, 3, padding=1)
        self.attention = nn.Conv2d(c, 1, 3, padding=1)
        # start near att = 1: the base image passes through until the colour map earns its place
        nn.init.constant_(self.attention.bias, 2.0)

    def forward(
        self,
        base: torch.Tensor,
        landmarks: torch.Tensor,
        identity_landmarks: torch.Tensor,
        region: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """
        Args:
            base: (B, 3, S, S) image in [-1, 1]: the identity crop or its warp to the frame.
            landmarks, identity_landmarks: (B, 1, S, S) landmark images in [0, 1] of the frame
                to render and of the identity crop.
            region: (B, 1, S, S) in [0, 1], where the maps may change the base (regions
                "mouth-eyes"; everywhere when None).
        Returns:
            frame (B, 3, S, S) in [-1, 1], attention (B, 1, S, S) in [0, 1] (1 = keep the
            base), colour (B, 3, S, S) in [-1, 1].
        """
        motion = self.landmark_encoder(landmarks) - self.landmark_encoder(
            identity_landmarks
        )
        hidden = self.trunk(torch.cat([base, motion], 1))
        colour = torch.tanh(self.colour(hidden))
        attention = torch.sigmoid(self.attention(hidden))
        if region is not None:
            attention = 1 - region * (1 - attention)
        return (1 - attention) * colour + attention * base, attention, colour


class PatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix) with instance norm instead of batch norm: (B, 3, S, S) image in
    [-1, 1] -> (B, 1, h, w) realness scores of overlapping patches (LSGAN targets 1 / 0)."""

    def __init__(self, config: PatchDiscriminatorConfig):
        super().__init__()
        self.config = config
        c = config.channels
        layers = [nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(config.strided_layers - 1):
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(2 * c, affine=True),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c *= 2
        layers += [
            nn.Conv2d(c, 2 * c, 4, 1, 1, bias=False),
            nn.InstanceNorm2d(2 * c, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * c, 1, 4, 1, 1),
        ]
        self.layers = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.layers(image)
