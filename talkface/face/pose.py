"""Head pose from 2-D landmarks: a generic rigid 3-D face fitted by perspective-n-point.

Six well-localised points (nose tip, chin, outer eye corners, mouth corners) of an average
head (millimetres, x right, y up, z towards the camera) are fitted with OpenCV's solvePnP
under a pinhole camera whose focal length is the image width. Changes of pose over time are
good to a few degrees; absolute yaw and roll to about 10 degrees and absolute pitch only to
about 25 (the generic head's depths are not the person's): enough to follow head motion, to
filter clips by pose or to condition a model, not to measure gaze.
"""

from __future__ import annotations

import numpy as np

POSE_POINTS = np.array(
    [30, 8, 36, 45, 48, 54]
)  # nose tip, chin, eye corners, mouth corners
MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, -63.6, -12.5),
        (-43.3, 32.7, -26.0),
        (43.3, 32.7, -26.0),
        (-28.9, -28.9, -24.1),
        (28.9, -28.9, -24.1),
    ]
)


def head_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(T, 6) float32 yaw, pitch, roll (degrees) and translation (mm, camera frame).

    `landmarks` is (T, 68, 2) in pixels of an image of `image_size` = (height, width).
    Yaw is positive when the face turns to the image's right, pitch when it tilts up,
    roll when it rotates clockwise in the image. Frames with NaN landmarks give NaN.
    """
    import cv2

    height, width = image_size
    camera = np.array(
        [[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], dtype=np.float64
    )
    # image y points down and the model's y up: flip the model so solvePnP sees one frame
    model = MODEL_POINTS * np.array([1.0, -1.0, -1.0])
    out = np.full((len(landmarks), 6), np.nan, np.float32)
    for t, points in enumerate(np.asarray(landmarks, np.float64)):
        if not np.isfinite(points).all():
            continue
        ok, rvec, tvec = cv2.solvePnP(
            model, points[POSE_POINTS], camera, None, flags=cv2.SOLVEPNP_ITERATIVE
        )
        if ok:
            out[t, :3] = _euler_degrees(cv2.Rodrigues(rvec)[0])
            out[t, 3:] = tvec.ravel()
    return out


def _euler_degrees(rotation: np.ndarray) -> np.ndarray:
    """Yaw, pitch, roll of a camera-frame rotation (x right, y down, z away from the camera)."""
    pitch = np.degrees(np.arctan2(-rotation[2, 1], rotation[2, 2]))
    yaw = np.degrees(np.arcsin(np.clip(rotation[2, 0], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return np.array([yaw, pitch, roll])
