"""How many real blinks survive rendering? (Blink analysis in docs/results.md.)

    python scripts/real_lids.py ../shared/data/grid [--set s1-test] [--limit N] [--renderer warp]
        [--seed-offset N] [--blinks CHECKPOINT] [--generated-only]

Each clip is animated as in the GRID protocol (its first frame, its own audio and seed), twice:
with the blink generator's lids, and with the lid closure of the clip's own real blinks (dlib's
eye aspect ratio on the real video, inside the blinks the detector finds there) in place of the
generator's. Both go through talkface's H.264 writer and dlib, as in the protocol. The detector's
blink rate on the real video, on the real lids drawn and on the generated lids drawn separates
what the renderer loses from what the generator draws. `--seed-offset` adds to every clip's
seed: other draws of the generator on the same clips. `--blinks` swaps in another blink generator
(a training run's checkpoint); `--generated-only` skips the real lids.
"""

import argparse
import dataclasses
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from talkface.eval.blinks import blink_stats, detect_blinks
from talkface.eval.protocol import GRID_SETS, clip_seed, grid_clips

PIPE = {}


def init(renderer: str, seed_offset: int, blinks: str, real_lids: bool) -> None:
    import torch

    import talkface
    from talkface.weights import load_model, load_weights

    torch.set_num_threads(1)  # one process per core
    PIPE["pipe"] = talkface.load_pipeline(renderer=renderer)
    if blinks:
        PIPE["pipe"].blink_model = load_model(load_weights(blinks)).eval()
    PIPE["seed_offset"] = seed_offset
    PIPE["real_lids"] = real_lids


def real_closure(ear: np.ndarray) -> np.ndarray:
    """(T,) the real video's lid closure inside its detected blinks, open elsewhere."""
    from talkface.motion.blinks import blinks_only
    from talkface.motion.params import eyelid_closure

    return blinks_only(eyelid_closure(ear), detect_blinks(ear))


def rendered_ear(video) -> np.ndarray:
    """dlib's eye aspect ratio of a Video after talkface's writer, as the protocol reads it."""
    from talkface.data.preprocess import track_landmarks
    from talkface.face.landmarks import eye_aspect_ratio
    from talkface.io.video import read_video

    with tempfile.TemporaryDirectory() as tmp:
        path = video.save(Path(tmp) / "generated.mp4")
        return eye_aspect_ratio(track_landmarks(read_video(path)[0]))


def one_clip(clip: Path) -> dict[str, np.ndarray] | None:
    from talkface.data.preprocess import track_landmarks
    from talkface.errors import TalkfaceError
    from talkface.face.landmarks import eye_aspect_ratio
    from talkface.io.video import read_video

    pipe = PIPE["pipe"]
    real, fps = read_video(clip)
    ear = eye_aspect_ratio(track_landmarks(real))
    try:
        seed = clip_seed(clip, PIPE["seed_offset"])
        generated = pipe(real[0], str(clip), fps=fps, seed=seed)
    except TalkfaceError:  # no face in the first frame (one corrupt s1 clip)
        return None
    traces = {"real video": ear}
    if PIPE["real_lids"]:
        lids = real_closure(ear)[: len(generated.motion)]
        motion = dataclasses.replace(generated.motion, blink=lids)
        traces["real lids drawn"] = rendered_ear(
            pipe(real[0], str(clip), motion=motion)
        )
    return {**traces, "generated lids drawn": rendered_ear(generated)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("grid")
    parser.add_argument("--set", default="s1-test", choices=list(GRID_SETS))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--renderer", default="warp")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--blinks", default="", help="blink generator checkpoint")
    parser.add_argument("--generated-only", action="store_true")
    args = parser.parse_args()

    clips = grid_clips(args.grid, *GRID_SETS[args.set])[: args.limit]
    with Pool(
        args.jobs,
        initializer=init,
        initargs=(
            args.renderer,
            args.seed_offset,
            args.blinks,
            not args.generated_only,
        ),
    ) as pool:
        traces = [t for t in pool.map(one_clip, clips) if t is not None]
    print(
        f"{args.set}, {len(traces)} clips, renderer {args.renderer}, "
        f"seed offset {args.seed_offset}, blinks {args.blinks or 'shipped'}\n"
    )
    print("| video | blinks | blinks/s | median s |")
    print("|---|---|---|---|")
    for name in traces[0]:
        stats = blink_stats([t[name] for t in traces])
        print(
            f"| {name} | {stats['blinks']} | {stats['rate']:.2f} "
            f"| {stats['median_duration']:.2f} |"
        )


if __name__ == "__main__":
    main()
