"""Neural renderer: Sinha et al.'s attention + colour-map texture generator on top of the warp.

The network works at its training size (128 px crops); the photo's crop may be larger. Its
attention and colour maps are upsampled to the crop and composited there, so wherever attention
keeps the base image (the warp renderer's frame, or the identity crop for the paper's variant)
the photo's own resolution survives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from talkface.face.align import FaceCrop
from talkface.features.visual import landmark_images
from talkface.models.sinha import TextureGenerator, TextureGeneratorConfig
from talkface.render.warp import WarpRenderer


def to_model_range(images: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) uint8 -> (..., 3, H, W) float32 in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float() / 127.5 - 1
    return x.movedim(-1, -3)


def landmark_tensor(landmarks: np.ndarray, size: int) -> torch.Tensor:
    """(B, 68, 2) pixel landmarks -> (B, 1, size, size) landmark images in [0, 1]."""
    return torch.from_numpy(landmark_images(landmarks, size)).float()[:, None] / 255


def generator_inputs(
    config: TextureGeneratorConfig,
    identity: np.ndarray,
    identity_landmarks: np.ndarray,
    warped: np.ndarray,
    landmarks: np.ndarray,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The generator's (base, landmark image, identity landmark image) for B frames at the
    model's size: identity (B, S, S, 3) uint8 crops with (B, 68, 2) landmarks, their warps to
    the frames' (B, 68, 2) landmarks. One function for training and inference."""
    size = config.size
    base = warped if config.base == "warp" else identity
    return (
        to_model_range(base),
        landmark_tensor(landmarks, size),
        landmark_tensor(identity_landmarks, size),
    )


@dataclass(frozen=True)
class NeuralFrame:
    """A rendered crop and the maps that made it (crop size, for --debug views)."""

    image: np.ndarray  # (S, S, 3) uint8
    attention: np.ndarray  # (S, S) float32 in [0, 1], 1 = the base image kept
    colour: np.ndarray  # (S, S, 3) uint8


class NeuralRenderer:
    """Render frames of one identity crop from target landmarks (crop pixels)."""

    def __init__(self, crop: FaceCrop, model: TextureGenerator):
        import cv2

        self.crop, self.model = crop, model.eval()
        self.warp = WarpRenderer(crop)
        self.size = model.config.size
        self.scale = self.size / crop.size
        self.identity = cv2.resize(
            crop.image, (self.size, self.size), interpolation=cv2.INTER_AREA
        )
        self.identity_landmarks = crop.landmarks * self.scale

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        """(S, S, 3) uint8 frame whose face has the given (68, 2) crop-pixel landmarks."""
        return self.render(landmarks).image

    @torch.no_grad()
    def render(self, landmarks: np.ndarray) -> NeuralFrame:
        import cv2

        warped = self.warp(landmarks)
        small = cv2.resize(warped, (self.size, self.size), interpolation=cv2.INTER_AREA)
        _, attention, colour = self.model(
            *generator_inputs(
                self.model.config,
                self.identity[None],
                self.identity_landmarks[None],
                small[None],
                (landmarks * self.scale)[None],
            )
        )
        # 1. maps up to the crop's size; 2. composite there (eq. 6)
        full = (self.crop.size, self.crop.size)
        att = cv2.resize(attention[0, 0].numpy(), full, interpolation=cv2.INTER_LINEAR)
        col = cv2.resize(
            ((colour[0].permute(1, 2, 0).numpy() + 1) * 127.5),
            full,
            interpolation=cv2.INTER_LINEAR,
        )
        base = warped if self.model.config.base == "warp" else self.crop.image
        image = (1 - att[..., None]) * col + att[..., None] * base
        return NeuralFrame(
            np.clip(image + 0.5, 0, 255).astype(np.uint8),
            att.astype(np.float32),
            np.clip(col + 0.5, 0, 255).astype(np.uint8),
        )
