import numpy as np
import pytest

from talkface.face.landmarks import INNER_LIPS
from talkface.render.warp import WarpRenderer, mesh_triangles


@pytest.fixture(scope="module")
def crop(face_photo):
    from talkface.face.align import crop_face
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    landmarks = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    return crop_face(face_photo, landmarks, 256)


def test_mesh_covers_the_crop_with_a_separate_mouth_interior():
    triangles = mesh_triangles(256)
    assert triangles.max() == 68 + 16 - 1  # every landmark and border anchor is used
    inner = set(INNER_LIPS.tolist())
    assert sum(all(v in inner for v in t) for t in triangles) >= 4


def test_unmoved_landmarks_keep_the_face(crop):
    renderer = WarpRenderer(crop)
    frame = renderer.warp(crop.landmarks)
    assert np.abs(frame.astype(int) - crop.image).mean() < 0.5


def test_opening_the_jaw_moves_the_chin_and_paints_a_dark_mouth(crop):
    renderer = WarpRenderer(crop)
    target = crop.landmarks.copy()
    width = np.linalg.norm(target[54] - target[48])
    drop = 0.35 * width
    lower = [5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67]
    target[lower, 1] += drop
    frame = renderer(target)
    mouth = np.zeros(frame.shape[:2], np.uint8)
    import cv2

    cv2.fillPoly(mouth, [np.round(target[INNER_LIPS]).astype(np.int32)], 1)
    inside = frame[mouth.astype(bool)].astype(float)
    # a dark cavity with bright teeth near the upper lip
    assert np.median(inside.mean(1)) < 0.6 * np.median(
        crop.image.reshape(-1, 3).mean(1)
    )
    assert inside.mean(1).max() > 150
    # the chin moved down by about the drop: the image below the old chin changed a lot
    chin = crop.landmarks[8].astype(int)
    below = (slice(chin[1], chin[1] + int(drop)), slice(chin[0] - 5, chin[0] + 5))
    assert np.abs(frame[below].astype(int) - crop.image[below]).mean() > 10
