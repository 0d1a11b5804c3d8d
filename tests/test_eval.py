"""Metric golden values from ../shared/docs/metrics.md section 6."""

import numpy as np
import pytest

from talkface.eval.metrics import lmd, opening_correlation


@pytest.fixture
def mouths():
    rng = np.random.default_rng(0)
    real = np.zeros((1, 68, 2))
    real[0, 48:68] = rng.uniform(0, 50, (20, 2))
    fake = real.copy()
    fake[0, 50] += (3, 4)  # one of the 20 mouth points moves by 5 px
    return real, fake


def test_lmd_golden_values(mouths):
    real, fake = mouths
    assert lmd(real, fake, centre="mean", reduce="sum") == pytest.approx(9.5)
    assert lmd(real, fake, centre="mean", reduce="mean") == pytest.approx(0.475)
    assert lmd(real, fake, centre="none", reduce="mean") == pytest.approx(0.25)
    assert lmd(real, fake, centre="none", distance="l1") == pytest.approx(0.175)


def test_fae_lmd_counts_the_lip_corners_twice(mouths):
    from talkface.eval.metrics import FAE_MOUTH

    real, fake = mouths
    assert len(FAE_MOUTH) == 24 and set(FAE_MOUTH) == set(range(48, 68))
    corner = real.copy()
    corner[0, 48] += (3, 4)  # a corner: listed twice -> 2 x 7 / 48 coordinates
    assert lmd(real, corner, FAE_MOUTH, "none", distance="l1") == pytest.approx(14 / 48)
    middle = real.copy()
    middle[0, 50] += (3, 4)
    assert lmd(real, middle, FAE_MOUTH, "none", distance="l1") == pytest.approx(7 / 48)


def test_interocular_lmd_is_scale_free_and_ignores_other_points(mouths):
    from talkface.eval.metrics import lmd_variants

    real, fake = mouths
    real[0, 36], real[0, 45] = (0, 0), (40, 0)
    fake[0, 36], fake[0, 45] = real[0, 36], real[0, 45]
    value = lmd(real, fake, normalise="interocular")
    assert value == pytest.approx(0.475 / 40)
    assert lmd(real * 3, fake * 3, normalise="interocular") == pytest.approx(value)
    moved = fake.copy()
    moved[0, 10] += 5  # a jaw point: not part of the mouth
    assert (
        lmd_variants(real, moved)["lmd_mouth"] == lmd_variants(real, fake)["lmd_mouth"]
    )
    assert lmd_variants(real, moved)["lmd_face"] > lmd_variants(real, fake)["lmd_face"]


def test_lmd_centring_removes_translation_and_scales_linearly(mouths):
    real, fake = mouths
    shifted = fake + np.array([7.0, -2.0])
    assert lmd(real, shifted, centre="mean") == pytest.approx(
        lmd(real, fake, centre="mean")
    )
    assert lmd(real, real + np.array([7.0, -2.0]), centre="none") == pytest.approx(
        np.hypot(7, 2)
    )
    assert lmd(real * 3, fake * 3) == pytest.approx(3 * lmd(real, fake))


def test_opening_correlation():
    t = np.linspace(0, 6, 50)
    real = np.zeros((50, 68, 2))
    real[:, [67, 66, 65], 1] = (np.sin(t) + 1)[:, None] * 5
    assert opening_correlation(real, real) == pytest.approx(1.0)
    inverted = real.copy()
    inverted[:, [67, 66, 65], 1] *= -1
    assert opening_correlation(real, inverted) == pytest.approx(-1.0)
    assert opening_correlation(real, np.zeros_like(real)) == 0.0
