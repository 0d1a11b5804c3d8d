"""Golden values and controls for PSNR, SSIM, EAR, blinks, ACD and sync scoring
(../shared/docs/metrics.md section 6)."""

import math

import numpy as np
import pytest

from talkface.eval.blinks import blink_depths, blink_stats, detect_blinks
from talkface.eval.identity import acd_pairwise, acd_still
from talkface.eval.image import psnr, psnr_video, ssim, to_gray
from talkface.eval.sync import sync_score
from talkface.face.landmarks import eye_aspect_ratio


@pytest.fixture(scope="module")
def camera():
    skimage = pytest.importorskip("skimage.data")
    return skimage.camera()


@pytest.mark.parametrize(
    "d, expected", [(1, 48.1308), (5, 34.1514), (10, 28.1308), (16, 24.0484)]
)
def test_psnr_constant_offset_and_no_uint8_wraparound(d, expected):
    a = np.full((8, 8), 100, np.uint8)
    assert psnr(a, a + np.uint8(d)) == pytest.approx(expected, abs=1e-4)


def test_psnr_identity_symmetry_and_ranges(camera):
    shifted = np.roll(camera, 3, axis=1)
    assert psnr(camera, camera) == math.inf
    assert psnr(camera, shifted) == pytest.approx(
        19.43, abs=0.01
    )  # ATVGnet's code: 32.00
    assert psnr(camera, shifted) == psnr(shifted, camera)
    as_float = psnr(camera / 255.0, shifted / 255.0, data_range=1.0)
    assert as_float == pytest.approx(psnr(camera, shifted), rel=1e-12)
    with pytest.raises(ValueError):
        psnr(camera / 255.0, shifted / 255.0)


def test_psnr_video_aggregators():
    a = np.zeros((2, 4, 4), np.uint8)
    b = a.copy()
    b[1] = np.sqrt(62.58).round()  # one identical frame, one with MSE 64
    out = psnr_video(a, b)
    assert out["identical_frames"] == 1
    assert out["mean_psnr"] == pytest.approx(10 * math.log10(255**2 / 64))
    assert out["psnr_of_mean_mse"] == pytest.approx(10 * math.log10(255**2 / 32))
    c = b.copy()
    c[0] = 2  # both frames finite: PSNR of the mean MSE <= mean PSNR (Jensen)
    both = psnr_video(a, c)
    assert (
        both["identical_frames"] == 0 and both["psnr_of_mean_mse"] <= both["mean_psnr"]
    )


def test_gray_is_601_luma():
    assert to_gray(np.array([[[255, 0, 0]]], np.uint8))[0, 0] == pytest.approx(76.245)


