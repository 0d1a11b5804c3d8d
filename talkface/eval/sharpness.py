"""CPBD, the cumulative probability of blur detection (Narvekar & Karam 2009/2011), as
metrics.md 2.3 defines it: a vectorised clean-room version that reproduces the reference Python
port (PyPI `cpbd` 1.0.7) on uint8 gray frames. Higher is sharper.
"""

from __future__ import annotations

import numpy as np

from talkface.eval.image import to_gray

BLOCK = 64  # pixels; leftover rows and columns are ignored, as in the reference
EDGE_BLOCK_SHARE = (
    0.002  # a block with more Canny pixels than this share is an edge block
)
BETA = 3.6
MAX_STEPS = 100  # the width walk looks at most this far (plus one) on each side


def _sobel_edges(image: np.ndarray) -> np.ndarray:
    """Thinned vertical edges: Octave's Sobel rule (squared horizontal gradient above twice the
    root-mean of its square) with non-strict thinning against both neighbours."""
    from scipy.ndimage import convolve

    kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 8.0
    strength = convolve(image, kernel) ** 2
    strength[strength <= 2 * np.sqrt(strength.mean())] = 0
    padded = np.pad(strength, 1)
    centre = padded[1:-1, 1:-1]
    across = (centre > padded[1:-1, :-2]) & (centre > padded[1:-1, 2:])
    along = (centre > padded[:-2, 1:-1]) & (centre > padded[2:, 1:-1])
    return across | along


def _runs(condition: np.ndarray, reverse: bool) -> np.ndarray:
    """Per row, the length of the run of True ending at each column (walking left to right, or
    right to left when `reverse`)."""
    out = np.zeros(condition.shape, np.int64)
    columns = (
        range(condition.shape[1] - 1, -1, -1) if reverse else range(condition.shape[1])
    )
    previous = np.zeros(condition.shape[0], np.int64)
    for c in columns:
        previous = np.where(condition[:, c], previous + 1, 0)
        out[:, c] = previous
    return out


def _edge_widths(edges: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Marziliano widths of vertical edges, measured along rows; 0 where there is none."""
    height, width = image.shape
    widths = np.zeros(image.shape)
    gy, gx = np.gradient(image)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(
            gx != 0,
            np.degrees(np.arctan2(gy, gx)),
            np.where(gy == np.pi / 2, 90.0, 0.0),
        )
    if not angle.any():
        return widths
    quantised = 45 * np.round(angle / 45)
    step = np.diff(image, axis=1)  # step[:, j] = image[:, j + 1] - image[:, j]
    falling_left = _runs(
        step < 0, reverse=False
    )  # run ending at j, walking leftwards from j
    rising_left = _runs(step > 0, reverse=False)
    falling_right = _runs(
        step < 0, reverse=True
    )  # run starting at j, walking rightwards
    rising_right = _runs(step > 0, reverse=True)

    rows, cols = np.nonzero(edges[1:-1, 1:-1])
    rows, cols = rows + 1, cols + 1
    for kind, left_runs, right_runs in (
        (np.abs(quantised[rows, cols]) == 180, falling_left, falling_right),
        (quantised[rows, cols] == 0, rising_left, rising_right),
    ):
        r, c = rows[kind], cols[kind]
        left = np.where(c - 2 >= 0, left_runs[r, np.maximum(c - 2, 0)], 0)
        right = np.where(
            c + 1 <= width - 2, right_runs[r, np.minimum(c + 1, width - 2)], 0
        )
        widths[r, c] = (
            np.minimum(left, MAX_STEPS) + 1 + np.minimum(right, MAX_STEPS) + 1
        )
    return widths


def cpbd(frame: np.ndarray) -> float:
    """CPBD of one frame: (H, W) or (H, W, 3) uint8 (0-255 scale; converted to 601 gray)."""
    from skimage.feature import canny

    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(
            "cpbd takes uint8 frames: its contrast thresholds assume 0-255 levels"
        )
    image = to_gray(frame)
    if frame.ndim == 3:
        image = np.round(image)  # a decoded gray frame is integer-valued
    widths = _edge_widths(_sobel_edges(image), image)
    block_edges = canny(image)
    histogram = np.zeros(101)
    for i in range(image.shape[0] // BLOCK):
        for j in range(image.shape[1] // BLOCK):
            block = (
                slice(i * BLOCK, (i + 1) * BLOCK),
                slice(j * BLOCK, (j + 1) * BLOCK),
            )
            if np.count_nonzero(block_edges[block]) <= EDGE_BLOCK_SHARE * BLOCK * BLOCK:
                continue
            contrast = int(image[block].max() - image[block].min())
            just_noticeable = 5.0 if contrast <= 50 else 3.0
            w = widths[block][widths[block] != 0]
            p_blur = 1 - np.exp(-(np.abs(w / just_noticeable) ** BETA))
            np.add.at(histogram, np.round(p_blur * 100).astype(int), 1)
    total = histogram.sum()
    # P(P_blur <= P_JNB = 63%): bins 0..63 inclusive (ATVGnet's [0:63] drops bin 63)
    return float(histogram[:64].sum() / total) if total else 0.0
