"""Neural renderers: Sinha et al.'s texture generator and ATVGnet's VG-net, on top of the warp.

The network works at its training size (128 px crops); the photo's crop may be larger. Its
attention and colour maps are upsampled to the crop and composited there, so wherever attention
keeps the base image (the warp renderer's frame, or the identity crop for the papers' variants)
the photo's own resolution survives. With `regions: mouth-eyes` in the model's config the maps
act only around the lips and eyes (edit_regions), in training as here. VG-net carries a ConvGRU
state from frame to frame, so its frames must be rendered in order (InOrder replays from the
start when asked out of order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from talkface.face.align import FaceCrop
from talkface.face.landmarks import LEFT_EYE, MOUTH, RIGHT_EYE
from talkface.features.visual import landmark_images
from talkface.models.atvgnet import VGNet
from talkface.models.sinha import TextureGenerator, TextureGeneratorConfig
from talkface.render.warp import WarpRenderer

# face widths around the mouth and eye hulls that a "mouth-eyes" renderer edits
REGION_MARGIN = 0.06


def edit_regions(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(B, size, size) float32 in [0, 1]: where a renderer with regions "mouth-eyes" may change
    its base for (B, 68, 2) pixel landmarks: the hulls of the mouth and of each eye, grown by
    REGION_MARGIN face widths and feathered. Outside, the warp keeps the face as it is: on
    unseen faces the texture generator's maps blurred and shifted the rest of the face
    (docs/results.md)."""
    import cv2

    out = np.zeros((len(landmarks), size, size), np.float32)
    for mask, points in zip(out, np.asarray(landmarks, np.float64)):
        for part in (MOUTH, RIGHT_EYE, LEFT_EYE):
            hull = cv2.convexHull(points[part].astype(np.float32)).reshape(-1, 2)
            fixed = np.round(hull * 16).astype(np.int32)
            cv2.fillConvexPoly(mask, fixed, 1.0, cv2.LINE_AA, shift=4)
        grow = max(
            1, int(round(REGION_MARGIN * np.linalg.norm(points[16] - points[0])))
        )
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
        mask[:] = cv2.GaussianBlur(cv2.dilate(mask, disk), (0, 0), grow / 3)
    return out


def to_model_range(images: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) uint8 -> (..., 3, H, W) float32 in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float() / 127.5 - 1
    return x.movedim(-1, -3)


def landmark_tensor(landmarks: np.ndarray, size: int) -> torch.Tensor:
    """(B, 68, 2) pixel landmarks -> (B, 1, size, size) landmark images in [0, 1]."""
    return torch.from_numpy(landmark_images(landmarks, size)).float()[:, None] / 255


def region_tensor(config, landmarks: np.ndarray) -> torch.Tensor | None:
    """(B, 1, S, S) edit_regions of (B, 68, 2) model-size landmarks for a model whose config
    has regions "mouth-eyes" (None: the whole crop)."""
    if config.regions != "mouth-eyes":
        return None
    return torch.from_numpy(edit_regions(landmarks, config.size))[:, None]


def vgnet_region(config, landmarks: np.ndarray) -> torch.Tensor | None:
    """(B, T, 1, S, S) region_tensor of (B, T, 68, 2) model-size landmarks (VG-net's layout)."""
    region = region_tensor(config, landmarks.reshape(-1, 68, 2))
    return None if region is None else region.unflatten(0, landmarks.shape[:2])


def generator_inputs(
    config: TextureGeneratorConfig,
    identity: np.ndarray,
    identity_landmarks: np.ndarray,
    warped: np.ndarray,
    landmarks: np.ndarray,
) -> tuple[torch.Tensor, ...]:
    """The generator's (base, landmark image, identity landmark image, region) for B frames at
    the model's size: identity (B, S, S, 3) uint8 crops with (B, 68, 2) landmarks, their warps
    to the frames' (B, 68, 2) landmarks. One function for training and inference."""
    size = config.size
    base = warped if config.base == "warp" else identity
    return (
        to_model_range(base),
        landmark_tensor(landmarks, size),
        landmark_tensor(identity_landmarks, size),
        region_tensor(config, landmarks),
    )


