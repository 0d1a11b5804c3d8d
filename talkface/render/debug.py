"""Debug views: what a renderer was asked for and how it answered, one panel per frame.

Panels (each at the crop size): the rendered crop with the target landmarks drawn on it, then
for the texture generator its attention map (white = the base image kept) and colour map, for
the warp renderer the landmark drawing the texture generator would have been given.
"""

from __future__ import annotations

import numpy as np

from talkface.features.visual import landmark_images
from talkface.render.neural import NeuralRenderer

LANDMARK_RGB = (60, 255, 60)


def with_landmarks(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A copy of (S, S, 3) uint8 `image` with (68, 2) pixel landmarks as small dots."""
    import cv2

    out = image.copy()
    radius = max(1, image.shape[0] // 160)
    for x, y in np.round(landmarks).astype(int):
        cv2.circle(out, (int(x), int(y)), radius, LANDMARK_RGB, -1, cv2.LINE_AA)
    return out


def debug_panel(renderer, landmarks: np.ndarray) -> np.ndarray:
    """(S, k S, 3) uint8 panels for one frame's (68, 2) crop-pixel target landmarks."""
    if isinstance(renderer, NeuralRenderer):
        frame = renderer.render(landmarks)
        attention = (frame.attention * 255 + 0.5).astype(np.uint8)
        maps = [np.repeat(attention[..., None], 3, -1), frame.colour]
        image = frame.image
    else:
        image = renderer(landmarks)
        drawing = landmark_images(landmarks[None], image.shape[0])[0]
        maps = [np.repeat(drawing[..., None], 3, -1)]
    return np.concatenate([with_landmarks(image, landmarks), *maps], axis=1)
