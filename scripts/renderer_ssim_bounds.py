"""How much face SSIM could a better renderer win over the warp renderer? Oracle upper bounds.

    python scripts/renderer_ssim_bounds.py --cache cache/grid --limit 5

The renderer protocol (talkface/eval/renderers.py: real landmarks, first frame as identity,
128 px aligned crops), with real pixels standing in for what a perfect model would draw: the
warp renderer's frame with the real mouth (lips' hull grown by 4 px), the real eyes (eye and
brow hull grown by 3 px) or both pasted in; the warp frame moved by the best sub-pixel shift
(-1.5..1.5 px in 0.5 px steps, every third frame: alignment jitter); and the warp frame's
colours fitted to the real frame (per channel gain and offset: lighting drift). One column is
no oracle but a warp that needs only the landmarks: the whole frame moved by the similarity
that takes the first frame's brows, eyes and nose to this frame's, the rest warped inside it
(the crops are aligned on the eyes and nose alone, so the face's residual motion in the crop
moves the warp renderer's pinned border too). No encoding: the SSIMs sit up to 0.004 below
the encoded table's.
"""

import argparse

import cv2
import numpy as np

from talkface.data.landmarks import load_split
from talkface.eval.image import ssim
from talkface.eval.renderers import CROP, RENDER_SETS, render_clip
from talkface.face.align import apply_affine, invert_affine, similarity_transform
from talkface.face.landmarks import BROWS, LEFT_EYE, MOUTH, RIGHT_EYE
from talkface.render.warp import WarpRenderer

SHIFTS = np.arange(-1.5, 1.51, 0.5)


def hull_mask(points: np.ndarray, grow: int) -> np.ndarray:
    mask = np.zeros((CROP, CROP), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1)
    return cv2.dilate(mask, np.ones((2 * grow + 1,) * 2, np.uint8)).astype(bool)


def pasted(frame: np.ndarray, real: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = frame.copy()
    out[mask] = real[mask]
    return out


def best_shift_ssim(frame: np.ndarray, real: np.ndarray) -> float:
    return max(
        ssim(
            cv2.warpAffine(
                frame,
                np.float32([[1, 0, dx], [0, 1, dy]]),
                (CROP, CROP),
                borderMode=cv2.BORDER_REPLICATE,
            ),
            real,
        )
        for dx in SHIFTS
        for dy in SHIFTS
    )


def colour_matched(frame: np.ndarray, real: np.ndarray) -> np.ndarray:
    out = np.empty(frame.shape, np.float64)
    for c in range(3):
        x = frame[..., c].ravel().astype(np.float64)
        gain, offset = np.polyfit(x, real[..., c].ravel().astype(np.float64), 1)
        out[..., c] = (gain * x + offset).reshape(frame.shape[:2])
    return np.clip(out, 0, 255).round().astype(np.uint8)


UPPER_FACE = np.arange(17, 48)  # brows, nose, eyes


def similarity_moved(crops: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Warp frames with the whole frame moved by the upper face's similarity to frame 0."""
    moves = [
        similarity_transform(landmarks[0][UPPER_FACE], lm[UPPER_FACE])
        for lm in landmarks.astype(np.float64)
    ]
    local = np.stack(
        [apply_affine(invert_affine(m), lm) for m, lm in zip(moves, landmarks)]
    ).astype(np.float32)
    return np.stack(
        [
            cv2.warpAffine(
                frame,
                m.astype(np.float32),
                (CROP, CROP),
                flags=cv2.INTER_CUBIC,
                borderMode=cv2.BORDER_REPLICATE,
            )
            for frame, m in zip(render_clip(WarpRenderer, crops, local), moves)
        ]
    )


def bounds(crops: np.ndarray, landmarks: np.ndarray) -> dict[str, list[float]]:
    warp = render_clip(WarpRenderer, crops, landmarks)
    rows = {
        k: [] for k in ("static", "warp", "+mouth", "+eyes", "+both", "colour", "shift")
    }
    rows["moved"] = [
        ssim(f, r) for f, r in zip(similarity_moved(crops, landmarks), crops)
    ]
    for t, (frame, real, lm) in enumerate(zip(warp, crops, landmarks)):
        mouth = hull_mask(lm[MOUTH], 4)
        eyes = hull_mask(lm[np.r_[RIGHT_EYE, BROWS[:5]]], 3) | hull_mask(
            lm[np.r_[LEFT_EYE, BROWS[5:]]], 3
        )
        rows["static"].append(ssim(crops[0], real))
        rows["warp"].append(ssim(frame, real))
        rows["+mouth"].append(ssim(pasted(frame, real, mouth), real))
        rows["+eyes"].append(ssim(pasted(frame, real, eyes), real))
        rows["+both"].append(ssim(pasted(frame, real, mouth | eyes), real))
        rows["colour"].append(ssim(colour_matched(frame, real), real))
        if t % 3 == 0:
            rows["shift"].append(best_shift_ssim(frame, real))
    return rows


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--cache", default="cache/grid")
parser.add_argument("--limit", type=int, default=5, help="clips per set")
args = parser.parse_args()

keys = (f"crop_{CROP}x{CROP}", f"crop_landmarks_{CROP}x{CROP}")
print(
    "| set | static | warp | warp + real mouth | warp + real eyes | warp + both "
    "| warp, best shift | warp, colours fitted | warp moved with the upper face |"
)
print("|---|---|---|---|---|---|---|---|---|")
for name, (speaker, split) in RENDER_SETS.items():
    clips = load_split(
        args.cache, split, speakers=(speaker,), keys=keys, limit=args.limit
    )
    rows = {}
    for clip in clips:
        for k, v in bounds(clip[keys[0]], clip[keys[1]]).items():
            rows.setdefault(k, []).extend(v)
    m = {k: np.mean(v) for k, v in rows.items()}
    print(
        f"| {name} | {m['static']:.3f} | {m['warp']:.3f} | {m['+mouth']:.3f} "
        f"| {m['+eyes']:.3f} | {m['+both']:.3f} | {m['shift']:.3f} | {m['colour']:.3f} "
        f"| {m['moved']:.3f} |"
    )
