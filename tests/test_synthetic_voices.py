import numpy as np

from talkface.data.synthetic_voices import synthetic_twin, synthetic_twins, warp_times
from talkface.features.align import n_video_frames


def test_warp_times_hits_anchors_and_keeps_real_time_outside():
    source = np.array([1.0, 2.0, 4.0])
    target = np.array([0.5, 2.5, 3.0])
    tau = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(
        warp_times(tau, source, target), [-0.5, 0.5, 1.5, 2.5, 2.75, 3.0, 4.0]
    )


def test_twin_carries_the_real_motion_onto_the_synthetic_timeline():
    fps = 25.0
    words = ["sil", "bin", "blue", "at", "f", "two", "now", "sil"]
    times = np.array(
        [
            [0, 0.8],
            [0.8, 1.0],
            [1.0, 1.3],
            [1.3, 1.4],
            [1.4, 1.7],
            [1.7, 2.0],
            [2.0, 2.3],
            [2.3, 3.0],
        ]
    )
    # a "motion" whose value is its own frame index tells where each synthetic frame came from
    frames = np.arange(75, dtype=np.float32)
    displacements = np.repeat(frames[:, None, None], 68, 1).repeat(2, 2)
    wav, motion = synthetic_twin(
        words, times, displacements, fps, np.random.default_rng(0)
    )
    assert len(motion) == n_video_frames(len(wav), fps)
    source_frame = motion[:, 0, 0]
    assert np.all(np.diff(source_frame) >= 0)  # time runs forward
    assert source_frame[0] < 0.8 * fps  # starts in the real clip's leading silence
    # the loudest synthetic audio falls inside the real clip's spoken span
    loud = np.argmax(np.abs(wav)) / 16000 * fps
    assert 0.8 * fps <= source_frame[int(loud)] <= 2.3 * fps


def test_twin_warps_any_per_frame_motion_and_the_cache_replays_it(tmp_path):
    words = ["sil", "bin", "blue", "now", "sil"]
    times = np.array([[0, 0.8], [0.8, 1.2], [1.2, 1.6], [1.6, 2.2], [2.2, 3.0]])
    frames = np.arange(75, dtype=np.float32)
    # a flat (T, P) animation warps as the landmarks do: each frame from one real moment
    animation = np.stack([frames, 2 * frames], 1)
    wav, warped = synthetic_twin(
        words, times, animation, 25.0, np.random.default_rng(3)
    )
    assert len(warped) == n_video_frames(len(wav), 25.0)
    assert np.all(np.diff(warped[:, 0]) >= 0) and warped[:, 0].max() <= 74
    np.testing.assert_allclose(warped[:, 1], 2 * warped[:, 0], rtol=1e-6)

    clips = [
        {"name": n, "words": words, "word_times": times, "fps": 25.0} for n in "ab"
    ]
    cache = tmp_path / "twins.npz"
    made = synthetic_twins(clips, [animation, animation + 100], 2, cache, seed=0)
    assert sorted(i for i, _, _ in made) == [0, 0, 1, 1]
    for i, wav, motion in made:  # each twin carries its own clip's motion
        assert (motion[:, 0] >= 100).all() == (i == 1)
        assert len(motion) == n_video_frames(len(wav), 25.0)
    # read back from the cache, not made again (another seed would draw other voices)
    replayed = synthetic_twins(clips, [animation, animation + 100], 2, cache, seed=1)
    for (i, wav, motion), (j, wav2, motion2) in zip(made, replayed):
        assert i == j and np.array_equal(wav, wav2) and np.array_equal(motion, motion2)
