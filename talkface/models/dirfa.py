"""DIRFA mapping network (Wu et al., paper 002 sec. 3.2): an autoregressive transformer from
speech to discretised facial animation, with a temporally-biased causal mask.

Animation per frame (motion.params): the landmark PCA coefficients (mouth, jaw and brows),
eyelid closure and head pose (yaw, pitch, roll, tx, ty); the paper's 17 OpenFace action units
cannot be extracted here, so landmark PCA takes their place. Each of the P parameters is cut
into D uniform bins between its training range (eq. 2); the network predicts, per frame and
parameter, a distribution over the D bins given the speech around the frame and the previous
tau frames' animation (eq. 3), trained with cross-entropy (eq. 5) and sampled top-k.

Temporally-biased mask: causal attention limited to the last tau frames, with a penalty on each
attention logit that grows linearly with the distance to the current frame (ALiBi slopes, one
per head, Press et al. 2021, the paper's [35]).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from talkface.features.audio import feature_dims
from talkface.models.speech import strided_length, window_summary


@dataclass(frozen=True)
class DIRFAConfig:
    # features.audio.FEATURE_KINDS: "log_mel+phones" adds pocketsphinx's phone per frame
    features: str = "log_mel"
    context: int = 28  # feature frames of speech per video frame (280 ms, centred)
    # models.speech.window_summary; checkpoints saved before the field existed averaged
    audio_summary: str = "mean"
    n_coefficients: int = 12  # landmark PCA coefficients in the animation vector
    bins: int = 128  # D: uniform intervals per parameter (ablated in docs/results.md)
    width: int = 192  # transformer width
    heads: int = 4
    layers: int = 4
    tau: int = 50  # frames of animation history each frame attends to (the paper's tau)
    dropout: float = 0.1

    @property
    def n_params(self) -> int:
        return self.n_coefficients + 1 + 5  # + eyelid closure + head pose


PRESETS = {
    "dirfa-grid": DIRFAConfig(audio_summary="flatten"),
    "dirfa-grid-mean": DIRFAConfig(),  # before 2026-12-04: the window averaged
    "dirfa-grid-phones": DIRFAConfig(
        audio_summary="flatten", features="log_mel+phones"
    ),
    "dirfa-tiny": DIRFAConfig(
        context=8,
        n_coefficients=2,
        bins=8,
        width=16,
        heads=2,
        layers=1,
        tau=4,
        audio_summary="flatten",
    ),
}


def temporal_bias(length: int, heads: int, tau: int) -> torch.Tensor:
    """(heads, length, length) additive attention mask: -inf above the diagonal and beyond
    tau frames back, else -slope_h * distance (linearly decreasing weight for older frames)."""
    i = torch.arange(length)
    distance = (i[:, None] - i[None, :]).float()  # query - key
    slopes = torch.tensor([2 ** (-8 * (h + 1) / heads) for h in range(heads)])
    bias = -slopes[:, None, None] * distance
    allowed = (distance >= 0) & (distance <= tau)
    return bias.masked_fill(~allowed, float("-inf"))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(C, dim=-1)
        q, k, v = (
            t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v)
        )
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # eq. 1
        x = x + self.dropout(self.proj(attended.transpose(1, 2).reshape(B, T, C)))
        return x + self.dropout(self.mlp(self.norm2(x)))


class DIRFA(nn.Module):
    def __init__(self, config: DIRFAConfig):
        super().__init__()
        self.config = config
        c = config
        summary = window_summary(c.audio_summary, c.width, strided_length(c.context, 2))
        self.audio_encoder = nn.Sequential(  # conv over time, mel bands as channels
            nn.Conv1d(feature_dims(c.features), c.width, 3, stride=2, padding=1),
            nn.GELU(),
            nn.Conv1d(c.width, c.width, 3, stride=2, padding=1),
            nn.GELU(),
            *summary,
        )
        self.previous = nn.Linear(c.n_params, c.width)  # the last frame's animation
        self.blocks = nn.ModuleList(
            Block(c.width, c.heads, c.dropout) for _ in range(c.layers)
        )
        self.norm = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, c.n_params * c.bins)
        # uniform bins between each parameter's training range (set by the recipe)
        self.register_buffer("low", -torch.ones(c.n_params))
        self.register_buffer("high", torch.ones(c.n_params))
        self.apply(init_weights)

    def set_range(self, low: torch.Tensor, high: torch.Tensor) -> None:
        self.low.copy_(low)
        self.high.copy_(high)

    def quantise(self, values: torch.Tensor) -> torch.Tensor:
        """(..., P) continuous animation -> (..., P) bin indices (the nearest centroid, eq. 2)."""
        unit = (values - self.low) / (self.high - self.low)
        return (unit * self.config.bins).floor().clamp(0, self.config.bins - 1).long()

    def dequantise(self, indices: torch.Tensor) -> torch.Tensor:
        """(..., P) bin indices -> (..., P) centroid values (eq. 4)."""
        return self.low + (indices.float() + 0.5) / self.config.bins * (
            self.high - self.low
        )

    def expected(self, logits: torch.Tensor) -> torch.Tensor:
        """(..., P, D) logits -> (..., P) each parameter's expected value over its bins: the
        centroids weighted by their probabilities (no quantisation step, no sampling)."""
        bins = torch.arange(self.config.bins, device=logits.device)
        centroids = self.dequantise(bins[:, None]).T  # (P, D)
        return (F.softmax(logits, dim=-1) * centroids).sum(-1)

    def normalise(self, values: torch.Tensor) -> torch.Tensor:
        """Continuous animation scaled to about [-1, 1] per parameter (the network's input)."""
        return 2 * (values - self.low) / (self.high - self.low) - 1

    def forward(self, windows: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """
        Args:
            windows: (B, T, context, feature_dims(features)) speech windows, one per video frame.
            previous: (B, T, P) the animation of the frame before each frame (continuous
                values; zeros = the neutral pose for the first frame).
        Returns:
            (B, T, P, D) logits of each parameter's bin.
        """
        B, T = windows.shape[:2]
        audio = self.audio_encoder(windows.flatten(0, 1).transpose(1, 2)).view(B, T, -1)
        x = audio + self.previous(self.normalise(previous))
        mask = temporal_bias(T, self.config.heads, self.config.tau).to(x.device)
        for block in self.blocks:
            x = block(x, mask)
        logits = self.head(self.norm(x))
        return logits.view(B, T, self.config.n_params, self.config.bins)


def top_k_sample(
    logits: torch.Tensor,
    k: torch.Tensor,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(P, D) logits -> (P,) bin indices, each drawn from its k[p] most likely bins (1 = the
    most likely: deterministic)."""
    if temperature <= 0:
        return logits.argmax(-1)
    ranks = logits.argsort(-1, descending=True).argsort(-1)
    masked = logits.masked_fill(ranks >= k[:, None], float("-inf"))
    probs = F.softmax(masked / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


# the pipeline's sampling: lips, jaw and brows nearly greedy, blinks from the whole
# distribution, head pose from its 8 likeliest bins
DEFAULT_TOP_K = {"speech": 1, "blink": 1000, "pose": 8}


def top_k_per_parameter(
    config: DIRFAConfig, speech: int, blink: int, pose: int
) -> torch.Tensor:
    """(P,) top-k of each parameter: landmark coefficients, eyelid closure, head pose.

    Lips want nearly greedy decoding (sync), head pose a few neighbouring bins (diversity
    without jitter), and blinks the whole distribution: a blink's onset is a rare event that a
    truncated top-k never draws."""
    k = torch.full((config.n_params,), pose)
    k[: config.n_coefficients] = speech
    k[config.n_coefficients] = blink
    return k


class Sampler:
    """DIRFA's autoregressive top-k sampling, resumable: each call continues the animation from
    the last tau windows and animations of the calls before (streaming keeps one per stream).
    `top_k` (P,) gives each parameter's k (1 = greedy); `top_k` None takes every parameter's
    expected value instead (DIRFA.expected: deterministic, and free of the bins' steps)."""

    def __init__(
        self,
        model: DIRFA,
        top_k: torch.Tensor | None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ):
        self.model, self.top_k = model, top_k
        self.temperature, self.generator = temperature, generator
        c = model.config
        # the last tau + 1 windows
        self.windows = torch.zeros(0, c.context, feature_dims(c.features))
        self.previous = torch.zeros(0, c.n_params)  # the animation before each of them
        self.last = torch.zeros(c.n_params)  # neutral before the first frame

    @torch.no_grad()
    def __call__(self, windows: torch.Tensor) -> torch.Tensor:
        """(T, context, D) speech windows of the next T frames -> (T, P) animation."""
        keep = self.model.config.tau + 1
        animation = torch.zeros(len(windows), self.model.config.n_params)
        for t, window in enumerate(windows):
            self.windows = torch.cat([self.windows, window[None]])[-keep:]
            self.previous = torch.cat([self.previous, self.last[None]])[-keep:]
            logits = self.model(self.windows[None], self.previous[None])[0, -1]
            if self.top_k is None:
                animation[t] = self.model.expected(logits)
            else:
                drawn = top_k_sample(
                    logits, self.top_k, self.temperature, self.generator
                )
                animation[t] = self.model.dequantise(drawn)
            self.last = animation[t]
        return animation


def generate(
    model: DIRFA,
    windows: torch.Tensor,
    top_k: torch.Tensor | None,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Autoregressive top-k sampling of (T, P) continuous animation from (T, context, D)
    speech windows (one Sampler call)."""
    return Sampler(model, top_k, temperature, generator)(windows)


def init_weights(module: nn.Module) -> None:
    """GPT-style initialisation: small normal weights keep the early logits flat."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
