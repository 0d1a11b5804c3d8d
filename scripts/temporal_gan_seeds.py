"""Does the temporal GAN's noise change anything? Spontaneous motion across seeds.

    python scripts/temporal_gan_seeds.py ../shared/data/grid --model temporal-gan-grid

The paper's noise generator is there for spontaneous expressions (blinks, brows); a generator
that ignores its noise makes the same video for every seed. For each clip (its first frame as
the still, its audio as the speech) the generated crops of two seeds are compared: mean
absolute difference in grey levels (0-255) of the upper and of the lower half, and how much the
upper half changes over time within one seed (standard deviation over frames, mean over pixels),
next to the same for the real video's crops (each frame aligned like the still). Noise can also
show up as speckle instead of motion: the upper half's detail (mean absolute Laplacian) in the
most detailed frame, against the still's, flags clips where it rises more than 30%.
"""

import argparse

import cv2
import numpy as np

import talkface
from talkface.eval.protocol import grid_clips
from talkface.face.align import crop_face
from talkface.io.audio import load_audio
from talkface.io.video import read_video
from talkface.pipelines.options import GenerateOptions

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("grid", help="../shared/data/grid")
parser.add_argument("--model", default="temporal-gan-grid", help="name or checkpoint")
parser.add_argument("--speakers", nargs="+", default=["s1", "s31"])
parser.add_argument("--limit", type=int, default=3, help="clips per speaker")
args = parser.parse_args()


def detail(upper: np.ndarray) -> float:
    """Mean absolute Laplacian of an (H, W, 3) image's grey levels."""
    grey = cv2.cvtColor(upper.astype(np.float32), cv2.COLOR_RGB2GRAY)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean())


pipe = talkface.load_pipeline(args.model)
rows = []
for speaker in args.speakers:
    split = "test" if speaker == "s1" else "val"
    for video in grid_clips(args.grid, speaker, split)[: args.limit]:
        frames, fps = read_video(video)
        face = pipe.prepare_face(frames[0])
        wav = load_audio(video)
        a, b = (
            pipe.frames(face, wav, GenerateOptions(fps=fps, seed=s)).all().astype(float)
            for s in (0, 1)
        )
        size, half = a.shape[1], a.shape[1] // 2
        real = np.stack(
            [crop_face(f, pipe.prepare_face(f).landmarks, size).image for f in frames]
        ).astype(float)
        rows.append(
            [
                np.abs(a[:, :half] - b[:, :half]).mean(),
                np.abs(a[:, half:] - b[:, half:]).mean(),
                a[:, :half].std(0).mean(),
                real[:, :half].std(0).mean(),
                max(detail(f[:half]) for f in a) / detail(a[0, :half]),
            ]
        )
upper, lower, over_time, real_over_time, _ = np.mean(rows, 0)
speckle = np.array(rows)[:, 4]
print(
    f"{args.model}, {len(rows)} clips: seed 0 vs 1 differ by {upper:.3f} grey levels in the "
    f"upper half, {lower:.3f} in the lower; over time the upper half changes by "
    f"{over_time:.2f} (real video: {real_over_time:.2f}); upper-face detail peaks at "
    f"{speckle.max():.2f}x the first frame's, more than 1.3x in {(speckle > 1.3).sum()} clips"
)
