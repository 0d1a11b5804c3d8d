"""Render GRID clips with their *real* motion: the floor the renderer and measurement set.

    python scripts/oracle_motion.py --speaker s31

Each clip's own canonical displacements (from `talkface preprocess` output in --cache) drive
the warp renderer from the clip's first frame; mouth LMD and opening correlation against the
real video are measured as in the GRID protocol (talkface.eval.protocol), next to the
static baseline.
"""

import argparse

import numpy as np

import talkface
from talkface.data.landmarks import MOTION_KEYS, clip_displacements, load_split
from talkface.data.preprocess import track_landmarks
from talkface.eval.metrics import lmd, opening_correlation
from talkface.io.video import read_video
from talkface.motion.stage import SPEECH_POINTS
from talkface.types import Motion

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--cache", default="cache/grid")
parser.add_argument("--grid", default="../shared/data/grid")
parser.add_argument("--speaker", default="s31")
parser.add_argument("--split", default="val")
args = parser.parse_args()

pipe = talkface.load_pipeline()
rows = []
for clip in load_split(
    args.cache, args.split, speakers=(args.speaker,), keys=MOTION_KEYS
):
    real, fps = read_video(f"{args.grid}/{args.speaker}/{clip['name']}.mp4")
    face = pipe.prepare_face(real[0])
    motion = np.zeros_like(clip_displacements(clip))
    motion[:, SPEECH_POINTS] = clip_displacements(clip)[
        :, SPEECH_POINTS
    ]  # what the pipeline animates
    render = pipe.render(face, Motion(motion, np.zeros(len(motion), np.float32), fps))
    fake = track_landmarks(np.stack([render(i) for i in range(len(motion))]))
    truth = clip["landmarks"]
    rows.append(
        (
            lmd(truth, fake),
            lmd(truth, np.repeat(truth[:1], len(truth), 0)),
            opening_correlation(truth, fake),
        )
    )
oracle, static, corr = np.mean(rows, axis=0)
print(
    f"{args.speaker} {args.split}: {len(rows)} clips, oracle LMD {oracle:.3f}, static {static:.3f}, "
    f"ratio {oracle / static:.3f}, opening corr {corr:.3f}"
)
