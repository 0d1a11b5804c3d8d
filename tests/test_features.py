import numpy as np
import torch

from talkface.features.audio import (
    N_MFCC,
    log_mel,
    mel_filterbank,
    mfcc,
    speech_features,
)


def _tone(freq, seconds=1.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_shapes_and_rate():
    wav = _tone(300)
    assert mfcc(wav).shape == (101, N_MFCC)
    assert log_mel(wav).shape == (101, 40)


def test_mel_peak_follows_frequency_and_warp_moves_it():
    low, high = (
        log_mel(_tone(300)).mean(0).argmax(),
        log_mel(_tone(3000)).mean(0).argmax(),
    )
    assert high > low + 10
    # vocal-tract-length warp >1 maps a formant at f onto a band for f * warp: peak moves down
    assert log_mel(_tone(3000), warp=1.2).mean(0).argmax() < high
    assert mel_filterbank(1.0).shape == (40, 257)
    assert torch.all(mel_filterbank(1.2).sum(1) > 0)  # no empty band after warping


def test_utterance_normalisation_removes_gain():
    rng = np.random.default_rng(0)
    wav = (rng.normal(0, 0.1, 16000) * np.sin(np.linspace(0, 20, 16000)) ** 2).astype(
        np.float32
    )
    a, _ = speech_features(wav)
    b, energy = speech_features(wav * 0.05)
    assert (a - b).abs().mean() < 0.02 and (a - b).abs().max() < 0.2
    assert abs(float(a.mean())) < 0.3
    assert energy.shape == (101,)
