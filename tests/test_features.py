import numpy as np
import pytest
import torch

from talkface.features.audio import (
    N_MFCC,
    feature_dims,
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


def test_phone_features_follow_real_speech(grid_dir):
    """pocketsphinx's phones on an unseen GRID voice (s31, 10 clips): silence where the
    alignment has silence, phones inside words, and a b/p/m within 20 ms before to 50 ms after
    the start of words that start with one far more often than of other words (measured 0.6
    against 0.04; fails when the frames lag 60 ms or the labels are mapped wrongly)."""
    import csv

    from talkface.features.phones import PHONES, phone_frames
    from talkface.io.audio import load_audio

    rows = [
        r
        for r in csv.DictReader(open(grid_dir / "splits.csv"))
        if r["speaker"] == "s31"
    ]
    in_silence, in_words, starts = [], [], {True: [], False: []}
    for row in rows:
        wav = load_audio(grid_dir / row["video"])
        n = len(wav) // 160 + 1
        onehot = phone_frames(wav, n)
        assert onehot.shape == (n, len(PHONES)) and (onehot.sum(1) == 1).all()
        labels = np.array(PHONES)[onehot.argmax(1)]
        for line in open(grid_dir / row["alignment"]):
            start, end, word = line.split()
            span = labels[
                int(start) // 250 : int(end) // 250
            ]  # 1/25000 s -> 10 ms frames
            if word in ("sil", "sp"):
                in_silence.append((span == "SIL").mean())
            else:
                in_words.append((span != "SIL").mean())
                onset = int(start) // 250
                heard = bool(
                    set(labels[max(onset - 2, 0) : onset + 5]) & {"B", "P", "M"}
                )
                starts[word[0] in "bpm"].append(heard)
    assert np.mean(in_silence) > 0.8 and np.mean(in_words) > 0.85
    assert np.mean(starts[True]) >= 0.45 and np.mean(starts[False]) <= 0.2


def test_phone_feature_kinds_append_one_hot_phones():
    wav = np.zeros(16000, np.float32)  # silence: the decoder hears no phone
    mel, _ = speech_features(wav, kind="log_mel")
    both, _ = speech_features(wav, kind="log_mel+phones")
    assert both.shape == (len(mel), feature_dims("log_mel+phones"))
    torch.testing.assert_close(both[:, : mel.shape[1]], mel)
    assert (both[:, mel.shape[1]] == 1).all()  # "SIL" is the first phone
    assert feature_dims("mfcc+phones") == feature_dims("mfcc") + 40
    with pytest.raises(ValueError, match="feature kind"):
        speech_features(wav, kind="phones")


def test_phones_of_a_recording_do_not_depend_on_the_one_before(speech):
    """pocketsphinx carries noise and cepstral-mean estimates from one utterance to the next;
    the same speech must give the same phones whatever was decoded before it."""
    from talkface.features.phones import phone_segments
    from talkface.io.audio import resample

    wav = resample(speech.wav, speech.sample_rate)
    first = phone_segments(wav)
    phone_segments(np.random.default_rng(0).normal(0, 0.3, 16000).astype(np.float32))
    assert phone_segments(wav) == first
