"""68-point facial landmarks (iBUG 300-W layout) with dlib's shape predictor.

Index ranges: jaw 0-16, brows 17-26, nose 27-35, eyes 36-41 (right) and 42-47 (left),
outer lips 48-59, inner lips 60-67.
"""

from __future__ import annotations

import numpy as np

from talkface.face.backend import dlib_module, shape_predictor
from talkface.face.detect import FaceBox

JAW = np.arange(0, 17)
BROWS = np.arange(17, 27)
NOSE = np.arange(27, 36)
RIGHT_EYE = np.arange(36, 42)
LEFT_EYE = np.arange(42, 48)
OUTER_LIPS = np.arange(48, 60)
INNER_LIPS = np.arange(60, 68)
MOUTH = np.arange(48, 68)
# Points that do not move when the mouth opens: used to align faces rigidly (as ATVGnet, 27-47)
STABLE = np.arange(27, 48)
# the point each point becomes in the mirror image (horizontal flip)
MIRROR = np.array(
    [*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, *range(35, 30, -1)]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65]
)


def detect_landmarks(image: np.ndarray, box: FaceBox) -> np.ndarray:
    """(68, 2) float32 landmark (x, y) pixel coordinates of the face in `box`."""
    rect = dlib_module().rectangle(
        int(box.left), int(box.top), int(box.right), int(box.bottom)
    )
    shape = shape_predictor()(image, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def inner_lip_opening(landmarks: np.ndarray) -> np.ndarray:
    """Mean vertical gap between inner upper lip (61-63) and lower lip (67-65), (...,) pixels."""
    upper = landmarks[..., [61, 62, 63], 1]
    lower = landmarks[..., [67, 66, 65], 1]
    return (lower - upper).mean(-1)


def eye_aspect_ratio(landmarks):
    """Mean eye aspect ratio of both eyes (Soukupova & Cech 2016, with the factor 2), (...,).
    Works on numpy arrays and on torch tensors (differentiable: the blink generator's loss)."""

    def distance(a, b):
        return (((a - b) ** 2).sum(-1) + 1e-12) ** 0.5

    def ear(eye: np.ndarray):
        p = landmarks[..., eye, :]
        vertical = distance(p[..., 1, :], p[..., 5, :]) + distance(
            p[..., 2, :], p[..., 4, :]
        )
        return vertical / (2.0 * distance(p[..., 0, :], p[..., 3, :]))

    return 0.5 * (ear(RIGHT_EYE) + ear(LEFT_EYE))
