"""Find faces in a photo with dlib's HOG detector."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from talkface.face.backend import face_detector

MIN_SCORE = -0.2  # weaker HOG detections are mostly false positives on textures
SURE_SCORE = 0.5  # a detection this strong is a face
SCORE_MARGIN = 1.0  # a weaker one counts only within this margin of the best face
# dlib's detector is one object per process and not thread-safe: two threads inside run() at
# once crash the process (it releases the GIL). Threaded callers (the web app) are safe.
_DETECTOR_LOCK = threading.Lock()


@dataclass(frozen=True)
class FaceBox:
    """An axis-aligned face box in image pixels, with the detector's confidence."""

    left: float
    top: float
    right: float
    bottom: float
    score: float

    @property
    def area(self) -> float:
        return (self.right - self.left) * (self.bottom - self.top)


def detect_faces(image: np.ndarray, upsample: int | None = None) -> list[FaceBox]:
    """Detect faces in an (H, W, 3) uint8 RGB image, largest first.

    Weak detections (badges, patterns) are dropped unless they score close to the best face.

    Small images are searched at 2x (HOG finds faces of about 80 px and up); large ones are
    searched on a downscaled copy so detection stays fast, and boxes are mapped back.
    """
    detector = face_detector()
    height, width = image.shape[:2]
    scale = 1.0
    work = image
    if max(height, width) > 1024:
        import cv2

        scale = 1024 / max(height, width)
        work = cv2.resize(
            image,
            (round(width * scale), round(height * scale)),
            interpolation=cv2.INTER_AREA,
        )
    if upsample is None:
        upsample = 1 if max(work.shape[:2]) < 640 else 0
    with _DETECTOR_LOCK:
        rects, scores, _ = detector.run(work, upsample, MIN_SCORE)
    best = max(scores, default=0.0)
    boxes = [
        FaceBox(
            r.left() / scale,
            r.top() / scale,
            r.right() / scale,
            r.bottom() / scale,
            float(s),
        )
        for r, s in zip(rects, scores)
        if s >= SURE_SCORE or s >= best - SCORE_MARGIN
    ]
    return sorted(boxes, key=lambda b: b.area, reverse=True)
