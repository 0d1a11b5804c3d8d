"""Vougioukas et al. temporal GAN (BMVC 2018 paper 003, IJCV 2019 paper 001): a still image and
raw speech -> video, with no landmarks anywhere.

Generator (paper 001 sec. 3.1, layer rules from the released `sda` code, narrowed for CPU):
    z_id, skips = IdentityEncoder(still)                    6 strided convs + BN + ReLU
    z_c[t]      = GRU(AudioEncoder(a_t))                    0.2 s raw-audio window per frame
    z_n[t]      = tanh(GRU(n_t)), n_t ~ N(0, 0.6 I_10)     spontaneous expressions (blinks)
    x[t]        = FrameDecoder([z_c[t] | z_n[t] | z_id], skips)   U-Net transposed convs, tanh
Not in the paper (config flags): the decoder's output as a colour map mixed with the still by
an attention map (`attention`), and the still moved by a dense flow before the mix (`flow`).
Both GRUs carry their state, so the generator streams frame by frame.

Discriminators (sec. 3.2):
    FrameDiscriminator     6-layer CNN on a frame with the still stacked as a condition
    SequenceDiscriminator  spatio-temporal CNN + audio encoding -> GRU -> one logit at the end
    SyncDiscriminator      lower-face 5-frame snippet and its 0.2 s of audio -> two encoders ->
                           Euclidean distance -> a one-weight logistic classifier
Not in the paper (off unless trained with an eye weight):
    EyeMotionDiscriminator the eye band's frame-to-frame change -> spatio-temporal CNN -> one
                           logit from the strongest and the mean moment of motion
Not in the paper, used in training only (off unless trained with an encoder weight):
    NoiseEncoder           a real video's upper half -> the noise input that reproduces it
                           (BicycleGAN's cVAE path): what the noise must draw, lids and brows
Not in the paper (off unless `prior_hidden`): the generator's noise n_t drawn from
    NoisePrior             GRU over n_<t -> a Gaussian mixture for n_t, fitted to the noise
                           encoder's codes of real video (a learned prior, as SVG-LP's)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.nn import functional as F

from talkface.features.align import SAMPLE_RATE

AUDIO_WINDOW = SAMPLE_RATE // 5  # 0.2 s of 16 kHz audio per video frame (3200 samples)
SNIPPET_FRAMES = 5  # the sync discriminator's 0.2 s at 25 fps
ATTENTION_BIAS = (
    2.0  # the attention map's initial logit: sigmoid(2) = 0.88 of the still
)
# the flow head's output unit in grid units (2 = the crop's width): Adam moves every weight
# by about the learning rate a step, and a flow in grid units straight from a 3x3 conv would
# jump pixels a step
FLOW_SCALE = 0.1


def _prime_factors(n: int) -> list[int]:
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


def _check_square_size(size: int) -> None:
    if size < 32 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 32, got {size}")


@dataclass(frozen=True)
class TemporalGANConfig:
    size: int = 128  # square aligned face crop
    channels: int = (
        16  # first identity-encoder width, doubling per layer up to 8x (paper 64)
    )
    identity_dim: int = 128  # z_id
    audio_channels: int = 16  # first audio-encoder width, doubling per layer
    audio_dim: int = 256  # audio frame encoding, input of the content GRU
    content_dim: int = 256  # z_c
    noise_dim: int = 10  # z_n
    noise_std: float = 0.6**0.5  # variance 0.6 (paper 001 sec. 3.1.4)
    # False: the decoder draws each frame (the paper). True: it draws a colour map and an
    # attention map that keeps the still's pixels, x = a * still + (1 - a) * colour (ATVGnet's
    # and Sinha et al.'s output): the decoder's coarsest skip is at half size, so drawing whole
    # frames takes long training to look like the person; this starts from the still.
    attention: bool = False
    # True (with attention): the decoder also draws a dense flow that moves the still's pixels
    # before the mix, x = a * warp(still, flow) + (1 - a) * colour (first-order-model's dense
    # motion): lids and lips moved rather than painted, which does not depend on the one face
    # trained on. Its head starts at zero (no motion), so it can be added to trained weights.
    flow: bool = False
    # > 0: the noise is drawn from a learned prior (NoisePrior, this many hidden units) fitted
    # to the noise encoder's codes of real video, not from N(0, noise_std^2) (the paper): the
    # codes of blinks lie where independent Gaussian draws seldom go
    prior_hidden: int = 0
    prior_components: int = 5  # of the prior's Gaussian mixture per frame

    features = "raw"  # pipelines feed 0.2 s waveform windows, one per video frame

    def __post_init__(self):
        _check_square_size(self.size)
        if self.flow and not self.attention:
            raise ValueError(
                "flow moves the still an attention decoder keeps: set attention"
            )


@dataclass(frozen=True)
class FrameDiscriminatorConfig:
    size: int = 128
    channels: int = 32

    def __post_init__(self):
        _check_square_size(self.size)


@dataclass(frozen=True)
class SequenceDiscriminatorConfig:
    size: int = 128
    channels: int = 16
    audio_channels: int = 8
    audio_dim: int = 64
    hidden: int = 128

    def __post_init__(self):
        _check_square_size(self.size)


@dataclass(frozen=True)
class SyncDiscriminatorConfig:
    size: int = 128  # of the full crop; the discriminator sees its lower half
    channels: int = 32
    audio_channels: int = 16
    embedding: int = 128

    def __post_init__(self):
        _check_square_size(self.size)


@dataclass(frozen=True)
class EyeMotionDiscriminatorConfig:
    size: int = 128  # of the full crop
    channels: int = 16
    # the band of the aligned crop that holds brows and eyes (GRID s1 at 128 px: brows from
    # row 32, eyes on rows 45-52, eye corners at columns 41-86)
    rows: tuple[float, float] = (0.25, 0.5)
    columns: tuple[float, float] = (0.25, 0.75)

    def __post_init__(self):
        _check_square_size(self.size)


@dataclass(frozen=True)
class NoiseEncoderConfig:
    size: int = 128  # of the full crop; the encoder sees its upper half
    channels: int = 16
    hidden: int = 64
    noise_dim: int = 10  # the generator's

    def __post_init__(self):
        _check_square_size(self.size)


PRESETS = {
    "temporal-gan-grid": TemporalGANConfig(attention=True),
    "temporal-gan-grid-flow": TemporalGANConfig(attention=True, flow=True),
    "temporal-gan-tiny": TemporalGANConfig(
        attention=True,
        size=32,
        channels=4,
        identity_dim=8,
        audio_channels=4,
        audio_dim=8,
        content_dim=8,
        noise_dim=3,
    ),
}
PRESETS["temporal-gan-tiny-flow"] = replace(PRESETS["temporal-gan-tiny"], flow=True)
FRAME_PRESETS = {
    "frame-grid": FrameDiscriminatorConfig(),
    "frame-tiny": FrameDiscriminatorConfig(size=32, channels=4),
}
SEQUENCE_PRESETS = {
    "sequence-grid": SequenceDiscriminatorConfig(),
    "sequence-tiny": SequenceDiscriminatorConfig(
        size=32, channels=4, audio_channels=4, audio_dim=4, hidden=8
    ),
}
EYE_PRESETS = {
    "eye-grid": EyeMotionDiscriminatorConfig(),
    "eye-tiny": EyeMotionDiscriminatorConfig(size=32, channels=4),
}
NOISE_ENCODER_PRESETS = {
    "noise-encoder-grid": NoiseEncoderConfig(),
    "noise-encoder-tiny": NoiseEncoderConfig(
        size=32, channels=4, hidden=8, noise_dim=3
    ),
}
SYNC_PRESETS = {
    "sync-grid": SyncDiscriminatorConfig(),
    "sync-tiny": SyncDiscriminatorConfig(
        size=32, channels=4, audio_channels=4, embedding=8
    ),
}


class AudioEncoder(nn.Module):
    """(N, AUDIO_WINDOW) raw waveform windows -> (N, dim) in [-1, 1].

    First a large kernel (5 ms, stride 1 ms), then one layer per prime factor of the remaining
    length, each with kernel 2 * stride - 1, widths doubling from `channels` (capped at 16x);
    a last 1x1 conv to `dim` with tanh (sda's encoder_audio)."""

    def __init__(self, channels: int, dim: int):
        super().__init__()
        kernel, stride = SAMPLE_RATE // 200, SAMPLE_RATE // 1000  # 80, 16
        pad = (kernel - stride) // 2
        length = (AUDIO_WINDOW + 2 * pad - kernel) // stride + 1  # 200
        layers: list[nn.Module] = [
            nn.Conv1d(1, channels, kernel, stride, pad, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
        ]
        width = channels
        for s in _prime_factors(length):
            out = min(2 * width, 16 * channels)
            layers += [
                nn.Conv1d(width, out, 2 * s - 1, s, s - 1, bias=False),
                nn.BatchNorm1d(out),
                nn.ReLU(inplace=True),
            ]
            width = out
        layers += [nn.Conv1d(width, dim, 1), nn.Tanh(), nn.Flatten()]
        self.net = nn.Sequential(*layers)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.net(audio[:, None])


def _widths(channels: int, n: int) -> list[int]:
    return [channels * min(2**i, 8) for i in range(n)]


class IdentityEncoder(nn.Module):
    """(B, 3, S, S) still -> z_id (B, identity_dim) and the U-Net skips, finest first."""

    def __init__(self, config: TemporalGANConfig):
        super().__init__()
        n = config.size.bit_length() - 3  # strided layers down to 4 x 4 (5 at 128 px)
        widths = _widths(config.channels, n)
        self.blocks = nn.ModuleList()
        cin = 3
        for w in widths:
            self.blocks.append(
                nn.Sequential(
                    nn.Conv2d(cin, w, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(w),
                    nn.ReLU(inplace=True),
                )
            )
            cin = w
        # the last of the paper's six layers: 4 x 4 -> 1 x 1
        self.code = nn.Sequential(nn.Conv2d(cin, config.identity_dim, 4), nn.Tanh())

    def forward(self, still: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = []
        x = still
        for block in self.blocks:
            x = block(x)
            skips.append(x)
        return self.code(x).flatten(1), skips


class FrameDecoder(nn.Module):
    """(N, latent) + identity skips (+ the still) -> (N, 3, S, S) frames in [-1, 1].

    latent -> 4 x 4 map; then per skip (coarsest first): concatenate it, a 3x3 transposed conv
    keeps the size, a 4x4 stride-2 transposed conv doubles it; a last 3x3 conv + tanh, or with
    `attention` a colour map (tanh) and an attention map (sigmoid) mixed with the still (with
    `flow`, the still moved by a dense flow of another 3x3 conv, in FLOW_SCALE grid units)."""

    def __init__(self, config: TemporalGANConfig, latent: int):
        super().__init__()
        n = config.size.bit_length() - 3
        widths = _widths(config.channels, n)[::-1]  # coarsest first
        self.stem = nn.Sequential(
            nn.ConvTranspose2d(latent, widths[0], 4, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.blocks = nn.ModuleList()
        cin = widths[0]
        for skip, out in zip(widths, [*widths[1:], config.channels]):
            self.blocks.append(
                nn.Sequential(
                    nn.ConvTranspose2d(cin + skip, cin, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(cin),
                    nn.ReLU(inplace=True),
                    nn.ConvTranspose2d(cin, out, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(out),
                    nn.ReLU(inplace=True),
                )
            )
            cin = out
        self.attention = config.attention
        if self.attention:
            self.out = nn.Sequential(nn.Conv2d(cin, 4, 3, 1, 1))
            with (
                torch.no_grad()
            ):  # start by showing the still (attention ~0.88 everywhere)
                self.out[0].bias[3] = ATTENTION_BIAS
        else:
            self.out = nn.Sequential(nn.Conv2d(cin, 3, 3, 1, 1), nn.Tanh())
        if config.flow:
            self.flow = nn.Conv2d(cin, 2, 3, 1, 1)
            nn.init.zeros_(self.flow.weight)  # no motion until trained
            nn.init.zeros_(self.flow.bias)
        else:
            self.flow = None

    def forward(
        self,
        latent: torch.Tensor,
        skips: list[torch.Tensor],
        still: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Frames and the maps they were mixed from: an attention decoder's "attention"
        (N, 1, S, S) and a flow decoder's "flow" (N, 2, S, S, grid units: 2 = the width)."""
        x = self.stem(latent[:, :, None, None])
        for block, skip in zip(self.blocks, reversed(skips)):
            x = block(torch.cat([x, skip], 1))
        if not self.attention:
            return self.out(x), {}
        colour, attention = self.maps(x)
        maps = {"attention": attention}
        if self.flow is not None:
            maps["flow"] = FLOW_SCALE * self.flow(x)
            still = warp(still, maps["flow"])
        return attention * still + (1 - attention) * colour, maps

    def maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The last features -> (N, 3, S, S) colour map and (N, 1, S, S) attention map."""
        out = self.out(x)
        return torch.tanh(out[:, :3]), torch.sigmoid(out[:, 3:])


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """(N, C, S, S) image sampled at each pixel's position + (N, 2, S, S) flow (x, y in grid
    units: 2 = the image's width), bilinear, edges repeated."""
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, h, device=image.device),
        torch.linspace(-1, 1, w, device=image.device),
        indexing="ij",
    )
    grid = torch.stack([xs, ys], -1) + flow.permute(0, 2, 3, 1)
    return F.grid_sample(
        image, grid, mode="bilinear", padding_mode="border", align_corners=True
    )


class NoisePrior(nn.Module):
    """An autoregressive prior over noise sequences: GRU over the previous frames' noise ->
    mixture weights, means and log standard deviations of a diagonal Gaussian mixture for the
    next frame's (the first frame's from a zero input). Fitted by maximum likelihood to the
    noise encoder's codes of real video, so drawn noise carries blinks as often and as deep as
    the codes of real blinks do."""

    def __init__(self, noise_dim: int, hidden: int, components: int):
        super().__init__()
        self.noise_dim, self.components = noise_dim, components
        self.rnn = nn.GRU(noise_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, components * (1 + 2 * noise_dim))

    def forward(
        self, previous: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, D) each frame's previous noise -> mixture logits (B, T, K), means and log
        standard deviations (B, T, K, D) of each frame's noise, and the GRU state."""
        hidden, state = self.rnn(previous, state)
        k, d = self.components, self.noise_dim
        logits, means, log_std = self.head(hidden).split([k, k * d, k * d], -1)
        shape = (*hidden.shape[:2], k, d)
        return logits, means.view(shape), log_std.view(shape).clamp(-7, 3), state

    @torch.no_grad()
    def sample(
        self,
        batch: int,
        frames: int,
        generator: torch.Generator | None = None,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """(B, T, D) noise drawn frame by frame, continuing `state` (the last noise and the GRU
        state a previous call returned; None = a sequence's start), and the state after it.
        Random numbers are drawn on the CPU from `generator` whatever the device."""
        device = self.head.weight.device
        uniform = torch.rand(batch, frames, 1, generator=generator).to(device)
        gaussian = torch.randn(batch, frames, self.noise_dim, generator=generator).to(
            device
        )
        last, hidden = state or (
            torch.zeros(batch, 1, self.noise_dim, device=device),
            None,
        )
        drawn = []
        for t in range(frames):
            logits, means, log_std, hidden = self(last, hidden)
            # the component by inverse CDF of one uniform draw (no device-bound generator)
            cdf = logits[:, 0].softmax(-1).cumsum(-1)
            pick = (
                (cdf < uniform[:, t])
                .sum(-1, keepdim=True)
                .clamp(max=self.components - 1)
            )
            index = pick[:, :, None].expand(-1, 1, self.noise_dim)
            mean = means[:, 0].gather(1, index)[:, 0]
            std = log_std[:, 0].gather(1, index)[:, 0].exp()
            last = (mean + std * gaussian[:, t])[:, None]
            drawn.append(last)
        noise = torch.cat(drawn, 1) if drawn else torch.zeros(batch, 0, self.noise_dim)
        return noise.to(device), (last, hidden)


@dataclass
class GeneratorState:
    """What the generator carries from one frame to the next: both GRUs' hidden states."""

    content: torch.Tensor | None = None  # (1, B, content_dim)
    noise: torch.Tensor | None = None  # (1, B, noise_dim)
    # the last frames' decoder maps (attention, flow: (B, T, C, S, S)), not carried
    maps: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class Identity:
    """The still image's encoding, computed once per video."""

    code: torch.Tensor  # (B, identity_dim)
    skips: list[torch.Tensor]
    still: torch.Tensor  # (B, 3, S, S), what an attention decoder keeps


class TemporalGenerator(nn.Module):
    """Still image + raw audio windows (+ Gaussian noise) -> frames (paper 001 fig. 3)."""

    # config flags whose modules start "off" (the output stays as it was), with their
    # parameters' prefix: weights trained without one load into a model with it (--init)
    ADDED_MODULES = {"flow": "decoder.flow."}
    # modules fitted once the GAN is trained, with their config fields (the first turns them
    # on): a run started from weights that hold one trains without it, then fits it again
    FITTED_AFTER = {"noise_prior.": ("prior_hidden", "prior_components")}

    def __init__(self, config: TemporalGANConfig):
        super().__init__()
        self.config = config
        self.identity_encoder = IdentityEncoder(config)
        self.audio_encoder = AudioEncoder(config.audio_channels, config.audio_dim)
        self.content_rnn = nn.GRU(
            config.audio_dim, config.content_dim, batch_first=True
        )
        self.noise_rnn = nn.GRU(config.noise_dim, config.noise_dim, batch_first=True)
        self.noise_prior = (
            NoisePrior(config.noise_dim, config.prior_hidden, config.prior_components)
            if config.prior_hidden
            else None
        )
        latent = config.content_dim + config.noise_dim + config.identity_dim
        self.decoder = FrameDecoder(config, latent)

    def encode_identity(self, still: torch.Tensor) -> Identity:
        """(B, 3, S, S) still in [-1, 1] -> its code and skips."""
        return Identity(*self.identity_encoder(still), still)

    def sample_noise(
        self, batch: int, frames: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """(B, T, noise_dim) the noise generator's input for whole sequences."""
        return self.draw_noise(batch, frames, generator)[0]

    def draw_noise(
        self,
        batch: int,
        frames: int,
        generator: torch.Generator | None = None,
        state=None,
    ) -> tuple[torch.Tensor, object]:
        """(B, T, noise_dim) noise continuing `state` (None = a sequence's start), and the
        state to continue from: N(0, noise_std^2) per frame (the paper, no state) or a draw
        from the learned prior."""
        if self.noise_prior is not None:
            return self.noise_prior.sample(batch, frames, generator, state)
        n = torch.randn(batch, frames, self.config.noise_dim, generator=generator)
        return (n * self.config.noise_std).to(self.device), None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def decode(
        self,
        identity: Identity,
        audio: torch.Tensor,
        noise: torch.Tensor,
        state: GeneratorState | None = None,
    ) -> tuple[torch.Tensor, GeneratorState]:
        """(B, T, AUDIO_WINDOW) audio windows + (B, T, noise_dim) noise -> (B, T, 3, S, S)
        frames and the state after the last frame (pass it back in to continue)."""
        state = state or GeneratorState()
        b, t = audio.shape[:2]
        encoded = self.audio_encoder(audio.flatten(0, 1)).unflatten(0, (b, t))
        content, content_state = self.content_rnn(encoded, state.content)
        spontaneous, noise_state = self.noise_rnn(noise, state.noise)
        latent = torch.cat(
            [
                content,
                torch.tanh(spontaneous),
                identity.code[:, None].expand(b, t, -1),
            ],
            -1,
        )
        skips = [s.repeat_interleave(t, 0) for s in identity.skips]
        still = identity.still.repeat_interleave(t, 0)
        frames, maps = self.decoder(latent.flatten(0, 1), skips, still)
        maps = {name: m.unflatten(0, (b, t)) for name, m in maps.items()}
        return frames.unflatten(0, (b, t)), GeneratorState(
            content_state, noise_state, maps
        )

    def forward(
        self,
        still: torch.Tensor,
        audio: torch.Tensor,
        noise: torch.Tensor,
        maps: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(B, 3, S, S) still, (B, T, AUDIO_WINDOW) audio, (B, T, noise_dim) -> (B, T, 3, S, S)
        frames (and with `maps`, the decoder's (B, T, C, S, S) maps by name)."""
        frames, state = self.decode(self.encode_identity(still), audio, noise)
        return (frames, state.maps) if maps else frames


def _leaky_down(cin: int, cout: int, norm: bool, conv=nn.Conv2d, **kw) -> nn.Sequential:
    layers = [conv(cin, cout, bias=not norm, **kw)]
    if norm:
        layers.append(
            nn.BatchNorm2d(cout) if conv is nn.Conv2d else nn.BatchNorm3d(cout)
        )
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _spatiotemporal_down(widths: list[int]) -> tuple[nn.Sequential, int]:
    """3 x 4 x 4 convolutions over (B, 3, T, H, W) video, halving space and keeping every
    frame, one layer per width; and the channels out."""
    layers, cin = [], 3
    for i, w in enumerate(widths):
        layers.append(
            _leaky_down(
                cin,
                w,
                norm=i > 0,
                conv=nn.Conv3d,
                kernel_size=(3, 4, 4),
                stride=(1, 2, 2),
                padding=(1, 1, 1),
            )
        )
        cin = w
    return nn.Sequential(*layers), cin


class FrameDiscriminator(nn.Module):
    """(B, 3, S, S) frame + (B, 3, S, S) still -> (B,) realness logits (sec. 3.2.1)."""

    def __init__(self, config: FrameDiscriminatorConfig):
        super().__init__()
        self.config = config
        widths = _widths(config.channels, config.size.bit_length() - 3)
        layers, cin = [], 6
        for i, w in enumerate(widths):
            layers.append(
                _leaky_down(cin, w, norm=i > 0, kernel_size=4, stride=2, padding=1)
            )
            cin = w
        self.net = nn.Sequential(*layers, nn.Conv2d(cin, 1, 4), nn.Flatten(0))

    def forward(self, frame: torch.Tensor, still: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([frame, still], 1))


class SequenceDiscriminator(nn.Module):
    """(B, T, 3, S, S) video + (B, T, AUDIO_WINDOW) audio -> (B,) logits (sec. 3.2.2).

    Spatio-temporal convolutions (3 x 4 x 4, stride 1 x 2 x 2) keep one feature map per frame;
    each frame's pooled features and audio encoding go through a GRU, and a linear layer
    judges the state after the last frame."""

    def __init__(self, config: SequenceDiscriminatorConfig):
        super().__init__()
        self.config = config
        widths = _widths(config.channels, config.size.bit_length() - 3)
        self.video, cin = _spatiotemporal_down(widths)
        self.audio = AudioEncoder(config.audio_channels, config.audio_dim)
        self.rnn = nn.GRU(cin + config.audio_dim, config.hidden, batch_first=True)
        self.classify = nn.Linear(config.hidden, 1)

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        b, t = video.shape[:2]
        maps = self.video(video.transpose(1, 2))  # (B, C, T, s, s)
        features = maps.mean((3, 4)).transpose(1, 2)  # (B, T, C)
        sound = self.audio(audio.flatten(0, 1)).unflatten(0, (b, t))
        _, last = self.rnn(torch.cat([features, sound], -1))
        return self.classify(last[0]).squeeze(1)


class SyncDiscriminator(nn.Module):
    """Lower-face snippets (B, 5, 3, S/2, S) + their 0.2 s of audio (B, AUDIO_WINDOW) -> (B,)
    in-sync logits: a * ||e_video - e_audio|| + b (sec. 3.2.3, fig. 5)."""

    def __init__(self, config: SyncDiscriminatorConfig):
        super().__init__()
        self.config = config
        # video: the 5 frames stacked as channels, halved down to a 4 x 8 map
        widths = _widths(config.channels, (config.size // 2).bit_length() - 3)
        layers, cin = [], 3 * SNIPPET_FRAMES
        for i, w in enumerate(widths):
            layers.append(
                _leaky_down(cin, w, norm=i > 0, kernel_size=4, stride=2, padding=1)
            )
            cin = w
        self.video = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(cin * 4 * 8, config.embedding), nn.Tanh()
        )
        self.audio = AudioEncoder(config.audio_channels, config.embedding)
        self.classify = nn.Linear(1, 1)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        return self.video(video.flatten(1, 2))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        return self.audio(audio)

    @staticmethod
    def embedding_distance(v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return (v - a).pow(2).sum(-1).add(1e-8).sqrt()

    def distance(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """(B,) Euclidean distance between the snippet's video and audio embeddings."""
        return self.embedding_distance(self.embed_video(video), self.embed_audio(audio))

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return self.classify(self.distance(video, audio)[:, None]).squeeze(1)


def crop_band(
    frames: torch.Tensor, rows: tuple[float, float], columns: tuple[float, float]
) -> torch.Tensor:
    """(..., S, S) square crops -> the band between `rows` and `columns` (fractions of S)."""
    s = frames.shape[-1]
    (r0, r1), (c0, c1) = ([round(f * s) for f in band] for band in (rows, columns))
    return frames[..., r0:r1, c0:c1]


class EyeMotionDiscriminator(nn.Module):
    """(B, T, 3, S, S) video -> (B,) logits judging only how the eye band changes over time.

    Not in the paper: at our scale the sequence discriminator never asks for blinks (it rates
    every generated sequence far below real ones for other reasons). This one sees the band
    of brows and eyes as frame-to-frame differences, so the generated eyes' texture and colour
    cancel and what is left to judge is motion; pooling each moment's features over the
    sequence by max and mean lets a single blink anywhere in it count."""

    def __init__(self, config: EyeMotionDiscriminatorConfig):
        super().__init__()
        self.config = config
        self.motion, cin = _spatiotemporal_down(_widths(config.channels, 3))
        self.classify = nn.Linear(2 * cin, 1)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        eyes = crop_band(video, self.config.rows, self.config.columns)
        change = (eyes[:, 1:] - eyes[:, :-1]).transpose(1, 2)  # (B, 3, T - 1, h, w)
        moments = self.motion(change).mean((3, 4))  # (B, C, T - 1)
        pooled = torch.cat([moments.amax(2), moments.mean(2)], 1)
        return self.classify(pooled).squeeze(1)


class NoiseEncoder(nn.Module):
    """(B, T, 3, S, S) real video -> mean and log-variance (B, T, noise_dim) of the generator's
    noise input that reproduces its upper half.

    Not in the paper, and not part of the generator: in training, frames decoded from the
    encoded noise must match the real video (BicycleGAN's cVAE-GAN path, Zhu et al. 2017),
    which shows the noise generator what its noise is for, the lids and brows of real video,
    while a KL term keeps the codes like the N(0, 0.6) noise drawn at inference. Strided
    convolutions per frame, then a bidirectional GRU: a code may say when a blink starts."""

    def __init__(self, config: NoiseEncoderConfig):
        super().__init__()
        self.config = config
        widths = _widths(config.channels, 4)
        layers, cin = [], 3
        for w in widths:
            layers.append(
                _leaky_down(cin, w, norm=False, kernel_size=4, stride=2, padding=1)
            )
            cin = w
        self.frames = nn.Sequential(*layers)
        self.rnn = nn.GRU(cin, config.hidden, batch_first=True, bidirectional=True)
        self.posterior = nn.Linear(2 * config.hidden, 2 * config.noise_dim)

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, t = video.shape[:2]
        upper = video[..., : video.shape[-2] // 2, :].flatten(0, 1)
        features = self.frames(upper).mean((2, 3)).unflatten(0, (b, t))
        mean, log_var = self.posterior(self.rnn(features)[0]).chunk(2, -1)
        return mean, log_var
