"""ATVGnet AT-net (Chen et al., CVPR 2019, paper 004 sec. 3.1): audio -> landmark PCA motion.

    [h_t, c_t] = phi_lmark(LSTM(f_audio(a_t), f_lmark(h_p), c_{t-1}))     (eq. 3)
    p_t = PCAR(h_t) = h_t * omega @ U^T + M                                (eq. 4)

a_t is a 280 ms MFCC window around video frame t; h_p the identity's landmark PCA coefficients.
talkface's landmarks are canonical displacements from the neutral face (Sinha et al. sec.
III-A), so M is the mean displacement and omega the per-component standard deviation (the
"boost" that lets the network work in whitened units).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class AudioToLandmarkConfig:
    n_mfcc: int = 12  # MFCC coefficients per feature frame (c1..c12)
    context: int = 28  # feature frames per window (280 ms at 100 Hz)
    n_components: int = 16  # PCA components of the 136-d displacement
    channels: tuple[int, ...] = (8, 16, 32, 32, 64)  # audio encoder conv widths
    audio_dim: int = 256  # f_audio output
    landmark_dim: int = 128  # f_lmark output
    hidden: int = 256  # LSTM width
    layers: int = 2  # LSTM depth
    dropout: float = 0.1
    bidirectional: bool = (
        False  # the whole utterance at once (offline; no streaming state)
    )

    features = "mfcc"  # what pipelines compute for this model

    def __post_init__(self):
        if len(self.channels) != 5:
            raise ValueError(
                "channels must list 5 conv widths (ATVGnet's audio encoder)"
            )


PRESETS = {
    "atnet-grid": AudioToLandmarkConfig(),
    "atnet-bi": AudioToLandmarkConfig(bidirectional=True),
    "atnet-wide": AudioToLandmarkConfig(context=48),
    "tiny": AudioToLandmarkConfig(
        n_components=4,
        channels=(4, 4, 8, 8, 8),
        audio_dim=8,
        landmark_dim=8,
        hidden=8,
        layers=1,
    ),
}


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
        self.lstm = nn.LSTM(
            config.audio_dim + config.landmark_dim,
            config.hidden,
            num_layers=config.layers,
            batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
            bidirectional=config.bidirectional,
        )
        directions = 2 if config.bidirectional else 1
        self.decoder = nn.Linear(
            directions * config.hidden, config.n_components
        )  # phi_lmark
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
            mfcc_windows: (B, T, context, n_mfcc) normalised MFCC windows, one per video frame.
            identity: (B, K) whitened PCA coefficients of the identity's neutral shape.
            state: LSTM state carried from a previous chunk (for streaming), or None.
        Returns:
            (B, T, 68, 2) canonical displacements (PCAR of the predicted whitened PCA
            coefficients), and the LSTM state.
        """
        B, T = mfcc_windows.shape[:2]
        audio = self.audio_encoder(
            mfcc_windows.reshape(B * T, 1, *mfcc_windows.shape[2:])
        )
        audio = self.audio_fc(audio).reshape(B, T, -1)  # (B, T, audio_dim)
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
