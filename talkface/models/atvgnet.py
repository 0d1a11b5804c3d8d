"""ATVGnet (Chen et al., CVPR 2019, paper 004): AT-net (audio -> landmark PCA motion) and VG-net
(landmarks -> frames) with its regression-based discriminator.

AT-net (sec. 3.1):
    [h_t, c_t] = phi_lmark(LSTM(f_audio(a_t), f_lmark(h_p), c_{t-1}))     (eq. 3)
    p_t = PCAR(h_t) = h_t * omega @ U^T + M                                (eq. 4)
a_t is a 280 ms MFCC window around video frame t; h_p the identity's landmark PCA coefficients.
talkface's landmarks are canonical displacements from the neutral face (Sinha et al. sec.
III-A), so M is the mean displacement and omega the per-component standard deviation (the
"boost" that lets the network work in whitened units).

VG-net (sec. 3.1-3.2, layer sizes from the released code, narrowed for CPU):
    v''_t = f_img(i_p) (+) (f_lmark(p_t) - f_lmark(p_p))                   (eq. 5)
    att_p_t = sigma(f_lmark(p_t) (+) f_lmark(p_p))                         (eq. 6)
    v'_t = CRNN(v''_t) * att_p_t + i'_p * (1 - att_p_t)                    (eq. 7)
    v^_t = alpha_t * m_t + (1 - alpha_t) * i_p                             (eq. 8)
CRNN = bottleneck conv, a convolutional GRU over time, residual blocks and transposed convs.
`base="warp"` feeds and composites the warp renderer's frame instead of the example image i_p
(talkface's identity-keeping hybrid; the paper's variant is `base="identity"`).

Regression discriminator (sec. 3.3, eq. 10-11): per-frame image features with the example
landmarks through an LSTM; D_p regresses each frame's landmarks (p_p + offset), D_s averages the
LSTM outputs over time into one realness logit for the sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from talkface.features.audio import feature_dims
from talkface.models.compositing import check_base_and_regions


@dataclass(frozen=True)
class AudioToLandmarkConfig:
    n_mfcc: int = 12  # MFCC coefficients per feature frame (c1..c12)
    # features.audio.FEATURE_KINDS: "mfcc+phones" adds pocketsphinx's phone per frame, read by
    # a linear layer beside the conv stack (not in the paper)
    features: str = "mfcc"
    phone_dim: int = 64  # that layer's output
    context: int = 28  # feature frames per window (280 ms at 100 Hz)
    n_components: int = 16  # PCA components of the 136-d displacement
    channels: tuple[int, ...] = (8, 16, 32, 32, 64)  # audio encoder conv widths
    audio_dim: int = 256  # f_audio output
    landmark_dim: int = 128  # f_lmark output
    hidden: int = 256  # LSTM width
    layers: int = 2  # LSTM depth
    dropout: float = 0.1

    def __post_init__(self):
        if self.features not in ("mfcc", "mfcc+phones"):
            raise ValueError(f"the AT-net reads MFCCs, not {self.features!r}")
        if len(self.channels) != 5:
            raise ValueError(
                "channels must list 5 conv widths (ATVGnet's audio encoder)"
            )


PRESETS = {
    "atnet-grid": AudioToLandmarkConfig(),
    "atnet-grid-phones": AudioToLandmarkConfig(features="mfcc+phones"),
    "tiny": AudioToLandmarkConfig(
        n_components=4,
        channels=(4, 4, 8, 8, 8),
        audio_dim=8,
        landmark_dim=8,
        hidden=8,
        layers=1,
    ),
}
PRESETS["tiny-phones"] = replace(PRESETS["tiny"], features="mfcc+phones", phone_dim=8)


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class AudioToLandmark(nn.Module):
    """MFCC windows (+ identity PCA) -> canonical landmark displacements, frame by frame."""

    def __init__(self, config: AudioToLandmarkConfig):
        super().__init__()
        self.config = config
        c = config.channels
        # f_audio: ATVGnet's conv stack over the (context x n_mfcc) MFCC image
        self.audio_encoder = nn.Sequential(
            _conv(1, c[0]),
            _conv(c[0], c[1]),
            nn.MaxPool2d(3, stride=(1, 2), padding=1),
            _conv(c[1], c[2]),
            _conv(c[2], c[3]),
            _conv(c[3], c[4]),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        flat = c[4] * ((config.context + 1) // 2) * ((config.n_mfcc + 3) // 4)
        self.audio_fc = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, config.audio_dim), nn.ReLU(inplace=True)
        )
        self.landmark_encoder = nn.Sequential(  # f_lmark
            nn.Linear(config.n_components, config.landmark_dim), nn.ReLU(inplace=True)
        )
        phones = feature_dims(config.features) - config.n_mfcc
        self.phone_encoder = (
            nn.Sequential(
                nn.Flatten(),
                nn.Linear(config.context * phones, config.phone_dim),
                nn.ReLU(inplace=True),
            )
            if phones
            else None
        )
        self.lstm = nn.LSTM(
            config.audio_dim
            + config.landmark_dim
            + (config.phone_dim if phones else 0),
            config.hidden,
            num_layers=config.layers,
            batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.decoder = nn.Linear(config.hidden, config.n_components)  # phi_lmark
        # PCA of the 136-d displacement: basis U (136, K), mean M (136,), boost omega (K,)
        self.register_buffer("pca_basis", torch.eye(136, config.n_components))
        self.register_buffer("pca_mean", torch.zeros(136))
        self.register_buffer("pca_scale", torch.ones(config.n_components))

    def set_pca(
        self, components: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor
    ) -> None:
        """PCA of the displacements: components (K, 136), mean (136,), scale (K,)."""
        self.pca_basis.copy_(components.T)
        self.pca_mean.copy_(mean)
        self.pca_scale.copy_(scale)

    def project(self, displacements: torch.Tensor) -> torch.Tensor:
        """(..., 68, 2) displacements -> (..., K) whitened PCA coefficients."""
        flat = displacements.flatten(-2) - self.pca_mean
        return flat @ self.pca_basis / self.pca_scale

    def reconstruct(self, coefficients: torch.Tensor) -> torch.Tensor:
        """(..., K) whitened coefficients -> (..., 68, 2) displacements (PCAR, eq. 4)."""
        flat = (coefficients * self.pca_scale) @ self.pca_basis.T + self.pca_mean
        return flat.unflatten(-1, (68, 2))

    def forward(
        self,
        mfcc_windows: torch.Tensor,
        identity: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Canonical displacements, frame by frame (eq. 3-4).

        Args:
            mfcc_windows: (B, T, context, feature_dims(features)) normalised MFCC windows
                (then the one-hot phones, for "mfcc+phones"), one per video frame.
            identity: (B, K) whitened PCA coefficients of the identity's neutral shape.
            state: LSTM state carried from a previous chunk (for streaming), or None.
        Returns:
            (B, T, 68, 2) canonical displacements (PCAR of the predicted whitened PCA
            coefficients), and the LSTM state.
        """
        B, T = mfcc_windows.shape[:2]
        n_mfcc = self.config.n_mfcc
        frames = mfcc_windows.reshape(B * T, 1, *mfcc_windows.shape[2:])
        audio = self.audio_encoder(frames[..., :n_mfcc])
        audio = self.audio_fc(audio).reshape(B, T, -1)  # (B, T, audio_dim)
        if self.phone_encoder is not None:
            phones = self.phone_encoder(frames[..., n_mfcc:]).reshape(B, T, -1)
            audio = torch.cat([audio, phones], -1)
        lmark = self.landmark_encoder(identity)[:, None].expand(
            B, T, -1
        )  # (B, T, landmark_dim)
        hidden, state = self.lstm(
            torch.cat([audio, lmark], -1), state
        )  # (B, T, hidden)
        return self.reconstruct(self.decoder(hidden)), state