def test_ssim_matches_skimage_and_keeps_the_luminance_term(camera):
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(0)
    noisy = np.clip(camera + rng.normal(0, 8, camera.shape), 0, 255).astype(np.uint8)
    reference = metrics.structural_similarity(
        camera,
        noisy,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert ssim(camera, noisy) == pytest.approx(reference, abs=1e-6)
    assert ssim(camera, camera) == pytest.approx(1.0)
    brighter = np.clip(camera.astype(int) + 10, 0, 255).astype(np.uint8)
    assert 0.9 < ssim(camera, brighter) < 1.0
    noisier = np.clip(camera + rng.normal(0, 20, camera.shape), 0, 255).astype(np.uint8)
    assert ssim(camera, noisier) < ssim(camera, noisy)


def test_ear_golden_eye():
    eye = np.array([(0, 0), (1, -1), (3, -1), (4, 0), (3, 1), (1, 1)], float)
    face = np.zeros((68, 2))
    face[36:42] = eye
    face[42:48] = eye + 10
    assert eye_aspect_ratio(face) == pytest.approx(0.5)


def _ear_trace(seed, dips=(20, 55), n=75):
    trace = np.full(n, 0.30) + np.random.default_rng(seed).normal(0, 0.003, n)
    for start in dips:
        trace[start : start + 5] = [0.22, 0.12, 0.05, 0.12, 0.22]
    return trace


def test_blink_detector_on_synthetic_traces():
    for seed in range(5):
        blinks = detect_blinks(_ear_trace(seed))
        assert len(blinks) == 2
        assert all(abs(b.frames - 7.5) <= 2 for b in blinks)
        assert (
            blinks[0].start <= 20 < blinks[0].end
            and blinks[1].start <= 55 < blinks[1].end
        )
    assert detect_blinks(_ear_trace(0, dips=())) == []  # noise alone
    assert detect_blinks(0.30 - 0.004 * np.arange(75)) == []  # slow drift
    slow = np.full(75, 0.30)
    slow[30:33] = [0.26, 0.22, 0.19]  # drops of <= 0.04 a frame are not blinks
    assert detect_blinks(slow) == []
    late = _ear_trace(1, dips=())
    late[69:] = [0.22, 0.12, 0.05, 0.05, 0.1, 0.15]
    assert detect_blinks(late)[-1].end == 74  # a blink running off the end ends there


def test_blink_statistics():
    stats = blink_stats([_ear_trace(0), _ear_trace(1, dips=())], fps=25)
    assert stats["blinks"] == 2
    assert stats["rate"] == pytest.approx(2 / 6.0)
    assert 0.2 <= stats["median_duration"] <= 0.4
    assert stats["mean_duration"] == pytest.approx(
        np.mean([b.frames for b in detect_blinks(_ear_trace(0))]) / 25
    )
    assert blink_stats([np.full(75, 0.3)])["median_duration"] == 0.0


def test_blink_depth_is_the_lowest_ear_over_the_open_eyes():
    trace = _ear_trace(0)
    trace[57] = 0.15  # the second blink's lids stop half-way
    open_eyes = np.median(trace)
    assert blink_depths(trace) == pytest.approx([0.05 / open_eyes, 0.12 / open_eyes])
    assert blink_depths(np.full(75, 0.3)) == []


def test_acd_golden():
    assert acd_still(np.zeros(2), np.array([[3, 4], [6, 8]])) == pytest.approx(7.5)
    assert acd_pairwise(np.array([[0, 0], [3, 4], [0, 8]])) == pytest.approx(6.0)
    assert acd_still(np.ones(3), np.ones((5, 3))) == 0.0
    assert math.isnan(acd_pairwise(np.zeros((1, 3))))


@pytest.mark.parametrize("k", [0, 3, -5, 15, -15])
def test_sync_scoring_recovers_shifts_with_the_joonson_sign(k):
    audio = np.random.default_rng(0).normal(size=(100, 1024))
    video = np.roll(audio, k, axis=0)  # video at t shows what the audio said at t - k
    score = sync_score(video, audio)
    assert score.offset == k
    assert score.confidence > 10
    # the zero-offset confidence is the best one only when the streams are aligned
    if k == 0:
        assert score.in_sync_confidence == score.confidence
        assert score.shifted_confidence < score.confidence / 5
    else:
        assert score.in_sync_confidence < score.confidence / 5
    if abs(k) == 5:
        assert score.shifted_confidence == pytest.approx(score.confidence / 2, rel=0.2)


def test_sync_scoring_of_unrelated_streams_is_the_padding_artefact():
    rng = np.random.default_rng(1)
    score = sync_score(rng.normal(size=(100, 64)), rng.normal(size=(100, 64)))
    assert abs(score.offset) == 15 and score.confidence < 2


def test_cpbd_golden_value_and_controls(camera):
    from scipy.ndimage import gaussian_filter

    from talkface.eval.sharpness import cpbd

    # the reference port (PyPI cpbd 1.0.7, bins 0..63 inclusive) gives 0.7481657 on camera
    assert cpbd(camera) == pytest.approx(0.7481657, abs=1e-6)
    blurred = [
        cpbd(np.round(gaussian_filter(camera.astype(float), s)).astype(np.uint8))
        for s in (0.5, 1.0, 2.0)
    ]
    assert cpbd(camera) > blurred[0] > blurred[1] > blurred[2]
    assert cpbd(np.full((128, 128), 90, np.uint8)) == 0.0  # no edges
    assert cpbd(camera[:60, :60]) == 0.0  # smaller than one 64x64 block
    with pytest.raises(ValueError):
        cpbd(camera / 255.0)


def test_cpbd_scores_only_whole_blocks(camera):
    from talkface.eval.sharpness import cpbd

    frame = camera[
        :128, :96
    ].copy()  # a 96-wide GRID-size frame: only its left 64 columns count
    changed = frame.copy()
    changed[:, 64:] = np.random.default_rng(0).integers(0, 255, (128, 32))
    assert cpbd(frame) == cpbd(changed)
