"""The first step of every pipeline: find the face in the photo and cut its aligned crop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.face.align import FaceCrop, crop_face, native_crop_size
from talkface.io.image import load_image


@dataclass(frozen=True)
class PreparedFace:
    """The photo (padded to even size) and its aligned crop."""

    photo: np.ndarray  # (H, W, 3) uint8, H and W even
    crop: FaceCrop
    landmarks: np.ndarray  # (68, 2) in photo pixels


def prepare_face(
    image: str | Path | np.ndarray,
    face: int = 0,
    crop_size: int | None = None,
) -> PreparedFace:
    """Detect the face, find its 68 landmarks and cut the aligned crop (at the face's own
    resolution unless `crop_size` is given)."""
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    photo = even_size(load_image(image))
    boxes = detect_faces(photo)
    name = image if not isinstance(image, np.ndarray) else "the image"
    if not boxes:
        raise TalkfaceError(f"no face found in {name}")
    if face >= len(boxes):
        raise TalkfaceError(
            f"face {face} requested but only {len(boxes)} face(s) found in {name}"
        )
    landmarks = detect_landmarks(photo, boxes[face])
    size = crop_size or native_crop_size(landmarks)
    return PreparedFace(photo, crop_face(photo, landmarks, size), landmarks)


def even_size(photo: np.ndarray) -> np.ndarray:
    """Pad to even height and width (H.264 yuv420p needs them) by repeating the last row/col."""
    h, w = photo.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return photo
    return np.pad(photo, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
