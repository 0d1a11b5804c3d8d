"""Where do a temporal GAN's blinks go between its crops and the video a user gets?

    python scripts/temporal_gan_paste_blinks.py ../shared/data/grid runs/tg-x/last.pt \
        --speaker s31 --limit 10 --seeds protocol

For each clip (its first frame as the photo, its own audio) the pipeline's generated crops are
counted three times by the protocol's EAR detector: in the crops (one dlib box for all, as the
training log's validation counts them), in the whole frames after the paste back into the
photo (dlib tracked as the protocol tracks it), and in those frames after talkface's H.264
writer (what the protocol measures). `--seeds protocol` uses each clip's protocol seed; a
comma-separated list of numbers draws each clip with each of them.
"""

import argparse

import numpy as np

import talkface
from talkface.data.preprocess import track_landmarks
from talkface.eval.blinks import detect_blinks
from talkface.eval.protocol import clip_seed, grid_clips
from talkface.eval.runner import reencoded
from talkface.face.landmarks import eye_aspect_ratio
from talkface.io.audio import load_audio
from talkface.io.video import read_video
from talkface.pipelines.options import GenerateOptions
from talkface.train.temporal_gan import crop_ear

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("grid", help="../shared/data/grid")
parser.add_argument("model", help="temporal GAN checkpoint or shipped name")
parser.add_argument("--speaker", default="s31")
parser.add_argument("--limit", type=int, default=10)
parser.add_argument("--seeds", default="protocol", help='"protocol" or e.g. "0,1"')
args = parser.parse_args()

pipe = talkface.load_pipeline(args.model)
split = "test" if args.speaker == "s1" else "val"
counts, seconds = np.zeros(3, int), 0.0
print("| clip | seed | in crops | pasted | pasted + H.264 |")
print("|---|---|---|---|---|")
for video in grid_clips(args.grid, args.speaker, split)[: args.limit]:
    frames, fps = read_video(video)
    face = pipe.prepare_face(frames[0])
    wav = load_audio(video)
    seeds = (
        [clip_seed(video)]
        if args.seeds == "protocol"
        else [int(s) for s in args.seeds.split(",")]
    )
    paste = pipe.paste(face)
    for seed in seeds:
        crops = pipe.frames(face, wav, GenerateOptions(fps=fps, seed=seed)).all()
        whole = np.stack([paste(c) for c in crops])
        traces = [
            crop_ear(crops),
            eye_aspect_ratio(track_landmarks(whole)),
            eye_aspect_ratio(track_landmarks(reencoded(whole))),
        ]
        found = [0 if ear is None else len(detect_blinks(ear)) for ear in traces]
        counts += found
        seconds += len(crops) / fps
        print(f"| {video.stem} | {seed} | " + " | ".join(map(str, found)) + " |")
rates = " / ".join(f"{c / seconds:.2f}" for c in counts)
print(f"\nblinks/s in crops / pasted / pasted + H.264: {rates} over {seconds:.0f} s")
