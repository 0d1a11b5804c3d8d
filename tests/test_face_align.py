import numpy as np
import pytest

from talkface.face.align import (
    MIRROR,
    PasteBack,
    apply_affine,
    crop_face,
    invert_affine,
    mean_face,
    native_crop_size,
    paste_mask,
    similarity_transform,
    to_canonical,
)


def _similarity(angle, scale, tx, ty):
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    return np.array([[c, -s, tx], [s, c, ty]])


def test_similarity_recovers_a_known_transform():
    points = np.random.default_rng(0).uniform(0, 100, (30, 2))
    truth = _similarity(0.3, 1.7, 12.0, -5.0)
    np.testing.assert_allclose(
        similarity_transform(points, apply_affine(truth, points)), truth, atol=1e-9
    )
    np.testing.assert_allclose(
        invert_affine(truth) @ np.vstack([truth, [0, 0, 1]]), np.eye(3)[:2], atol=1e-12
    )


def test_mean_face_is_a_symmetric_unit_square_face():
    m = mean_face()
    assert m.shape == (68, 2) and (m > 0).all() and (m < 1).all()
    mirrored = m[MIRROR].copy()
    mirrored[:, 0] = 1 - mirrored[:, 0]
    np.testing.assert_allclose(mirrored, m, atol=1e-5)
    assert MIRROR[MIRROR].tolist() == list(range(68))


def test_canonical_is_invariant_to_position_rotation_and_size():
    face = mean_face() * 200 + np.random.default_rng(1).normal(0, 1, (68, 2))
    moved = apply_affine(_similarity(-0.4, 2.5, 300, 40), face)
    np.testing.assert_allclose(to_canonical(moved), to_canonical(face), atol=1e-5)
    np.testing.assert_allclose(
        to_canonical(mean_face() * 300 + 7), mean_face(), atol=1e-5
    )


def test_crop_then_paste_back_restores_the_photo(face_photo):
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    landmarks = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    size = native_crop_size(landmarks)
    assert 128 <= size <= 512 and size % 16 == 0
    crop = crop_face(face_photo, landmarks, size)
    # landmarks land on the mean face in the crop
    assert (
        np.abs(crop.landmarks[27:48] - mean_face()[27:48] * size).mean() < 0.05 * size
    )
    mask = paste_mask(crop.landmarks, size)
    restored = PasteBack(face_photo, crop.to_crop, mask)(crop.image)
    assert restored.shape == face_photo.shape
    # outside the mask: untouched, bit for bit; inside: equal up to two bilinear resamplings
    region = np.zeros(face_photo.shape[:2], bool)
    x0, y0 = landmarks.min(0).astype(int)
    x1, y1 = landmarks.max(0).astype(int)
    region[y0:y1, x0:x1] = True
    assert np.abs(restored.astype(int) - face_photo)[region].mean() < 3.0
    far = np.ones_like(region)
    far[max(y0 - 150, 0) : y1 + 150, max(x0 - 150, 0) : x1 + 150] = False
    np.testing.assert_array_equal(restored[far], face_photo[far])


def test_paste_back_of_a_changed_crop_changes_the_face(face_photo):
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    landmarks = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    crop = crop_face(face_photo, landmarks, 256)
    out = PasteBack(face_photo, crop.to_crop, paste_mask(crop.landmarks, 256))(
        np.zeros_like(crop.image)
    )
    nose = landmarks[30].astype(int)
    assert out[nose[1], nose[0]].max() < 10  # the face centre is now the (black) crop


@pytest.mark.parametrize("size", [64, 300])
def test_mask_is_zero_at_the_crop_border(size):
    mask = paste_mask(mean_face() * size, size)
    assert mask.max() > 0.99
    assert (
        mask[0].max() == 0
        and mask[-1].max() == 0
        and mask[:, 0].max() == 0
        and mask[:, -1].max() == 0
    )


def _posed_landmarks(yaw=0.0, pitch=0.0, roll=0.0, size=512):
    """Project the pose model's points, turned by known angles, through the pinhole camera."""
    from talkface.face.pose import MODEL_POINTS, POSE_POINTS

    model = MODEL_POINTS * np.array([1.0, -1.0, -1.0])  # camera frame: y down, z away
    y, p, r = np.radians([-yaw, -pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    points = model @ (rz @ ry @ rx).T + [0, 0, 600.0]
    landmarks = np.zeros((1, 68, 2))
    landmarks[0, POSE_POINTS] = points[:, :2] / points[:, 2:] * size + size / 2
    return landmarks


def test_head_pose_recovers_each_angle_with_its_sign():
    from talkface.face.pose import head_pose

    for axis, angle in [(0, 20.0), (1, -15.0), (2, 10.0)]:
        angles = [0.0, 0.0, 0.0]
        angles[axis] = angle
        pose = head_pose(_posed_landmarks(*angles), (512, 512))[0]
        np.testing.assert_allclose(pose[:3], angles, atol=0.5)
        assert abs(pose[5] - 600) < 5  # distance from the camera, mm
    # turned to the image's right: the nose tip moves right of the eyes' midpoint
    lm = _posed_landmarks(yaw=20.0)[0]
    assert lm[30, 0] > lm[[36, 45], 0].mean()


def test_head_pose_of_the_frontal_sample_and_missing_frames(face_photo):
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks
    from talkface.face.pose import head_pose

    lm = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    pose = head_pose(np.stack([lm, np.full_like(lm, np.nan)]), face_photo.shape[:2])
    yaw, pitch, roll = pose[0, :3]
    assert abs(yaw) < 10 and abs(roll) < 10 and np.isnan(pose[1]).all()
    assert abs(pitch) < 30  # the generic head's depths bias pitch per person
