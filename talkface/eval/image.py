"""Image metrics: PSNR and SSIM (metrics.md 2.1, 2.2), computed in float64.

Inputs are uint8 arrays (data range 255) or float arrays with an explicit `data_range`; colour
frames are converted to gray with ITU-R 601 luma first, as cv2's *2GRAY does.
"""

from __future__ import annotations

import math

import numpy as np

LUMA_601 = np.array([0.299, 0.587, 0.114])


def to_gray(frame: np.ndarray) -> np.ndarray:
    """(H, W) float64 ITU-R 601 luma of an (H, W, 3) RGB frame; (H, W) input passes through."""
    frame = np.asarray(frame, dtype=np.float64)
    return frame @ LUMA_601 if frame.ndim == 3 else frame


def _range(a: np.ndarray, data_range: float | None) -> float:
    if data_range is not None:
        return float(data_range)
    if a.dtype != np.uint8:
        raise ValueError("float input needs an explicit data_range")
    return 255.0


def psnr(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """PSNR in dB of two frames (gray or RGB -> gray); +inf for identical frames.

    Differences are taken in float64: uint8 subtraction would wrap modulo 256 (ATVGnet's bug).
    """
    peak = _range(np.asarray(a), data_range)
    mse = np.mean((to_gray(a) - to_gray(b)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(peak**2 / mse)


def psnr_video(
    real: np.ndarray, fake: np.ndarray, data_range: float | None = None
) -> dict:
    """Video PSNR with both aggregators of metrics.md 2.1.

    Returns {"mean_psnr": mean of the finite per-frame values, "identical_frames": how many were
    +inf, "psnr_of_mean_mse": PSNR of the mean MSE over all frames}.
    """
    peak = _range(np.asarray(real), data_range)
    mse = np.array(
        [np.mean((to_gray(r) - to_gray(f)) ** 2) for r, f in zip(real, fake)]
    )
    finite = mse > 0
    per_frame = 10 * np.log10(peak**2 / mse[finite])
    mean_mse = mse.mean()
    return {
        "mean_psnr": float(per_frame.mean()) if finite.any() else math.inf,
        "identical_frames": int((~finite).sum()),
        "psnr_of_mean_mse": math.inf
        if mean_mse == 0
        else 10 * math.log10(peak**2 / mean_mse),
    }


SSIM_SIGMA = 1.5  # Wang et al. 2004: 11x11 Gaussian window, sigma 1.5
SSIM_TRUNCATE = 3.5  # gives the 11-tap window
K1, K2 = 0.01, 0.03


def ssim(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """Mean SSIM (Wang et al. 2004) with an 11x11 Gaussian window (sigma 1.5), population
    covariances, borders cropped by half a window: skimage's structural_similarity with
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False on the gray frames."""
    from scipy.ndimage import gaussian_filter

    peak = _range(np.asarray(a), data_range)
    x, y = to_gray(a), to_gray(b)

    def blur(image: np.ndarray) -> np.ndarray:
        return gaussian_filter(
            image, SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect"
        )

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cxy = blur(x * y) - mx * my
    c1, c2 = (K1 * peak) ** 2, (K2 * peak) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    pad = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)  # (window - 1) / 2
    return float(s[pad:-pad, pad:-pad].mean())