@dataclass(frozen=True)
class NeuralFrame:
    """A rendered crop and the maps that made it (crop size, for --debug views)."""

    image: np.ndarray  # (S, S, 3) uint8
    attention: np.ndarray  # (S, S) float32 in [0, 1], 1 = the base image kept
    colour: np.ndarray  # (S, S, 3) uint8


class NeuralRenderer:
    """Render frames of one identity crop from target landmarks (crop pixels), in order."""

    def __init__(self, crop: FaceCrop, model: TextureGenerator | VGNet):
        import cv2

        self.crop, self.model = crop, model.eval()
        self.warp = WarpRenderer(crop)
        self.size = model.config.size
        self.scale = self.size / crop.size
        self.identity = cv2.resize(
            crop.image, (self.size, self.size), interpolation=cv2.INTER_AREA
        )
        self.identity_landmarks = crop.landmarks * self.scale
        self.state = None  # VG-net's ConvGRU state after the last frame

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        """(S, S, 3) uint8 frame whose face has the given (68, 2) crop-pixel landmarks."""
        return self.render(landmarks).image

    @property
    def stateful(self) -> bool:
        return isinstance(self.model, VGNet)

    def reset(self) -> None:
        self.state = None

    @torch.no_grad()
    def render(self, landmarks: np.ndarray) -> NeuralFrame:
        import cv2

        warped = self.warp(landmarks)
        small = cv2.resize(warped, (self.size, self.size), interpolation=cv2.INTER_AREA)
        keep, colour = self._maps(small, landmarks * self.scale)
        # 1. maps up to the crop's size; 2. composite there (Sinha eq. 6, ATVGnet eq. 8)
        full = (self.crop.size, self.crop.size)
        keep = cv2.resize(keep, full, interpolation=cv2.INTER_LINEAR)
        colour = cv2.resize((colour + 1) * 127.5, full, interpolation=cv2.INTER_LINEAR)
        base = warped if self.model.config.base == "warp" else self.crop.image
        image = (1 - keep[..., None]) * colour + keep[..., None] * base
        return NeuralFrame(
            np.clip(image + 0.5, 0, 255).astype(np.uint8),
            keep.astype(np.float32),
            np.clip(colour + 0.5, 0, 255).astype(np.uint8),
        )

    def _maps(
        self, warped: np.ndarray, landmarks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(s, s) share of the base kept and (s, s, 3) colour in [-1, 1] at the model's size."""
        if isinstance(self.model, VGNet):
            base = self.identity if self.model.config.base == "identity" else warped
            (_, alpha, motion), self.state = self.model(
                to_model_range(base)[None, None],
                torch.from_numpy(landmarks / self.size).float()[None, None],
                torch.from_numpy(self.identity_landmarks / self.size).float()[None],
                self.state,
                vgnet_region(self.model.config, landmarks[None, None]),
            )
            keep, colour = 1 - alpha[0, 0], motion[0, 0]
        else:
            _, keep, colour = self.model(
                *generator_inputs(
                    self.model.config,
                    self.identity[None],
                    self.identity_landmarks[None],
                    warped[None],
                    landmarks[None],
                )
            )
            keep, colour = keep[0], colour[0]
        return keep[0].numpy(), colour.permute(1, 2, 0).numpy()


class InOrder:
    """Frame index -> what `render` makes of targets[index], rendering a stateful renderer's
    frames in order: an index other than the next one replays from frame 0."""

    def __init__(self, render, targets: np.ndarray, reset=None):
        self.render, self.targets, self.reset = render, targets, reset
        self.next = 0

    def __call__(self, index: int):
        if index != self.next and self.reset is not None:
            self.reset()
            for i in range(index):
                self.render(self.targets[i])
        self.next = index + 1
        return self.render(self.targets[index])
