"""Which generated blinks survive rendering? (Blink analysis in docs/results.md.)

    python scripts/trace_blinks.py docs/eval/protocol.json ../shared/data/grid [--set s1-test]

For each clip of a GRID protocol run, regenerates the clip's motion with the protocol's seed
(the same model and options) and lists every blink the pipeline drew (a run of frames with the
eyelids closing), beside what the EAR detector found in dlib's reading of the protocol's
rendered video: found or missed, the blink's peak closure, the lowest rendered EAR over the
clip's open-eye median, and the largest one-frame EAR drop (the detector needs 0.072).
"""

import argparse
import json
from pathlib import Path

import numpy as np

import talkface
from talkface.eval.blinks import DROP_THRESHOLD, detect_blinks
from talkface.eval.protocol import clip_seed
from talkface.io.video import read_video

DRAWN = 0.05  # closure above which the lids are drawn moving


def drawn_blinks(closure: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) frames of each run of closing lids."""
    moving = np.concatenate([[0], (closure > DRAWN).astype(int), [0]])
    edges = np.flatnonzero(np.diff(moving))
    return list(zip(edges[::2], edges[1::2] - 1))


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument(
    "protocol", help="a talkface evaluate --protocol grid report (.json)"
)
parser.add_argument("grid")
parser.add_argument("--set", default="s1-test")
parser.add_argument("--limit", type=int, default=30)
args = parser.parse_args()

report = json.loads(Path(args.protocol).read_text())
pipe = talkface.load_pipeline(report["model"], report["renderer"])
speaker = args.set.split("-")[0]
found = total = 0
print("| clip | frames | found | peak closure | lowest EAR / open | largest drop |")
print("|---|---|---|---|---|---|")
for clip in report["sets"][args.set]["talkface"]["clips"][: args.limit]:
    video = (Path(args.grid) / speaker / clip["clip"]).with_suffix(".mp4")
    photo = read_video(video)[0][0]
    seed = clip_seed(video)
    closure = pipe(
        photo, str(video), fps=25.0, seed=seed, **report["options"]
    ).motion.blink
    ear = np.asarray(clip["ear"], np.float64)
    detected = detect_blinks(ear)
    for first, last in drawn_blinks(closure):
        hit = any(b.start <= last + 2 and first - 2 <= b.end for b in detected)
        span = ear[max(first - 1, 0) : last + 2]
        drop = float(np.max(-np.diff(span), initial=0.0))
        print(
            f"| {clip['clip']} | {first}-{last} | {'yes' if hit else 'no'} "
            f"| {closure[first : last + 1].max():.2f} | {span.min() / np.median(ear):.2f} "
            f"| {drop:.3f} |"
        )
        found += hit
        total += 1
print(
    f"\n{found} of {total} drawn blinks found (detector: EAR drop >= {DROP_THRESHOLD})"
)
