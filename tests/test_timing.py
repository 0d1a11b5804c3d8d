import numpy as np
import pytest

from talkface.features.align import (
    FEATURE_RATE,
    SAMPLE_RATE,
    audio_windows,
    feature_windows,
    frame_centres,
    frame_to_feature_index,
    n_feature_frames,
    n_video_frames,
    seconds_to_frame,
)


@pytest.mark.parametrize(
    "seconds, fps, expected",
    [
        (3.0, 25, 75),
        (2.98, 25, 75),
        (1.0, 30, 30),
        (0.5, 29.97, 15),
        (1.019, 25, 25),
        (1.021, 25, 26),
        (0.001, 25, 1),
    ],
)
def test_video_frames_round_duration_times_fps(seconds, fps, expected):
    assert n_video_frames(int(round(seconds * SAMPLE_RATE)), fps) == expected


def test_video_frames_rejects_bad_fps():
    with pytest.raises(ValueError):
        n_video_frames(16000, 0)


def test_feature_frames_one_per_hop():
    assert FEATURE_RATE == 100
    assert n_feature_frames(16000) == 101


def test_windows_centred_on_each_frame_and_clamped_at_edges():
    features = np.arange(300, dtype=np.float32)[:, None]  # feature value = its index
    windows = feature_windows(features, n_frames=75, fps=25, context=28)
    assert windows.shape == (75, 28, 1)
    # frame 10 is centred at 0.42 s = feature 42; its window is 28..55
    assert windows[10, 0, 0] == 28 and windows[10, -1, 0] == 55
    assert windows[0, 0, 0] == 0  # clamped before the start
    assert windows[-1, -1, 0] == 299  # clamped past the end


def test_frame_centres_and_indices_agree():
    centres = frame_centres(4, 25)
    np.testing.assert_allclose(centres, [0.02, 0.06, 0.10, 0.14])
    np.testing.assert_array_equal(
        frame_to_feature_index(np.arange(4), 25), [2, 6, 10, 14]
    )
    np.testing.assert_array_equal(
        seconds_to_frame(np.array([0.0, 0.039, 0.04, 1.0]), 25), [0, 0, 1, 25]
    )


def test_audio_windows_centred_on_each_frame_with_silence_past_the_ends():
    wav = np.arange(1, SAMPLE_RATE + 1, dtype=np.float32)  # sample i holds i + 1
    windows = audio_windows(wav, 25, 25.0, 3200)
    assert windows.shape == (25, 3200)
    # frame 12's centre is 0.5 s = sample 8000: the window's middle
    assert windows[12, 1600] == 8001
    # one window per frame, hop = SAMPLE_RATE / fps (paper 001 eq. 1)
    assert np.all(np.diff(windows[1:-1, 1600]) == SAMPLE_RATE / 25)
    assert np.all(windows[0, :1280] == 0) and windows[0, 1280] == 1
    assert np.all(windows[-1, -1280:] == 0) and windows[-1, -1281] == SAMPLE_RATE
    # a stream asks for its newest frames' windows only: the same windows
    np.testing.assert_array_equal(
        audio_windows(wav, 25, 25.0, 3200, first=20), windows[20:]
    )
    assert audio_windows(wav, 25, 25.0, 3200, first=25).shape == (0, 3200)
