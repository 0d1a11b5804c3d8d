"""Landmark-driven warp renderer: keeps identity by construction, works on any face.

Each frame is the identity crop warped piecewise-affinely over a fixed Delaunay mesh (the 68
landmarks plus anchors on the crop border) from the photo's landmarks to the frame's target
landmarks. Where the target lips part, the mouth interior is synthesised (dark cavity, upper and
lower teeth shaded towards the corners) instead of stretching lip texture across the gap. Where
the target lids close, what they hide is painted over with the photo's lid skin and a lash line
drawn along the closing lid, instead of the lashes and lid crease stretched down over the eye.
"""

from __future__ import annotations

import functools

import numpy as np

from talkface.face.align import FaceCrop, mean_face
from talkface.face.landmarks import (
    INNER_LIPS,
    LEFT_EYE,
    OUTER_LIPS,
    RIGHT_EYE,
    inner_lip_opening,
)

TEETH_RGB = np.array([232.0, 226.0, 212.0])
# Shut lids drawn only by moving landmarks read to dlib as half open (the stretched lashes and
# lid crease look like an eye); painted lid skin and a lash line read 0.5x the open eye where
# moved landmarks read 0.6x (scripts/calibrate_lids.py), as real shut lids do (0.45x). The
# line takes the eye's darkest colour: one blended 20% towards the lid skin kept fewer blinks in
# rendered video, one pushed past the darkest colour turned black and read open on dark eyes.
LASH_SIGMA = 0.04  # the open lash line's half-thickness, in eye widths
EYES = ((RIGHT_EYE, np.arange(17, 22)), (LEFT_EYE, np.arange(22, 27)))  # eye, its brow


def _border_anchors(size: int) -> np.ndarray:
    s = size - 1
    ticks = np.array([0.0, 0.25, 0.5, 0.75, 1.0]) * s
    ring = (
        [(t, 0.0) for t in ticks]
        + [(t, s) for t in ticks]
        + [(0.0, t) for t in ticks[1:-1]]
        + [(s, t) for t in ticks[1:-1]]
    )
    return np.array(ring, np.float32)


def _eye_opening(eye: np.ndarray) -> float:
    """Mean gap between the upper and lower lid points of one eye's 6 landmarks, over its width."""
    gap = np.linalg.norm(eye[[1, 2]] - eye[[5, 4]], axis=1).mean()
    return float(gap / max(np.linalg.norm(eye[3] - eye[0]), 1e-6))


