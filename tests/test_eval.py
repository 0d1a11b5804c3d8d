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
