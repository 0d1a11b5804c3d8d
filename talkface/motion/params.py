"""The one motion representation every motion model predicts, per video frame:

    speech and expression  canonical (mean-face) landmark displacements from the neutral face,
                           coded by a PCA basis fitted on GRID s1 `train` (99% of the variance;
                           assets/motion_basis.npz, scripts/make_motion_basis.py)
    eyelids                closure in [0, 1] (0 open, 1 shut)
    head pose              yaw, pitch, roll in degrees and tx, ty in canonical units (the mean
                           face's unit square; the face is about 0.5 wide), relative to
                           the clip's (or the photo's) own median pose

`clip_motion(clip)` extracts all three from a preprocessed clip; `apply_head_pose` puts the pose
back onto a person's landmarks; retargeting the displacements is `motion.retarget`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy.ndimage import gaussian_filter1d

from talkface.face.align import mean_face, similarity_transform
from talkface.face.landmarks import JAW, STABLE

POSE_SMOOTHING = (
    3.0  # frames (Gaussian sigma): temporal smoothing of measured head pose
)
BASIS_VARIANCE = 0.99  # share of the displacement variance the shipped basis keeps
# eye aspect ratio of shut lids relative to open ones: dlib's lid points never quite meet
SHUT_EAR_RATIO = 0.45


@dataclass(frozen=True)
class MotionBasis:
    """PCA of (N_points, 2) canonical displacements (all 68 points for the shipped basis):
    coefficients are whitened (unit variance)."""

    components: np.ndarray  # (K, 2 N_points) orthonormal rows
    mean: np.ndarray  # (2 N_points,)
    scale: np.ndarray  # (K,) standard deviation of each component

    def __len__(self) -> int:
        return len(self.components)

    def encode(self, displacements: np.ndarray) -> np.ndarray:
        """(..., N_points, 2) -> (..., K) float32 whitened coefficients."""
        flat = displacements.reshape(*displacements.shape[:-2], -1) - self.mean
        return ((flat @ self.components.T) / self.scale).astype(np.float32)

    def decode(self, coefficients: np.ndarray) -> np.ndarray:
        """(..., k) whitened coefficients of the first k <= K components -> (..., N_points, 2)
        float32 displacements (the other components at zero)."""
        k = coefficients.shape[-1]
        flat = (coefficients * self.scale[:k]) @ self.components[:k] + self.mean
        return flat.reshape(*flat.shape[:-1], -1, 2).astype(np.float32)


def fit_motion_basis(
    displacements: np.ndarray, variance: float = BASIS_VARIANCE, max_k: int = 136
) -> MotionBasis:
    """The fewest principal components (at most max_k) of (N, N_points, 2) displacements
    that keep `variance`."""
    flat = displacements.reshape(len(displacements), -1).astype(np.float64)
    mean = flat.mean(0)
    _, s, vt = np.linalg.svd(flat - mean, full_matrices=False)
    explained = np.cumsum(s**2) / np.sum(s**2)
    k = min(int(np.searchsorted(explained, variance) + 1), max_k)
    std = s[:k] / np.sqrt(len(flat) - 1)
    return MotionBasis(
        vt[:k].astype(np.float32), mean.astype(np.float32), std.astype(np.float32)
    )


@functools.cache
def load_motion_basis() -> MotionBasis:
    """The shipped basis (GRID s1 `train`, 99% variance)."""
    with (
        resources.files("talkface.assets").joinpath("motion_basis.npz").open("rb") as f
    ):
        z = np.load(f)
        return MotionBasis(z["components"], z["mean"], z["scale"])


def save_motion_basis(basis: MotionBasis, path) -> None:
    np.savez(path, components=basis.components, mean=basis.mean, scale=basis.scale)


# -- eyelids -----------------------------------------------------------------------------------


def eyelid_closure(ear: np.ndarray) -> np.ndarray:
    """(T,) closure in [0, 1] from an eye-aspect-ratio trace: 0 at the trace's typical
    (median) opening, 1 when the ratio falls to SHUT_EAR_RATIO of it."""
    open_ear = np.median(ear)
    closure = (open_ear - ear) / (open_ear * (1 - SHUT_EAR_RATIO))
    return np.clip(closure, 0, 1).astype(np.float32)


def closure_to_ear(closure: np.ndarray, open_ear: float = 0.3) -> np.ndarray:
    """The eye aspect ratio dlib reports for a closure (the inverse of eyelid_closure): how
    blink detectors see the eyes that close_eyelids draws."""
    return (open_ear * (1 - (1 - SHUT_EAR_RATIO) * np.asarray(closure))).astype(
        np.float32
    )


# -- head pose ---------------------------------------------------------------------------------


def head_pose(landmarks: np.ndarray, pnp_pose: np.ndarray) -> np.ndarray:
    """(T, 5) pose relative to the clip's median: yaw and pitch from the perspective-n-point
    fit (face.pose, good to a few degrees in change), roll and translation from the similarity
    of the stable points to the mean face (more precise in the image plane)."""
    rolls, centres, units = [], [], []
    reference = mean_face()[STABLE]
    for frame in landmarks:
        m = similarity_transform(reference, frame[STABLE])  # mean face -> frame pixels
        scale = np.hypot(m[0, 0], m[1, 0])
        rolls.append(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
        units.append(scale)  # pixels per canonical unit
        centres.append(frame[STABLE].mean(0))
    centres = np.asarray(centres) / np.median(units)
    pose = np.column_stack(
        [pnp_pose[:, :2], np.asarray(rolls), centres]
    )  # yaw, pitch, roll (degrees), tx, ty (canonical units)
    # heads turn slowly; frame-to-frame changes are mostly landmark noise (yaw from the
    # generic-head fit jitters by ~4 degrees per frame on GRID)
    pose = gaussian_filter1d(pose, POSE_SMOOTHING, axis=0, mode="nearest")
    return (pose - np.median(pose, axis=0)).astype(np.float32)


# Rough depth of each landmark towards the camera, in face widths, relative to the eye corners:
# enough to turn small yaw and pitch into 2-D landmark motion (parallax) without a 3-D model.
_JAW = [-0.45, -0.42, -0.37, -0.3, -0.22, -0.14, -0.07, -0.02, 0.0]
_BROW = [-0.12, -0.05, 0.0, 0.03, 0.04]
# fmt: off
DEPTH = np.array(
    _JAW + _JAW[-2::-1]  # 0-16 jaw
    + _BROW + _BROW[::-1]  # 17-26 brows
    + [0.02, 0.08, 0.14, 0.2]  # 27-30 nose bridge to tip
    + [0.07, 0.1, 0.12, 0.1, 0.07]  # 31-35 nostrils
    + [-0.1, -0.04, -0.03, -0.03, -0.03, -0.04]  # 36-41 eye: outer corner first
    + [-0.03, -0.03, -0.04, -0.1, -0.04, -0.03]  # 42-47 eye: inner corner first
    + [-0.02, 0.05, 0.08, 0.09, 0.08, 0.05, -0.02, 0.05, 0.08, 0.09, 0.08, 0.05]  # 48-59
    + [0.0, 0.06, 0.06, 0.06, 0.0, 0.06, 0.06, 0.06],  # 60-67 inner lips
    np.float32,
)
# fmt: on


def apply_head_pose(landmarks: np.ndarray, pose: np.ndarray, unit: float) -> np.ndarray:
    """Move (T, 68, 2) pixel landmarks by (T, 5) relative head poses.

    Roll rotates about the nose bridge, yaw and pitch shift each point by its depth (parallax
    of a rigid head turning by a few degrees), tx and ty translate. `unit` is the pixels per
    canonical unit (the crop size for an aligned crop), the unit head_pose() measures in.
    """
    depth = DEPTH * unit * np.ptp(mean_face()[JAW, 0])  # (68,) pixels
    yaw, pitch, roll = np.radians(pose[:, :3]).T
    cos, sin = np.cos(roll)[:, None], np.sin(roll)[:, None]
    centre = landmarks[:, 27:31].mean(1, keepdims=True)
    x, y = (landmarks - centre).transpose(2, 0, 1)
    moved_x = cos * x - sin * y + np.sin(yaw)[:, None] * depth + pose[:, 3:4] * unit
    moved_y = sin * x + cos * y - np.sin(pitch)[:, None] * depth + pose[:, 4:5] * unit
    return (np.stack([moved_x, moved_y], -1) + centre).astype(np.float32)


def clip_motion(clip: dict, basis: MotionBasis | None = None) -> dict:
    """The motion targets of one preprocessed clip: {"coefficients" (T, K), "displacements"
    (T, 68, 2), "blink" (T,), "pose" (T, 5)}."""
    from talkface.data.landmarks import clip_displacements
    from talkface.face.landmarks import eye_aspect_ratio

    displacements = clip_displacements(clip)
    ear = clip["ear"] if "ear" in clip else eye_aspect_ratio(clip["landmarks"])
    out = {
        "displacements": displacements,
        "blink": eyelid_closure(ear),
        "pose": head_pose(clip["landmarks"], clip["pose"]),
    }
    if basis is not None:
        out["coefficients"] = basis.encode(displacements)
    return out
