"""Retarget canonical (mean-face) displacements onto a person's own landmarks (Sinha et al. eq. 1).

    l^p_t = l^p_N + S * R(delta l^m_t)

R and the uniform scale come from the rigid Procrustes alignment of the mean face onto the
person's neutral landmarks; S additionally stretches x and y by the ratio of the person's face
width and height to the mean face's, so a long face opens its jaw proportionally further.
"""

from __future__ import annotations

import numpy as np

from talkface.face.align import (
    apply_affine,
    invert_affine,
    mean_face,
    similarity_transform,
)
from talkface.face.landmarks import BROWS, JAW


def retarget_matrix(person: np.ndarray) -> np.ndarray:
    """(2, 2) linear map taking canonical displacements to the person's pixel displacements."""
    canonical = mean_face().astype(np.float64)
    to_person = similarity_transform(
        canonical, person
    )  # rigid Procrustes + uniform scale
    in_canonical = apply_affine(invert_affine(to_person), person)

    def extent(shape: np.ndarray) -> np.ndarray:
        face = np.concatenate([JAW, BROWS])
        return np.ptp(shape[face], axis=0)

    stretch = extent(in_canonical) / extent(canonical)  # (sx, sy)
    return to_person[:, :2] @ np.diag(stretch)


def retarget(displacements: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Person landmarks per frame.

    Args:
        displacements: (T, 68, 2) canonical displacements from the neutral face.
        person: (68, 2) the person's neutral landmarks, in any pixel frame (e.g. crop pixels).
    Returns:
        (T, 68, 2) float32 landmarks in the same pixel frame as `person`.
    """
    linear = retarget_matrix(person)
    return (person[None] + displacements @ linear.T).astype(np.float32)
