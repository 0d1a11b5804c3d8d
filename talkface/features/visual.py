"""Image features for models that look at faces: the sync expert's grey lower face, and
landmark images for the landmark-conditioned renderers."""

from __future__ import annotations

import functools

import numpy as np

from talkface.features.align import SYNC_WINDOW

SYNC_CROP_SIZE = 128  # aligned face crop (px) the sync expert's lower face is cut from


def lower_face(crops: np.ndarray, height: int = 48, width: int = 96) -> np.ndarray:
    """(T, height, width) uint8 grey lower half of (T, S, S, 3) uint8 aligned face crops."""
    import cv2

    size = crops.shape[1]
    out = np.empty((len(crops), height, width), np.uint8)
    for t, crop in enumerate(crops):
        grey = cv2.cvtColor(np.ascontiguousarray(crop[size // 2 :]), cv2.COLOR_RGB2GRAY)
        out[t] = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
    return out


def face_windows(faces: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(N, SYNC_WINDOW, H, W) float32 windows of (T, H, W) grey faces, each standardised.

    Standardising each window (zero mean, unit std over its frames and pixels) removes
    lighting and skin tone, so an expert trained on one speaker looks at the lips' motion.
    """
    index = np.asarray(starts)[:, None] + np.arange(SYNC_WINDOW)[None]
    return standardise(faces[index].astype(np.float32))


def standardise(windows: np.ndarray) -> np.ndarray:
    """(N, F, H, W) windows, each to zero mean and unit std over its frames and pixels.

    The +1 in the divisor (grey levels 0-255) keeps a flat, motionless window from being
    blown up into noise."""
    mean = windows.mean(axis=(1, 2, 3), keepdims=True)
    std = windows.std(axis=(1, 2, 3), keepdims=True)
    return (windows - mean) / (std + 1.0)


GREY = (0.299, 0.587, 0.114)  # RGB weights of OpenCV's RGB2GRAY


def expert_windows(frames, height: int = 48, width: int = 96):
    """Differentiable `face_windows(lower_face(frames))` of every window of a generated
    video: (B, T, 3, S, S) torch frames in [-1, 1] -> (B, T - SYNC_WINDOW + 1, SYNC_WINDOW,
    height, width), each window standardised (no uint8 rounding)."""
    size = frames.shape[-1]
    weights = frames.new_tensor(GREY)[:, None, None]
    grey = 127.5 * (
        (frames[:, :, :, size // 2 :] * weights).sum(2) + 1
    )  # (B, T, S/2, S)
    rows = area_matrix(grey.shape[-2], height).to(grey)
    columns = area_matrix(size, width).to(grey)
    faces = rows @ grey @ columns.T
    windows = faces.unfold(1, SYNC_WINDOW, 1).permute(0, 1, 4, 2, 3)
    mean = windows.mean(dim=(2, 3, 4), keepdim=True)
    std = windows.std(dim=(2, 3, 4), keepdim=True, unbiased=False)
    return (windows - mean) / (std + 1.0)


@functools.cache
def area_matrix(size: int, out: int):
    """(out, size) torch matrix of OpenCV's INTER_AREA resampling along one axis (it is
    separable and linear: the image of the identity); made once per shape, the training loop
    asks for it every step."""
    import cv2
    import torch

    eye = np.eye(size, dtype=np.float32)
    return torch.from_numpy(cv2.resize(eye, (size, out), interpolation=cv2.INTER_AREA))


# landmark image strokes: (first, last point, closed)
FACE_STROKES = (
    (0, 16, False),  # jaw
    (17, 21, False),  # brows
    (22, 26, False),
    (27, 30, False),  # nose bridge
    (31, 35, False),  # nostrils
    (36, 41, True),  # eyes
    (42, 47, True),
    (48, 59, True),  # outer lips
    (60, 67, True),  # inner lips
)


def landmark_images(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(T, size, size) uint8 drawings of (T, 68, 2) landmarks (pixels): the face's contours as
    anti-aliased 1 px lines, 255 on 0, how ATVGnet and Sinha et al. feed landmarks to a CNN."""
    import cv2

    out = np.zeros((len(landmarks), size, size), np.uint8)
    for image, points in zip(out, landmarks):
        fixed = np.round(np.asarray(points) * 16).astype(np.int32)  # 4 fractional bits
        for first, last, closed in FACE_STROKES:
            cv2.polylines(
                image, [fixed[first : last + 1]], closed, 255, 1, cv2.LINE_AA, shift=4
            )
    return out
