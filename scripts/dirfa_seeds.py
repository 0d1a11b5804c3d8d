"""How much DIRFA's motion differs across seeds, and how much its lips do.

    python scripts/dirfa_seeds.py ../shared/data/grid --speaker s31 --seeds 5

For each clip of the speaker (its first frame as the photo, its audio as the speech) the
pipeline's motion step runs once per seed; reported per clip and on average: the spread across
seeds (standard deviation over seeds, averaged over frames) of head yaw, pitch and roll
(degrees), of the brow points (canonical units x 100) and of the lips and jaw (the same units),
and the number of blinks per seed.
"""

import argparse

import numpy as np

import talkface
from talkface.eval.blinks import detect_blinks
from talkface.eval.protocol import grid_clips
from talkface.face.landmarks import BROWS
from talkface.io.audio import load_audio
from talkface.io.video import read_video
from talkface.motion.params import closure_to_ear
from talkface.motion.stage import SPEECH_POINTS
from talkface.pipelines.options import GenerateOptions

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("grid", help="../shared/data/grid")
parser.add_argument("--speaker", default="s31")
parser.add_argument("--split", default="val")
parser.add_argument("--seeds", type=int, default=5)
parser.add_argument("--limit", type=int, default=10)
parser.add_argument("--model", default="dirfa-grid")
args = parser.parse_args()

pipe = talkface.load_pipeline(args.model)
rows = []
for video in grid_clips(args.grid, args.speaker, args.split)[: args.limit]:
    frames, fps = read_video(video)
    face = pipe.prepare_face(frames[0])
    wav = load_audio(video)
    runs = [
        pipe.motion(wav, face, GenerateOptions(fps=fps, seed=s))
        for s in range(args.seeds)
    ]
    pose = np.stack([m.pose for m in runs])  # (seeds, T, 5)
    brows = np.stack([m.displacements[:, BROWS] for m in runs]) * 100
    lips = np.stack([m.displacements[:, SPEECH_POINTS] for m in runs]) * 100
    blinks = [len(detect_blinks(closure_to_ear(m.blink))) for m in runs]
    row = [
        *pose[..., :3].std(0).mean(0),  # yaw, pitch, roll
        brows.std(0).mean(),
        lips.std(0).mean(),
        np.std(blinks),
    ]
    rows.append(row)
    print(video.stem, " ".join(f"{v:.3f}" for v in row), "blinks per seed", blinks)
mean = np.mean(rows, 0)
print(
    f"{args.model} {args.speaker}, {len(rows)} clips x {args.seeds} seeds - spread across seeds: "
    f"yaw {mean[0]:.2f} deg, pitch {mean[1]:.2f} deg, roll {mean[2]:.2f} deg, "
    f"brows {mean[3]:.3f}, lips+jaw {mean[4]:.4f} (canonical x100), blink count sd {mean[5]:.2f}"
)