def identity_input(model: nn.Module, shapes: torch.Tensor) -> torch.Tensor | None:
    """What a speech -> landmark model takes as identity for (B, 68, 2) canonical neutral shapes
    minus the mean face: the AT-net's whitened PCA coefficients (eq. 3); None for the
    person-independent models (Sinha et al.)."""
    return model.project(shapes) if isinstance(model, AudioToLandmark) else None


# -- VG-net ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VGNetConfig:
    size: int = 128  # square aligned crop (px)
    channels: int = 16  # ngf: encoder width at full resolution (the paper's code: 64)
    residual_blocks: int = 2  # after the ConvGRU (the paper's code: 9)
    landmark_features: int = 32  # channels of f_lmark's 8x8 map
    base: str = "warp"  # i_p of eq. 8: "identity" (the paper) or "warp"
    regions: str = "face"  # where eq. 8 may change the base: "face" or "mouth-eyes"

    def __post_init__(self):
        check_base_and_regions(self.base, self.regions)
        if self.size % 16:
            raise ValueError("size must be a multiple of 16 (four stride-2 stages)")


@dataclass(frozen=True)
class RegressionDiscriminatorConfig:
    size: int = 128
    channels: int = 16  # first conv width, doubled by each of the four stride-2 convs
    hidden: int = 128  # LSTM width