def _open_eye(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(6, 2) the photo's open eye moved onto the target eye's corners (a similarity)."""
    s0, s3 = complex(*source[0]), complex(*source[3])
    t0, t3 = complex(*target[0]), complex(*target[3])
    moved = t0 + (t3 - t0) / (s3 - s0) * (source @ [1, 1j] - s0)
    return np.stack([moved.real, moved.imag], -1)


def _median_colour(
    image: np.ndarray, mask: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """Median RGB of the image under a mask, or the fallback when it covers too few pixels."""
    pixels = image[mask.astype(bool)]
    return np.median(pixels, 0).astype(np.float64) if len(pixels) > 8 else fallback


def _clip_box(low: np.ndarray, high: np.ndarray, frame: np.ndarray):
    """(x0, y0, x1, y1) of the pixels from `low` to `high` inside the frame, or None."""
    size = frame.shape[0]
    x0, y0 = np.maximum(np.floor(low).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(high).astype(int), size)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _polygon_mask(polygon: np.ndarray, shape) -> np.ndarray:
    """(H, W) float32 mask of a polygon, anti-aliased at 1/16 px precision."""
    import cv2

    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(
        mask, [np.round(polygon * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4
    )
    return mask


def _lash_line(lid: np.ndarray, shape, sigma: float) -> np.ndarray:
    """(H, W) soft mask of the lash line along an upper lid's 4 points (corner to corner, in
    the mask's pixels): a parabola in the eye's own frame, `sigma` px thick, tapered at the
    corners."""
    width = max(np.linalg.norm(lid[3] - lid[0]), 1e-6)
    axis = (lid[3] - lid[0]) / width
    normal = np.array([-axis[1], axis[0]])
    u = (lid - lid[0]) @ axis / width
    v = (lid - lid[0]) @ normal
    curve = np.polyfit(u, v, 2)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    rel = np.stack([xs, ys], -1) - lid[0]
    pu, pv = rel @ axis / width, rel @ normal
    taper = np.sqrt(np.clip(np.sin(np.pi * np.clip(pu, 0, 1)), 0, 1))
    return (taper * np.exp(-0.5 * ((pv - np.polyval(curve, pu)) / sigma) ** 2)).astype(
        np.float32
    )


def mesh_triangles(size: int) -> np.ndarray:
    """(K, 3) vertex indices of the fixed mesh over 68 landmarks + border anchors.

    Triangulated once on the mean face with its lips held apart, so the mouth interior gets
    its own triangles (all three corners on the inner lip) whatever the photo's mouth does.
    """
    import cv2

    template = mean_face() * size
    template = template.copy()
    template[[65, 66, 67], 1] += 0.04 * size  # open the inner lips
    template[[55, 56, 57, 58, 59], 1] += 0.04 * size
    points = np.vstack([template, _border_anchors(size)])
    subdiv = cv2.Subdiv2D((-1, -1, size + 2, size + 2))
    for p in points:
        subdiv.insert((float(p[0]), float(p[1])))
    triangles = []
    for t in subdiv.getTriangleList().reshape(-1, 3, 2):
        idx = [int(np.argmin(np.abs(points - v).sum(1))) for v in t]
        if len(set(idx)) == 3:
            triangles.append(idx)
    return np.array(triangles, np.int32)


def pixel_grid(size: int) -> np.ndarray:
    """(size * size, 3) float32 homogeneous pixel coordinates [x, y, 1], row by row."""
    ys, xs = np.mgrid[0:size, 0:size]
    return np.stack([xs, ys, np.ones_like(xs)], -1).reshape(-1, 3).astype(np.float32)


def sampling_map(
    source: np.ndarray,
    target: np.ndarray,
    triangles: np.ndarray,
    grid: np.ndarray,
) -> np.ndarray:
    """(S, S, 2) float32: for each pixel of the target, the source position it shows, when the
    mesh `triangles` over the `source` points (crop px, with border anchors) moves to `target`
    (piecewise affine); pixels no triangle covers stay put. `grid` is `pixel_grid(S)`."""
    import cv2

    size = int(round(np.sqrt(len(grid))))
    dst = target.astype(np.float64)[triangles]  # (K, 3, 2)
    src = source.astype(np.float64)[triangles]
    # per-triangle affine A_k with [x, y, 1] @ A_k = source position of target pixel (x, y)
    homog = np.concatenate([dst, np.ones((len(dst), 3, 1))], axis=2)  # (K, 3, 3)
    ok = np.abs(np.linalg.det(homog)) > 1e-6
    affines = np.zeros((len(dst) + 1, 3, 2), np.float32)
    affines[0] = [[1, 0], [0, 1], [0, 0]]  # id 0: pixels no triangle covers stay put
    affines[1:][ok] = np.linalg.solve(homog[ok], src[ok]).astype(np.float32)
    index = np.zeros((size, size), np.uint8 if len(dst) < 255 else np.uint16)
    for k in np.flatnonzero(ok):
        cv2.fillConvexPoly(
            index,
            np.round(dst[k] * 16).astype(np.int32),
            int(k + 1),
            cv2.LINE_8,
            shift=4,
        )
    chosen = affines[index.reshape(-1)]  # (P, 3, 2)
    return np.einsum("pi,pij->pj", grid, chosen).reshape(size, size, 2)


@functools.lru_cache(maxsize=4)
def _mesh(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return mesh_triangles(size), _border_anchors(size), pixel_grid(size)


def landmark_flow(source: np.ndarray, target: np.ndarray, size: int) -> np.ndarray:
    """(S, S, 2) float32 pixel offsets (x, y): where each pixel of a crop with 68 landmarks
    `target` comes from in a crop with landmarks `source`, minus its own position: the warp
    renderer's motion without its painting."""
    triangles, anchors, grid = _mesh(size)
    maps = sampling_map(
        np.vstack([source, anchors]), np.vstack([target, anchors]), triangles, grid
    )
    return maps - grid[:, :2].reshape(size, size, 2)


class WarpRenderer:
    """Render frames of one identity crop from target landmarks (crop pixels)."""

    def __init__(self, crop: FaceCrop):
        self.crop = crop
        size = crop.size
        self.anchors = _border_anchors(size)
        self.triangles = mesh_triangles(size)
        self.source = np.vstack([crop.landmarks, self.anchors]).astype(np.float64)
        self.grid = pixel_grid(size)
        self.image = crop.image
        self.lip_rgb, self.skin_rgb = self._sample_colours()
        self.lid_rgb, self.lash_rgb = zip(*(self._lid_colours(e, b) for e, b in EYES))
        # A photo that already shows its mouth interior keeps it until the lips part well beyond
        # the photo's own gap; a closed mouth gets the synthetic interior as soon as it opens.
        width = np.linalg.norm(crop.landmarks[64] - crop.landmarks[60])
        source_open = max(float(inner_lip_opening(crop.landmarks)), 0.0)
        shows_interior = source_open > 0.08 * width
        self.synth_from = source_open * (1.6 if shows_interior else 1.0)
        self.synth_ramp = max(
            0.5 * source_open if shows_interior else 0.0, 0.05 * width, 1.0
        )

    def _sample_colours(self) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        lm = self.crop.landmarks
        size = self.crop.size
        lips = np.zeros((size, size), np.uint8)
        cv2.fillPoly(lips, [np.round(lm[OUTER_LIPS]).astype(np.int32)], 1)
        cv2.fillPoly(lips, [np.round(lm[INNER_LIPS]).astype(np.int32)], 0)
        # cheeks: below the eyes, beside the nose
        skin = np.zeros((size, size), np.uint8)
        cv2.fillConvexPoly(skin, np.round(lm[[1, 2, 3, 31, 39]]).astype(np.int32), 1)
        cv2.fillConvexPoly(skin, np.round(lm[[15, 14, 13, 35, 42]]).astype(np.int32), 1)
        skin_rgb = _median_colour(self.image, skin, np.array([180.0, 140.0, 120.0]))
        return _median_colour(self.image, lips, skin_rgb * [0.8, 0.55, 0.55]), skin_rgb

    def _lid_colours(self, eye: np.ndarray, brow: np.ndarray):
        """Median colour of the lid skin under one brow, and of the eye's darkest pixels."""
        import cv2

        lm = self.crop.landmarks
        upper = lm[eye[[0, 1, 2, 3]]]
        rise = np.array([0.0, lm[eye[[1, 2]], 1].mean() - lm[brow, 1].mean()])
        band = np.vstack([upper - 0.3 * rise, (upper - 0.7 * rise)[::-1]])
        size = self.crop.size
        mask = np.zeros((size, size), np.uint8)
        cv2.fillPoly(mask, [np.round(band).astype(np.int32)], 1)
        lid = _median_colour(self.image, mask, self.skin_rgb)
        mask[:] = 0
        cv2.fillPoly(mask, [np.round(lm[eye]).astype(np.int32)], 1)
        inside = self.image[mask.astype(bool)].astype(np.float64)
        if len(inside) < 8:
            return lid, 0.5 * lid
        dark = inside[inside.sum(1) <= np.percentile(inside.sum(1), 15)]
        return lid, dark.mean(0)

    def __call__(self, landmarks: np.ndarray) -> np.ndarray:
        """(S, S, 3) uint8 frame whose face has the given (68, 2) crop-pixel landmarks."""
        frame = self.warp(landmarks)
        frame = self.paint_lids(frame, landmarks)
        return self.paint_mouth(frame, landmarks)

    def paint_lids(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """Cover what a closing lid hides with lid skin and a lash line."""
        import cv2

        out = frame
        for k, (eye, _) in enumerate(EYES):
            source, target = self.crop.landmarks[eye], landmarks[eye].astype(np.float64)
            closure = 1.0 - _eye_opening(target) / max(_eye_opening(source), 1e-6)
            if closure < 0.05:
                continue
            open_eye = _open_eye(source, target)
            width = float(np.linalg.norm(target[3] - target[0]))
            box = _clip_box(
                open_eye.min(0) - 0.2 * width, open_eye.max(0) + 0.2 * width, frame
            )
            if box is None:
                continue
            x0, y0, x1, y1 = box
            shape = (y1 - y0, x1 - x0)
            offset = np.array([x0, y0])
            covered = cv2.GaussianBlur(
                _polygon_mask(open_eye - offset, shape), (0, 0), 0.04 * width
            ) * (1.0 - _polygon_mask(target - offset, shape))
            # the lashes bunch into a thicker line as the lids meet
            sigma = LASH_SIGMA * (1 + 0.5 * closure) * width
            lash = _lash_line(target[[0, 1, 2, 3]] - offset, shape, sigma)
            region = out[y0:y1, x0:x1].astype(np.float32)
            # full cover from a third closed: below that the band is a few pixels wide
            alpha = (min(1.0, closure / 0.3) * covered)[..., None]
            painted = region + alpha * (self.lid_rgb[k] - region)
            alpha = (closure * lash)[..., None]
            painted = painted + alpha * (self.lash_rgb[k] - painted)
            out = out.copy() if out is frame else out
            out[y0:y1, x0:x1] = np.clip(painted, 0, 255).astype(np.uint8)
        return out

    def warp(self, landmarks: np.ndarray) -> np.ndarray:
        import cv2

        target = np.vstack([landmarks, self.anchors])
        maps = sampling_map(self.source, target, self.triangles, self.grid)
        # bicubic: bilinear resampling softened the face to 0.81x the real crops' sharpness
        # (CPBD, s31); bicubic keeps 0.95x at an SSIM cost of 0.002 (docs/results.md)
        return cv2.remap(
            self.image,
            maps[..., 0],
            maps[..., 1],
            cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )

    def paint_mouth(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """Fill the gap between parted inner lips with a shaded cavity and teeth."""
        import cv2

        opening = float(inner_lip_opening(landmarks))
        strength = np.clip((opening - self.synth_from) / self.synth_ramp, 0.0, 1.0)
        if strength <= 0.0 or opening < 0.6:
            return frame
        inner = landmarks[INNER_LIPS].astype(np.float64)
        box = _clip_box(inner.min(0) - 2, inner.max(0) + 3, frame)
        if box is None:
            return frame
        x0, y0, x1, y1 = box
        mask = _polygon_mask(inner - [x0, y0], (y1 - y0, x1 - x0))
        mask = cv2.GaussianBlur(mask, (0, 0), 0.7)

        width = np.linalg.norm(landmarks[64] - landmarks[60])
        xs = np.arange(x0, x1) + 0.5
        ys = (np.arange(y0, y1) + 0.5)[:, None]
        upper = np.interp(xs, inner[[0, 1, 2, 3, 4], 0], inner[[0, 1, 2, 3, 4], 1])
        lower = np.interp(xs, inner[[0, 7, 6, 5, 4], 0], inner[[0, 7, 6, 5, 4], 1])
        gap = np.maximum(lower - upper, 1e-3)
        depth = np.clip((ys - upper) / gap, 0, 1)  # 0 at upper lip, 1 at lower lip
        # teeth fade towards the corners, where the cheeks shade the mouth
        across = np.clip(
            np.abs(xs - (inner[0, 0] + inner[4, 0]) / 2) / max(width / 2, 1e-3), 0, 1
        )
        corner_shade = np.cos(across * np.pi / 2) ** 0.7
        upper_teeth = np.clip(ys - upper, 0, None) < np.minimum(0.5 * gap, 0.11 * width)
        lower_teeth = (
            np.clip(lower - ys, 0, None) < np.minimum(0.25 * gap, 0.06 * width)
        ) & (opening > 0.12 * width)
        brightness = min(1.1, max(0.45, self.skin_rgb.mean() / 165.0))
        # dark throat in the middle, the tongue's colour rising from the lower lip
        tongue = np.clip((depth - 0.55) / 0.45, 0, 1)[..., None]
        cavity = (
            self.lip_rgb
            * (0.18 + 0.3 * tongue)
            * (0.6 + 0.4 * corner_shade)[None, :, None]
        )
        teeth = TEETH_RGB * brightness * (0.5 + 0.5 * corner_shade)[None, :, None]
        teeth_alpha = (upper_teeth * 0.95 + lower_teeth * 0.75) * corner_shade[None, :]
        interior = cavity + teeth_alpha[..., None] * (teeth - cavity)
        region = frame[y0:y1, x0:x1].astype(np.float32)
        out = frame.copy()
        alpha = (strength * mask)[..., None]
        out[y0:y1, x0:x1] = np.clip(
            region + alpha * (interior - region), 0, 255
        ).astype(np.uint8)
        return out
