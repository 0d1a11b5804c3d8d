"""The shipped motion models inside the pipeline: what each animates, seeds, head-motion control."""

import numpy as np
import pytest

from talkface.face.landmarks import BROWS, inner_lip_opening
from talkface.motion.stage import SPEECH_POINTS
from talkface.pipelines.options import GenerateOptions


@pytest.fixture(scope="module")
def setup(speech):
    from scipy.signal import resample_poly

    import talkface
    from talkface.features.audio import SAMPLE_RATE

    wav = resample_poly(speech.wav, SAMPLE_RATE, speech.sample_rate).astype(np.float32)
    pipes = {
        m: talkface.load_pipeline(m) for m in ("atnet-grid", "sinha-grid", "dirfa-grid")
    }
    face = pipes["atnet-grid"].prepare_face(talkface.sample_paths()[0])
    return pipes, face, wav


def _motion(setup, model, **options):
    pipes, face, wav = setup
    return pipes[model].motion(wav, face, GenerateOptions(**options))


@pytest.mark.parametrize("model", ["atnet-grid", "sinha-grid", "dirfa-grid"])
def test_every_model_moves_lips_and_brows_and_reproduces_with_a_seed(setup, model):
    a = _motion(setup, model, seed=3)
    b = _motion(setup, model, seed=3)
    np.testing.assert_array_equal(a.displacements, b.displacements)
    np.testing.assert_array_equal(a.pose, b.pose)
    np.testing.assert_array_equal(a.blink, b.blink)
    assert np.ptp(inner_lip_opening(a.displacements)) > 0.01  # canonical units
    assert a.displacements[:, BROWS].std() > 1e-4
    assert a.pose.shape == (len(a), 5) and np.isfinite(a.pose).all()


@pytest.mark.parametrize("model", ["atnet-grid", "sinha-grid"])
def test_landmark_regressors_sway_the_head_slowly_as_asked(setup, model):
    from talkface.motion.sway import SWAY_STD

    sway = _motion(setup, model, seed=0).pose
    assert np.abs(sway[:, 0]).max() > 0.05  # degrees of yaw: the head moves
    assert np.abs(sway).max(0)[0] < 4 * SWAY_STD[0]
    double = _motion(setup, model, seed=0, head_motion=2.0).pose
    np.testing.assert_allclose(double, 2 * sway, atol=1e-5)
    assert not _motion(setup, model, seed=0, head_motion=0.0).pose.any()


def test_dirfa_seeds_differ_in_head_brows_and_blinks(setup):
    runs = [_motion(setup, "dirfa-grid", seed=s) for s in range(3)]
    yaw = np.stack([m.pose[:, 0] for m in runs])  # degrees
    # mean |yaw difference| between two seeds, DIRFA's sampling with the seeded sway on top:
    # 1.23 / 1.28 / 0.45 deg for these pairs (a seed's own yaw sd 0.8-1.7 deg; GRID's real
    # heads 1.7-2.5 within a clip); 0 without the sway or the sampling's seed
    gaps = [np.abs(yaw[i] - yaw[j]).mean() for i, j in [(0, 1), (0, 2), (1, 2)]]
    assert np.mean(gaps) > 0.8 and min(gaps) > 0.3
    brows = np.stack([m.displacements[:, BROWS] for m in runs])
    assert np.abs(brows[0] - brows[1]).mean() > 1e-4
    assert not np.array_equal(runs[0].blink, runs[1].blink)
    assert max((m.blink > 0.5).sum() for m in runs) > 0  # DIRFA blinks on its own
    lips = np.stack([m.displacements[:, SPEECH_POINTS] for m in runs])
    np.testing.assert_array_equal(lips[0], lips[1])  # same lip sync for every seed
    np.testing.assert_array_equal(lips[0], lips[2])
    assert np.abs(lips[0]).max() > 0.01  # and the lips move


def test_head_motion_scales_the_pose(setup):
    one = _motion(setup, "dirfa-grid", seed=1, head_motion=1.0)
    two = _motion(setup, "dirfa-grid", seed=1, head_motion=2.0)
    still = _motion(setup, "dirfa-grid", seed=1, head_motion=0.0)
    np.testing.assert_allclose(two.pose, 2 * one.pose, atol=1e-5)
    assert not still.pose.any() and np.abs(one.pose).max() > 0.5


def test_head_pose_moves_the_rendered_face(setup):
    """A rendered frame with a turned head differs from the still head around the face."""
    pipes, face, _ = setup
    from talkface.types import Motion

    n = 3
    pose = np.zeros((n, 5), np.float32)
    pose[1, 2] = 5.0  # roll 5 degrees
    pose[2, 3] = 0.03  # move right by 3% of the canonical square
    motion = Motion(
        np.zeros((n, 68, 2), np.float32), np.zeros(n, np.float32), 25.0, pose
    )
    render = pipes["atnet-grid"].render(face, motion)
    frames = [render(i).astype(int) for i in range(n)]
    assert np.abs(frames[1] - frames[0]).mean() > 0.3
    assert np.abs(frames[2] - frames[0]).mean() > 0.3


@pytest.mark.parametrize("model", ["atnet-grid", "dirfa-grid"])
def test_motion_stage_in_chunks_equals_one_pass(setup, model):
    """The stage carries the AT-net's LSTM state and DIRFA's history (and blink blocks) from
    chunk to chunk: streaming decides the same motion as the whole file would."""
    import torch

    from talkface.features.align import feature_windows
    from talkface.features.audio import speech_features

    pipes, _, wav = setup
    pipe = pipes[model]
    features, _ = speech_features(wav, kind=pipe.motion_model.config.features)
    windows = torch.from_numpy(
        feature_windows(features.numpy(), 60, 25.0, pipe.motion_model.config.context)
    )
    gate = np.ones(60)
    options = GenerateOptions(seed=4)
    whole = pipe.motion_stage(options, blink_block=32)(windows, gate)
    stage = pipe.motion_stage(options, blink_block=32)
    parts = [stage(windows[a:b], gate[a:b]) for a, b in ((0, 7), (7, 40), (40, 60))]
    for name in ("displacements", "blink", "pose"):
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_allclose(joined, getattr(whole, name), atol=1e-5)


@pytest.mark.parametrize("voice", ["en-us", "en+m3"])
def test_default_model_closes_lips_at_bilabials_and_rests_in_silence(setup, voice):
    """The motion issue's synthetic-speech target, pooled over seven sentences: median opening
    at p/b/m at most half that at open vowels, still lips in silence, lag within one frame."""
    from talkface.eval.articulation import articulation

    pipes, face, _ = setup
    m = articulation(pipes["atnet-grid"], face, voice)
    assert m["ratio"] <= 0.5
    assert m["silence"] < 0.05
    assert abs(m["lag"]) <= 1
