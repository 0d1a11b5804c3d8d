"""The spine's protocol on GRID clips: first frame + the clip's own audio -> generated video,
compared with the real video and with the static-photo baseline (the first frame repeated).

Per clip: mouth LMD (dlib 20 mouth points, mean-centred, mean over points, pixels of the
360x288 source video), inner-lip opening correlation with the real video, and identity distance
(dlib ResNet embedding of every 5th generated frame against the photo).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from talkface.data.preprocess import track_landmarks
from talkface.errors import TalkfaceError
from talkface.eval.metrics import lmd, opening_correlation
from talkface.eval.runner import identity_distance
from talkface.io.video import read_video


def evaluate_clip(pipeline, video_path: str | Path, seed: int = 0, **options) -> dict:
    real, fps = read_video(video_path)
    photo = real[0]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "generated.mp4"
        pipeline(photo, str(video_path), fps=fps, seed=seed, **options).save(out)
        fake, _ = read_video(out)
    n = min(len(real), len(fake))
    real_lm = track_landmarks(real[:n])
    fake_lm = track_landmarks(fake[:n])
    static_lm = np.repeat(real_lm[:1], n, axis=0)
    return {
        "clip": Path(video_path).stem,
        "frames_real": len(real),
        "frames_generated": len(fake),
        "lmd_mouth": lmd(real_lm, fake_lm),
        "lmd_mouth_static": lmd(real_lm, static_lm),
        "opening_corr": opening_correlation(real_lm, fake_lm),
        "identity_distance": identity_distance(photo, fake[:n]),
    }


def evaluate_speaker(
    pipeline,
    grid_dir: str | Path,
    speaker: str,
    split: str = "val",
    limit: int | None = None,
    **options,
) -> dict:
    """Per-clip results and means for one speaker's clips of a split."""
    import csv

    from tqdm import tqdm

    grid_dir = Path(grid_dir)
    with open(grid_dir / "splits.csv") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["speaker"] == speaker and r["split"] == split
        ]
    rows = rows[:limit] if limit else rows
    clips, skipped = [], []
    for r in tqdm(rows, desc=f"{speaker} {split}", leave=False):
        try:
            clips.append(evaluate_clip(pipeline, grid_dir / r["video"], **options))
        except (
            TalkfaceError
        ) as e:  # e.g. a corrupt clip whose first frame shows no face
            skipped.append({"clip": Path(r["video"]).stem, "reason": str(e)})
    keys = ["lmd_mouth", "lmd_mouth_static", "opening_corr", "identity_distance"]
    mean = {k: float(np.nanmean([c[k] for c in clips])) for k in keys}
    mean["lmd_ratio"] = mean["lmd_mouth"] / mean["lmd_mouth_static"]
    return {
        "speaker": speaker,
        "split": split,
        "clips": clips,
        "skipped": skipped,
        "mean": mean,
    }


if __name__ == "__main__":
    import argparse

    import talkface

    parser = argparse.ArgumentParser(
        description="Spine protocol on GRID (first frame + own audio)"
    )
    parser.add_argument("--grid", default="../shared/data/grid")
    parser.add_argument("--speaker", default="s31")
    parser.add_argument("--split", default="val")
    parser.add_argument("--model", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--motion-scale", type=float, default=None, help="default: the pipeline's"
    )
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    pipeline = talkface.load_pipeline(args.model)
    options = {} if args.motion_scale is None else {"motion_scale": args.motion_scale}
    result = evaluate_speaker(
        pipeline, args.grid, args.speaker, args.split, args.limit, **options
    )
    m = result["mean"]
    print(json.dumps(m, indent=1))
    print(
        f"| {args.speaker} {args.split} | {len(result['clips'])} (+{len(result['skipped'])} skipped) | {m['lmd_mouth_static']:.3f} | {m['lmd_mouth']:.3f} "
        f"| {m['lmd_ratio']:.3f} | {m['opening_corr']:.3f} | {m['identity_distance']:.3f} |"
    )
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=1))
