"""Similarity alignment to the canonical mean face, crop at a model's size, exact paste-back.

Canonical coordinates are unit square coordinates of the mean face (`mean_face()`, (68, 2) in
[0, 1]); a crop of size S maps canonical (u, v) to crop pixels (u * S, v * S).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from talkface.face.landmarks import STABLE

# Mirror image of each of the 68 iBUG points (left <-> right), to symmetrise the mean face.
MIRROR = np.array(
    list(range(16, -1, -1))  # jaw
    + list(range(26, 16, -1))  # brows
    + [27, 28, 29, 30, 35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips
)


@functools.cache
def mean_face() -> np.ndarray:
    """(68, 2) float32 canonical neutral (closed-mouth, frontal) face in unit coordinates.

    Computed from GRID s1 `train` by scripts/make_mean_face.py.
    """
    with resources.files("talkface.assets").joinpath("mean_face.npy").open("rb") as f:
        return np.load(f).astype(np.float32)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity (rotation, uniform scale, translation) mapping src -> dst.

    Umeyama's closed form; `src`, `dst` are (N, 2) corresponding points.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, sigma, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, d])
    rotation = u @ fix @ vt
    scale = np.trace(np.diag(sigma) @ fix) / a.var(0).sum()
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_d - scale * rotation @ mu_s
    return matrix


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (..., 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, -linear @ matrix[:, 2:]], axis=1)


def to_canonical(landmarks: np.ndarray) -> np.ndarray:
    """Similarity-normalise (..., 68, 2) landmarks onto the mean face's stable points (eyes, nose).

    Removes head position, in-plane rotation and size; what is left is expression and shape.
    """
    flat = landmarks.reshape(-1, 68, 2)
    out = np.empty_like(flat, dtype=np.float32)
    for i, points in enumerate(flat):
        out[i] = apply_affine(
            similarity_transform(points[STABLE], mean_face()[STABLE]), points
        )
    return out.reshape(landmarks.shape)


@dataclass(frozen=True)
class FaceCrop:
    """A face cut out of a photo and aligned to the canonical frame.

    image: (S, S, 3) uint8 RGB crop. landmarks: (68, 2) float32 in crop pixels.
    to_crop: (2, 3) affine mapping source-photo pixels to crop pixels.
    """

    image: np.ndarray
    landmarks: np.ndarray
    to_crop: np.ndarray

    @property
    def size(self) -> int:
        return self.image.shape[0]


MIN_CROP, MAX_CROP = 128, 512
OVERSAMPLE = (
    1.5  # crop pixels per photo pixel: crop + paste-back then lose almost no detail
)


def native_crop_size(landmarks: np.ndarray) -> int:
    """Crop size (multiple of 16) that keeps the face's detail from the photo."""
    scale = np.sqrt(
        np.linalg.det(
            similarity_transform(mean_face()[STABLE], landmarks[STABLE])[:, :2]
        )
    )
    return int(np.clip(round(OVERSAMPLE * scale / 16) * 16, MIN_CROP, MAX_CROP))


def crop_face(
    image: np.ndarray, landmarks: np.ndarray, size: int, height: int | None = None
) -> FaceCrop:
    """Cut the face with `landmarks` (68, 2 source pixels) out of `image`.

    The canonical unit square maps to `size` pixels; with `height` the crop is `height` x `size`
    and the face is centred vertically in it (e.g. 96 x 128 or 128 x 96 model inputs).
    """
    import cv2

    height = size if height is None else height
    canonical = mean_face()[STABLE] * size + np.array([0.0, (height - size) / 2])
    to_crop = similarity_transform(landmarks[STABLE], canonical)
    crop = cv2.warpAffine(
        image,
        to_crop,
        (size, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return FaceCrop(crop, apply_affine(to_crop, landmarks).astype(np.float32), to_crop)


def paste_mask(
    points: np.ndarray, size: int, grow: float = 0.12, feather: float = 0.06
) -> np.ndarray:
    """(S, S) float32 blend mask: 1 inside the hull of `points` (crop px) grown by `grow` x face
    size, falling smoothly to 0 over `feather` x face size, and 0 at the crop border."""
    import cv2

    hull = cv2.convexHull(points.reshape(-1, 2).astype(np.float32))
    centre = hull.reshape(-1, 2).mean(0)
    extent = np.ptp(points.reshape(-1, 2), axis=0).max()
    grown = centre + (hull.reshape(-1, 2) - centre) * (1 + grow)
    mask = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(
        mask, np.round(grown * 16).astype(np.int32), 1.0, cv2.LINE_AA, shift=4
    )
    sigma = max(feather * extent, 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    border = max(1, int(np.ceil(2 * sigma)))
    ramp = (
        np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32) / border
    )
    ramp = np.clip(ramp, 0, 1)
    return mask * ramp[:, None] * ramp[None, :]


class PasteBack:
    """Paste rendered crops back into the photo, touching only the pixels under the mask.

    Everything is prepared once (inverse transform, the photo region the crop covers, the
    mask warped to that region); each frame then costs one warp of the crop-sized region.
    """

    def __init__(self, photo: np.ndarray, to_crop: np.ndarray, mask: np.ndarray):
        import cv2

        self.photo = photo
        size = mask.shape[0]
        self.to_photo = invert_affine(to_crop)
        corners = apply_affine(
            self.to_photo, np.array([[0, 0], [size, 0], [0, size], [size, size]], float)
        )
        h, w = photo.shape[:2]
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int), 0, [w, h])
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 1, 0, [w, h])
        self.region = (slice(y0, y1), slice(x0, x1))
        # crop -> region coordinates
        self.to_region = self.to_photo.copy()
        self.to_region[:, 2] -= [x0, y0]
        self.region_size = (int(x1 - x0), int(y1 - y0))
        region_mask = cv2.warpAffine(
            mask, self.to_region, self.region_size, flags=cv2.INTER_LINEAR
        )
        self.alpha = region_mask[..., None]
        self.base = photo[self.region].astype(np.float32)

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        """The photo with `crop` ((S, S, 3) uint8) blended in; a new (H, W, 3) uint8 array."""
        import cv2

        if self.region_size[0] == 0 or self.region_size[1] == 0:
            return self.photo.copy()
        warped = cv2.warpAffine(
            crop,
            self.to_region,
            self.region_size,
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        ).astype(np.float32)
        out = self.photo.copy()
        blended = self.base + self.alpha * (warped - self.base)
        out[self.region] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out
