"""MFCC features in torch (no librosa at run time), with optional vocal-tract-length warping.

mfcc(wav) -> (T_feat, N_MFCC) at FEATURE_RATE: 25 ms Hann windows every 10 ms, 40 mel bands
over 0-8 kHz, log, orthonormal DCT-II, c0 dropped (as ATVGnet, paper 004 sec. 4).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from talkface.features.align import HOP_LENGTH, SAMPLE_RATE, WIN_LENGTH
from talkface.features.phones import PHONES, phone_frames

N_FFT = 512
N_MELS = 40
N_MFCC = 12  # c1..c12; c0 (overall level) is dropped
LOG_FLOOR = 1e-8  # power floor before the log: about -80 dB below full scale


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10 ** (np.asarray(mel) / 2595.0) - 1.0)


@functools.lru_cache(maxsize=64)
def mel_filterbank(warp: float = 1.0) -> torch.Tensor:
    """(N_MELS, N_FFT // 2 + 1) triangular HTK mel filters.

    `warp` is a vocal-tract-length factor: filter edges at frequency f move to f * warp (below
    ~7 kHz, piecewise-linear above so the top band stays inside Nyquist). Training with random
    warps in [0.85, 1.2] makes features less tied to one speaker's formants.
    """
    nyquist = SAMPLE_RATE / 2
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(nyquist), N_MELS + 2))
    if warp != 1.0:
        knee = 0.85 * nyquist * min(1.0, 1.0 / warp)
        upper = edges_hz > knee
        warped = edges_hz * warp
        # above the knee map [knee, nyquist] linearly onto [knee * warp, nyquist]
        warped[upper] = knee * warp + (edges_hz[upper] - knee) * (
            nyquist - knee * warp
        ) / (nyquist - knee)
        edges_hz = warped
    bins_hz = np.linspace(0, nyquist, N_FFT // 2 + 1)
    lower, centre, upper_edge = (
        edges_hz[:-2, None],
        edges_hz[1:-1, None],
        edges_hz[2:, None],
    )
    rising = (bins_hz[None] - lower) / np.maximum(centre - lower, 1e-6)
    falling = (upper_edge - bins_hz[None]) / np.maximum(upper_edge - centre, 1e-6)
    filters = np.clip(np.minimum(rising, falling), 0.0, None)
    return torch.from_numpy(filters.astype(np.float32))


@functools.cache
def _dct_matrix() -> torch.Tensor:
    """(N_MELS, N_MFCC) orthonormal DCT-II columns 1..N_MFCC."""
    n = np.arange(N_MELS)
    k = np.arange(1, N_MFCC + 1)
    basis = np.cos(math.pi / N_MELS * (n[:, None] + 0.5) * k[None, :]) * math.sqrt(
        2.0 / N_MELS
    )
    return torch.from_numpy(basis.astype(np.float32))


def log_mel(wav: np.ndarray | torch.Tensor, warp: float = 1.0) -> torch.Tensor:
    """(T_feat, N_MELS) natural-log mel power of a mono SAMPLE_RATE waveform."""
    wav = (
        torch.as_tensor(np.asarray(wav, dtype=np.float32))
        if not torch.is_tensor(wav)
        else wav
    )
    spec = torch.stft(
        wav,
        N_FFT,
        hop_length=HOP_LENGTH,
        win_length=WIN_LENGTH,
        window=torch.hann_window(WIN_LENGTH),
        center=True,
        return_complex=True,
    )
    power = spec.abs() ** 2  # (F, T)
    return torch.log(mel_filterbank(warp) @ power + LOG_FLOOR).T


def mfcc_from_log_mel(mel: torch.Tensor) -> torch.Tensor:
    """(T_feat, N_MFCC) MFCCs (c1..c12) of (T_feat, N_MELS) log-mel frames."""
    return mel @ _dct_matrix()


def mfcc(wav: np.ndarray | torch.Tensor, warp: float = 1.0) -> torch.Tensor:
    """(T_feat, N_MFCC) MFCCs (c1..c12) at FEATURE_RATE."""
    return mfcc_from_log_mel(log_mel(wav, warp))


def normalize_utterance(
    features: torch.Tensor, log_energy: torch.Tensor
) -> torch.Tensor:
    """Per-utterance mean/variance normalisation over the frames within 40 dB of the loudest.

    Removes the channel and much of the speaker's timbre; statistics come from voiced-ish frames
    only, so long silences do not shift the mean.
    """
    active = log_energy > log_energy.max() - math.log(1e4)  # 40 dB in power
    ref = features[active] if active.sum() > 10 else features
    return (features - ref.mean(0)) / (ref.std(0) + 1e-3)


FEATURE_KINDS = ("mfcc", "log_mel", "mfcc+phones", "log_mel+phones")


def feature_dims(kind: str) -> int:
    """Channels per feature frame of a speech feature kind (the phones come last)."""
    if kind not in FEATURE_KINDS:
        raise ValueError(
            f"unknown speech feature kind {kind!r}; one of {FEATURE_KINDS}"
        )
    base = N_MFCC if kind.startswith("mfcc") else N_MELS
    return base + len(PHONES) * kind.endswith("+phones")


def speech_features(
    wav: np.ndarray | torch.Tensor,
    warp: float = 1.0,
    kind: str = "mfcc",
    phones: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-utterance normalised features (T_feat, feature_dims(kind)) and the log energy
    (T_feat,) of a waveform: MFCCs or log-mel, optionally followed by one-hot phones
    (features.phones; `phones` passes ones already decoded from this speech).

    The log energy is in natural-log power units (its level follows the input gain).
    """
    feature_dims(kind)
    mel = log_mel(wav, warp)
    energy = torch.logsumexp(mel, dim=1)
    features = mfcc_from_log_mel(mel) if kind.startswith("mfcc") else mel
    features = normalize_utterance(features, energy)
    if kind.endswith("+phones"):
        if phones is None:
            phones = phone_frames(np.asarray(wav, np.float32), len(mel))
        features = torch.cat([features, torch.as_tensor(phones[: len(mel)])], 1)
    return features, energy
