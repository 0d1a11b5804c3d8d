"""How the speech encoders of the landmark models (sinha.py, dirfa.py) turn a window's conv
features into one vector per video frame."""

import math

from torch import nn

AUDIO_SUMMARIES = ("mean", "flatten")


def window_summary(kind: str, channels: int, steps: int) -> list[nn.Module]:
    """Layers from (B, channels, steps) conv features to (B, channels) codes.

    "mean" averages over time: it keeps which sounds the window holds but not where, so a frame
    cannot tell the sound it shows from its neighbours'. "flatten" + linear keeps the position
    (the papers' conv encoders end in linear layers over the whole window)."""
    if kind == "mean":
        return [nn.AdaptiveAvgPool1d(1), nn.Flatten()]
    if kind == "flatten":
        return [nn.Flatten(), nn.Linear(channels * steps, channels)]
    raise ValueError(f"audio_summary must be one of {AUDIO_SUMMARIES}, got {kind!r}")


def strided_length(length: int, convs: int) -> int:
    """Frames left after `convs` convolutions of kernel 3, stride 2, padding 1."""
    for _ in range(convs):
        length = math.ceil(length / 2)
    return length
