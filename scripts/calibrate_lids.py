"""How shut does dlib read the eyelids the renderer draws? (Blink analysis in docs/results.md.)

    python scripts/calibrate_lids.py ../shared/data/grid [--renderer warp|sinha|atvgnet]

Blink closure is defined in the detector's units: closure c means the eye aspect ratio dlib
reports falls to 1 - (1 - SHUT_EAR_RATIO) * c of the open eye's (motion/params.py), as the
blink generator learned from dlib's landmarks on real video. For each face (the first frame of
GRID clips of s1, s26 and s31, and the bundled sample face) this draws the lids at drawn
closures 0..1 with the default motion model and the chosen renderer (no speech, still head),
re-reads the rendered photo with dlib, and prints the EAR ratio to the open eye beside what the
closure means (2026-12-01, warp: lids drawn by moving landmarks read as meant up to closure
0.6, then stayed near 0.6 where a real shut eye reads 0.45; with the painted lids, 0.51-0.57 at
closures 0.8-1; since 2026-12-04, the lash line in the eye's darkest colour, 0.47-0.51).
"""

import argparse

import numpy as np

import talkface
from talkface.face.detect import detect_faces
from talkface.face.landmarks import detect_landmarks, eye_aspect_ratio
from talkface.io.image import load_image
from talkface.io.video import read_video
from talkface.motion.params import closure_to_ear
from talkface.types import Motion

DRAWN = np.linspace(0, 1, 11)
CLIPS = [  # first frames of two GRID clips per speaker
    "s1/bbas2p.mp4",
    "s1/bgaa7s.mp4",
    "s26/bgbsza.mp4",
    "s26/bwaq8s.mp4",
    "s31/bgiq6p.mp4",
    "s31/bgix8n.mp4",
]


def read_ratios(pipe, photo: np.ndarray) -> np.ndarray:
    """dlib's EAR of the rendered photo at each DRAWN closure, over the open eye's."""
    face = pipe.prepare_face(photo)
    n = len(DRAWN)
    motion = Motion(np.zeros((n, 68, 2), np.float32), DRAWN.astype(np.float32), 25.0)
    render = pipe.render(face, motion)
    ears = []
    for i in range(n):
        frame = render(i)
        box = max(detect_faces(frame), key=lambda b: b.area)
        ears.append(eye_aspect_ratio(detect_landmarks(frame, box)[None])[0])
    return np.array(ears) / ears[0]


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("grid")
parser.add_argument(
    "--renderer", default="warp", help="warp, sinha, atvgnet or a checkpoint"
)
args = parser.parse_args()

pipe = talkface.load_pipeline(renderer=args.renderer)
photos = {"sample": load_image(talkface.sample_paths()[0])}
for clip in CLIPS:
    photos[clip] = read_video(f"{args.grid}/{clip}")[0][0]
curves = {name: read_ratios(pipe, photo) for name, photo in photos.items()}
meant = closure_to_ear(DRAWN, 1.0)
print("| drawn closure | " + " | ".join(curves) + " | mean | a closure's meaning |")
print("|---" * (len(curves) + 3) + "|")
mean = np.mean(list(curves.values()), axis=0)
for i, c in enumerate(DRAWN):
    cells = " | ".join(f"{curve[i]:.2f}" for curve in curves.values())
    print(f"| {c:.1f} | {cells} | {mean[i]:.2f} | {meant[i]:.2f} |")
