"""Render GRID clips with motion between a model's and the *real* one: how far recalibrating a
model's output could take the mouth landmark distance.

    python scripts/oracle_motion.py --speaker s31 [--model atnet-grid]

Every row drives the warp renderer from each clip's first frame with lips and jaw only (no
head motion, no blinks) and measures mouth LMD and opening correlation against the real video
as the GRID protocol does (talkface.eval.protocol), next to the static baseline:
- model: the model's motion step on the clip's audio (its motion scale and speech gate);
- model, gains / affine / linear: that motion's first --components PCA coefficients (the rest
  kept) recalibrated on the speaker's own real motion, fitted on these very clips (an oracle:
  it reads the answer): per component a gain, a gain and an offset, or one linear map of those
  components (plus offset) into each;
- real: the clip's own canonical displacements (`talkface preprocess` output in --cache), the
  floor the renderer and measurement set.
"""

import argparse

import numpy as np

import talkface
from talkface.data.landmarks import MOTION_KEYS, clip_displacements, load_split
from talkface.data.preprocess import track_landmarks
from talkface.eval.metrics import lmd, opening_correlation
from talkface.eval.runner import BASELINES
from talkface.io.video import read_video
from talkface.motion.params import load_motion_basis
from talkface.motion.stage import SPEECH_POINTS
from talkface.pipelines.options import GenerateOptions
from talkface.types import Motion


def speech_only(displacements: np.ndarray) -> np.ndarray:
    """Lips and jaw of (T, 68, 2) displacements, everything else at rest (what the pipeline
    animates from speech)."""
    out = np.zeros_like(displacements)
    out[:, SPEECH_POINTS] = displacements[:, SPEECH_POINTS]
    return out


def fit_recalibrations(predicted: np.ndarray, real: np.ndarray) -> dict:
    """(N, K) predicted and real whitened coefficients -> {name: coefficients -> coefficients}
    least-squares maps."""
    with_one = lambda c: np.c_[c, np.ones(len(c))]  # noqa: E731
    gains = (predicted * real).sum(0) / (predicted**2).sum(0)
    affine = [
        np.linalg.lstsq(with_one(predicted[:, k : k + 1]), real[:, k], rcond=None)[0]
        for k in range(predicted.shape[1])
    ]
    slope, offset = np.array(affine).T
    linear = np.linalg.lstsq(with_one(predicted), real, rcond=None)[0]
    return {
        "gains": lambda c: c * gains,
        "affine": lambda c: c * slope + offset,
        "linear": lambda c: with_one(c) @ linear,
    }


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--cache", default="cache/grid")
parser.add_argument("--grid", default="../shared/data/grid")
parser.add_argument("--speaker", default="s31")
parser.add_argument("--split", default="val")
parser.add_argument("--model", help="motion model (default: the shipped default)")
parser.add_argument("--limit", type=int, default=10)
parser.add_argument(
    "--components", type=int, default=12, help="PCA coefficients recalibrated"
)
args = parser.parse_args()

pipe = talkface.load_pipeline(args.model)
basis = load_motion_basis()
clips, faces, motions = [], [], {"model": [], "real": []}
for clip in load_split(
    args.cache, args.split, speakers=(args.speaker,), keys=MOTION_KEYS, limit=args.limit
):
    first = read_video(f"{args.grid}/{args.speaker}/{clip['name']}.mp4")[0][0]
    face = pipe.prepare_face(first)
    options = GenerateOptions(fps=float(clip["fps"]), head_motion=0.0, blink_rate=0.0)
    predicted = pipe.motion(clip["wav"], face, options).displacements
    motions["model"].append(speech_only(predicted[: len(clip["landmarks"])]))
    motions["real"].append(speech_only(clip_displacements(clip)))
    clips.append(clip)
    faces.append(face)

k = args.components
coefficients = {
    name: [basis.encode(m)[:, :k] for m in motions[name]] for name in ("model", "real")
}
fitted = fit_recalibrations(
    *(np.concatenate(coefficients[n]) for n in ("model", "real"))
)
for name, remap in fitted.items():
    # move only along the first k components; whatever else the motion holds stays
    motions[f"model, {name}"] = [
        speech_only(m + basis.decode(remap(c)) - basis.decode(c))
        for m, c in zip(motions["model"], coefficients["model"])
    ]

static = np.mean(
    [lmd(c["landmarks"], BASELINES["static"](c["landmarks"])) for c in clips]
)
print(
    f"{args.speaker} {args.split}, {len(clips)} clips, motion of {args.model or 'the default'}"
)
print("| motion | mouth LMD | vs static | opening corr |\n|---|---|---|---|")
print(f"| static photo | {static:.3f} | 1.000 | |")
for name in ("model", "model, gains", "model, affine", "model, linear", "real"):
    rows = []
    for clip, face, displacements in zip(clips, faces, motions[name]):
        n = len(displacements)
        motion = Motion(displacements, np.zeros(n, np.float32), float(clip["fps"]))
        render = pipe.render(face, motion)
        fake = track_landmarks(np.stack([render(i) for i in range(n)]))
        rows.append(
            (lmd(clip["landmarks"], fake), opening_correlation(clip["landmarks"], fake))
        )
    distance, corr = np.mean(rows, axis=0)
    print(f"| {name} | {distance:.3f} | {distance / static:.3f} | {corr:.3f} |")
