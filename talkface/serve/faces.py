"""What the page shows as soon as a photo is chosen: the faces found, with their landmarks."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from talkface.face.detect import FaceBox, detect_faces
from talkface.face.landmarks import detect_landmarks
from talkface.face.prepare import even_size

PREVIEW_SIDE = 480  # px: the longer side of the preview PNG
MARGIN = 0.6  # of the faces' box size, shown around them
MAX_ZOOM = 4.0  # a tiny photo is not blown up further
BOX_COLOUR = (0, 200, 255)
POINT_COLOUR = (255, 60, 60)


@dataclass(frozen=True)
class FoundFace:
    box: FaceBox  # photo pixels
    landmarks: np.ndarray  # (68, 2) float32 photo pixels (iBUG 300-W order)


def find_faces(photo: np.ndarray) -> list[FoundFace]:
    """Every face in an (H, W, 3) uint8 photo, largest first: index i is `face=i` of a job."""
    # the pipeline pads to even size before detecting (face.prepare): detect on the same pixels
    photo = even_size(photo)
    return [FoundFace(box, detect_landmarks(photo, box)) for box in detect_faces(photo)]


def preview_png(photo: np.ndarray, faces: list[FoundFace]) -> bytes:
    """The part of the photo around the faces, scaled to PREVIEW_SIDE px on its longer side
    (faces are small in most photos: the landmarks must be visible), each face's box labelled
    with its index and its 68 landmarks drawn as dots; PNG bytes."""
    from PIL import Image, ImageDraw

    boxes = np.array(
        [[f.box.left, f.box.top, f.box.right, f.box.bottom] for f in faces]
    )
    (left, top), (right, bottom) = boxes[:, :2].min(0), boxes[:, 2:].max(0)
    margin = MARGIN * max(right - left, bottom - top)
    h, w = photo.shape[:2]
    region = np.array(
        [
            max(0, left - margin),
            max(0, top - margin),
            min(w, right + margin),
            min(h, bottom + margin),
        ]
    ).round()
    scale = min(MAX_ZOOM, PREVIEW_SIDE / (region[2:] - region[:2]).max())
    image = Image.fromarray(photo).resize(
        (
            round((region[2] - region[0]) * scale),
            round((region[3] - region[1]) * scale),
        ),
        Image.Resampling.LANCZOS,
        box=tuple(region),
    )
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 250))
    for index, face in enumerate(faces):
        box = (boxes[index] - np.tile(region[:2], 2)) * scale
        # dots sized to the face, so that 68 of them never blot it out
        radius = max(1.0, (box[2] - box[0]) / 80)
        draw.rectangle(box.tolist(), outline=BOX_COLOUR, width=line)
        size = 10 * line
        draw.text(
            (box[0], max(0, box[1] - size - line)),
            str(index),
            fill=BOX_COLOUR,
            font_size=size,
        )
        for x, y in (face.landmarks - region[:2]) * scale:
            draw.ellipse(
                (x - radius, y - radius, x + radius, y + radius), fill=POINT_COLOUR
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
