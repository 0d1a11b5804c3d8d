import numpy as np

from talkface.face.align import apply_affine, mean_face
from talkface.face.landmarks import eye_aspect_ratio
from talkface.motion.blinks import close_eyelids, sample_blinks
from talkface.motion.retarget import retarget, retarget_matrix


def _rotation(angle, scale):
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def test_retarget_zero_motion_is_the_person():
    person = mean_face() * 300 + 20
    out = retarget(np.zeros((5, 68, 2), np.float32), person)
    np.testing.assert_allclose(out, np.repeat(person[None], 5, 0), atol=1e-4)


def test_retarget_follows_the_face_rotation_and_size():
    linear = _rotation(0.5, 240.0)
    person = apply_affine(np.hstack([linear, [[50], [80]]]), mean_face())
    delta = np.zeros((1, 68, 2), np.float32)
    delta[0, 57, 1] = 0.05  # chin of the lower lip moves down in canonical units
    moved = retarget(delta, person)[0]
    expected = linear @ np.array([0.0, 0.05])
    np.testing.assert_allclose(moved[57] - person[57], expected, rtol=1e-3)
    np.testing.assert_allclose(moved[:57], person[:57], atol=1e-4)


def test_retarget_stretches_with_face_proportions():
    long_face = mean_face() * np.array([200.0, 300.0])
    m = retarget_matrix(long_face)
    vertical = np.linalg.norm(m @ [0, 1])
    horizontal = np.linalg.norm(m @ [1, 0])
    assert vertical / horizontal > 1.3  # a 1.5x longer face opens its jaw further


def test_blinks_have_natural_rate_and_duration():
    fps = 25
    closure = sample_blinks(fps * 600, fps, rate=0.33, rng=np.random.default_rng(0))
    shut = closure > 0.5
    starts = np.flatnonzero(shut[1:] & ~shut[:-1])
    ends = np.flatnonzero(~shut[1:] & shut[:-1])
    rate = len(starts) / 600
    assert 0.25 <= rate <= 0.45
    durations = (ends[: len(starts)] - starts[: len(ends)]) / fps
    full = (
        np.array([np.sum(closure[s - 10 : s + 20] > 0.05) for s in starts[1:-1]]) / fps
    )
    assert 0.1 <= np.median(full) <= 0.4
    assert durations.max() < 0.4
    assert closure.max() == 1.0 and closure.min() == 0.0


def test_blinks_reproducible_and_switchable():
    a = sample_blinks(500, 25, rng=np.random.default_rng(3))
    b = sample_blinks(500, 25, rng=np.random.default_rng(3))
    c = sample_blinks(500, 25, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sample_blinks(500, 25, rate=0).max() == 0
    fast = sample_blinks(25 * 300, 25, rate=1.0, rng=np.random.default_rng(0))
    slow = sample_blinks(25 * 300, 25, rate=0.2, rng=np.random.default_rng(0))
    assert (fast > 0.5).sum() > 2.5 * (slow > 0.5).sum()


def test_eyelids_close_with_closure():
    face = np.repeat(mean_face()[None] * 256, 3, 0)
    out = close_eyelids(face, np.array([0.0, 0.5, 1.0], np.float32))
    ear = eye_aspect_ratio(out)
    assert abs(ear[0] - eye_aspect_ratio(face[0])) < 1e-6
    assert ear[2] < 0.02 < ear[1] < ear[0]