VGNET_PRESETS = {
    "vgnet-grid": VGNetConfig(regions="mouth-eyes"),
    "vgnet-paper": VGNetConfig(base="identity"),
    "vgnet-tiny": VGNetConfig(
        size=32,
        channels=4,
        residual_blocks=1,
        landmark_features=4,
        regions="mouth-eyes",
    ),
}
REGRESSION_PRESETS = {
    "regression-grid": RegressionDiscriminatorConfig(),
    "regression-tiny": RegressionDiscriminatorConfig(size=32, channels=4, hidden=8),
}


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 4, 2, 1, bias=False),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
        nn.InstanceNorm2d(cout, affine=True),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ConvGRUCell(nn.Module):
    """A GRU whose gates are 3x3 convolutions (dilation 2, as the released code) over maps."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(channels + hidden, 2 * hidden, 3, padding=2, dilation=2)
        self.candidate = nn.Conv2d(channels + hidden, hidden, 3, padding=2, dilation=2)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        if h is None:
            h = x.new_zeros(x.shape[0], self.hidden, *x.shape[2:])
        reset, update = torch.sigmoid(self.gates(torch.cat([x, h], 1))).chunk(2, 1)
        candidate = torch.tanh(self.candidate(torch.cat([x, reset * h], 1)))
        return (1 - update) * h + update * candidate


class VGNet(nn.Module):
    """Landmark sequence + example image -> frames, attention and motion maps (eq. 5-8)."""

    def __init__(self, config: VGNetConfig):
        super().__init__()
        self.config = config
        c, f = config.channels, config.landmark_features
        grid = config.size // 16  # the 8x8 map of the paper at 128 px
        # f_img: full resolution -> i'_p at 1/4 -> image feature at 1/16
        self.image_stem = nn.Sequential(
            nn.ReflectionPad2d(3),
            nn.Conv2d(3, c, 7, bias=False),
            nn.InstanceNorm2d(c, affine=True),
            nn.ReLU(inplace=True),
            _down(c, 2 * c),
            _down(2 * c, 4 * c),
        )
        self.image_deep = nn.Sequential(_down(4 * c, 8 * c), _down(8 * c, 8 * c))
        # f_lmark: 136 coordinates -> an f x grid x grid map
        self.landmark_encoder = nn.Sequential(
            nn.Linear(136, 256),
            nn.ReLU(inplace=True),
            nn.Linear(256, f * grid * grid),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (f, grid, grid)),
            nn.Conv2d(f, f, 3, padding=1),
        )
        # eq. 6: attention of the landmark difference, up to i'_p's resolution
        self.landmark_attention = nn.Sequential(
            nn.Conv2d(2 * f, f, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(f, f, 4, 2, 1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(f, 1, 4, 2, 1),
            nn.Sigmoid(),
        )
        # CRNN of eq. 7: bottleneck, ConvGRU over time, residual blocks, up to 1/4 resolution
        self.bottleneck = nn.Sequential(
            nn.Conv2d(8 * c + f, 8 * c, 3, padding=1), nn.ReLU(inplace=True)
        )
        self.gru = ConvGRUCell(8 * c, 8 * c)
        self.crnn_out = nn.Sequential(
            *[_Residual(8 * c) for _ in range(config.residual_blocks)],
            _up(8 * c, 4 * c),
            _up(4 * c, 4 * c),
        )
        self.decoder = nn.Sequential(_up(4 * c, 2 * c), _up(2 * c, c))
        self.motion = nn.Conv2d(c, 3, 3, padding=1)  # m_t (tanh)
        self.attention = nn.Conv2d(c, 1, 3, padding=1)  # alpha_t (sigmoid)
        # start near alpha = 0: the base passes through until the motion map earns its place
        nn.init.constant_(self.attention.bias, -2.0)

    def forward(
        self,
        base: torch.Tensor,
        landmarks: torch.Tensor,
        example_landmarks: torch.Tensor,
        state: torch.Tensor | None = None,
        region: torch.Tensor | None = None,
    ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
        """
        Args:
            base: (B, T, 3, S, S) in [-1, 1]: the example image repeated (base="identity") or
                each frame's warp of it (base="warp").
            landmarks: (B, T, 68, 2) frame landmarks and example_landmarks (B, 68, 2), in
                crop units (pixels / S).
            state: the ConvGRU state after the previous chunk (streaming), or None.
            region: (B, T, 1, S, S) in [0, 1], where eq. 8 may change the base (regions
                "mouth-eyes"; everywhere when None).
        Returns:
            (frames (B, T, 3, S, S) in [-1, 1], alpha (B, T, 1, S, S) in [0, 1] (1 = the motion
            map), motion (B, T, 3, S, S) in [-1, 1]), and the ConvGRU state.
        """
        B, T = landmarks.shape[:2]
        flat = base.flatten(0, 1)
        skip = self.image_stem(flat)  # i'_p: (B T, 4c, S/4, S/4)
        image = self.image_deep(skip)  # (B T, 8c, S/16, S/16)
        current = self.landmark_encoder(landmarks.flatten(0, 1).flatten(1))
        example = self.landmark_encoder(example_landmarks.flatten(1))
        example = example.repeat_interleave(T, 0)
        fused = self.bottleneck(torch.cat([image, current - example], 1))  # eq. 5
        attention = self.landmark_attention(torch.cat([current, example], 1))  # eq. 6
        fused = fused.unflatten(0, (B, T))
        hidden = []
        for t in range(T):
            state = self.gru(fused[:, t], state)
            hidden.append(state)
        crnn = self.crnn_out(torch.stack(hidden, 1).flatten(0, 1))
        features = crnn * attention + skip * (1 - attention)  # eq. 7
        decoded = self.decoder(features)
        motion = torch.tanh(self.motion(decoded))
        alpha = torch.sigmoid(self.attention(decoded))
        if region is not None:
            alpha = alpha * region.flatten(0, 1)
        frames = alpha * motion + (1 - alpha) * flat  # eq. 8
        outputs = tuple(x.unflatten(0, (B, T)) for x in (frames, alpha, motion))
        return outputs, state


class RegressionDiscriminator(nn.Module):
    """Frames + example landmarks -> per-frame landmarks (D_p, eq. 10) and one realness logit
    for the sequence (D_s, eq. 11; the sigmoid is left to the loss)."""

    def __init__(self, config: RegressionDiscriminatorConfig):
        super().__init__()
        self.config = config
        c = config.channels
        layers, cin = [], 3
        for cout in (c, 2 * c, 4 * c, 8 * c):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        grid = config.size // 16
        self.image_encoder = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(cin * grid * grid, config.hidden)
        )
        self.landmark_encoder = nn.Sequential(
            nn.Linear(136, config.hidden), nn.LeakyReLU(0.2, inplace=True)
        )
        self.lstm = nn.LSTM(2 * config.hidden, config.hidden, batch_first=True)
        self.regress = nn.Linear(config.hidden, 136)
        self.score = nn.Linear(config.hidden, 1)

    def forward(
        self, frames: torch.Tensor, example_landmarks: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, 3, S, S) frames and (B, 68, 2) example landmarks (crop units) -> (B, T, 68, 2)
        regressed landmarks and (B,) realness logits."""
        B, T = frames.shape[:2]
        image = self.image_encoder(frames.flatten(0, 1)).unflatten(0, (B, T))
        example = self.landmark_encoder(example_landmarks.flatten(1))
        hidden, _ = self.lstm(
            torch.cat([example[:, None].expand(-1, T, -1), image], -1)
        )
        offsets = torch.tanh(self.regress(hidden)).unflatten(-1, (68, 2))
        return example_landmarks[:, None] + offsets, self.score(hidden).mean((1, 2))
