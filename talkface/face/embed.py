"""128-d face embedding with dlib's ResNet descriptor (identity distance, ACD)."""

from __future__ import annotations

import numpy as np

from talkface.face.backend import dlib_module, face_encoder, shape_predictor
from talkface.face.detect import FaceBox


def face_embedding(image: np.ndarray, box: FaceBox) -> np.ndarray:
    """(128,) float32 descriptor of the face in `box`, aligned by its 68 landmarks.

    Same-identity distances are typically below 0.6 (dlib's threshold); see metrics.md 2.5.
    """
    rect = dlib_module().rectangle(
        int(box.left), int(box.top), int(box.right), int(box.bottom)
    )
    shape = shape_predictor()(image, rect)
    return np.array(
        face_encoder().compute_face_descriptor(image, shape), dtype=np.float32
    )
