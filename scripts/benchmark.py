"""Time `generate` on a 10 s clip stage by stage, with peak memory, against real time.

    python scripts/benchmark.py [--image face.jpg] [--seconds 10] [--crop-size N] [--renderer R]
                                [--model M]

Stages: face (detect, landmarks, crop), features (MFCC), motion (AT-net + blinks), render (warp,
or a neural renderer checkpoint/name with --renderer, + paste-back of every frame), encode
(H.264 + AAC); with `--model temporal-gan` the generator's frames + paste-back replace features,
motion and render; then streaming (talkface stream's session fed 40 ms chunks as fast as it takes
them): the latency of the first frame after the audio that completes it, and the real-time
factor (compute time / audio time; < 1 keeps up with live audio). The baseline measured in the
same run is the
static-photo video (the photo repeated, encoded with the same settings): the cost of writing the
video at all. Speed is reported as frames per second and as a multiple of real time (25 fps).
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import talkface
from talkface.features.audio import speech_features
from talkface.io.audio import load_audio
from talkface.io.video import write_video
from talkface.pipelines.options import GenerateOptions
from talkface.pipelines.streaming import open_stream
from talkface.pipelines.temporal_gan import TemporalGANPipeline

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--image", default=talkface.sample_paths()[0])
parser.add_argument("--seconds", type=float, default=10.0)
parser.add_argument("--crop-size", type=int, default=None)
parser.add_argument("--fps", type=float, default=25.0)
parser.add_argument("--renderer", default="warp", help="as generate's --renderer")
parser.add_argument("--model", default=None, help="as generate's --model")
args = parser.parse_args()

torch.set_num_threads(2)
wav = load_audio(talkface.sample_paths()[1])
wav = np.tile(wav, int(np.ceil(args.seconds * 16000 / len(wav))))[
    : int(args.seconds * 16000)
]
pipe = talkface.load_pipeline(args.model, renderer=args.renderer)
tmp = Path(tempfile.mkdtemp())
times = {}


def timed(name, fn):
    start = time.perf_counter()
    out = fn()
    times[name] = time.perf_counter() - start
    return out


pipe.prepare_face(args.image)  # warm-up: dlib model loading is a one-off cost
face = timed("face", lambda: pipe.prepare_face(args.image, crop_size=args.crop_size))
options = GenerateOptions(fps=args.fps, seed=0)
if isinstance(pipe, TemporalGANPipeline):
    gan_frames = pipe.frames(face, wav, options)
    render, n = pipe.render(face, gan_frames), len(gan_frames)
    frames = timed("generator + paste", lambda: [render(i) for i in range(n)])
else:
    timed("features", lambda: speech_features(wav))
    motion = timed("motion", lambda: pipe.motion(wav, face, options))
    render, n = pipe.render(face, motion), len(motion)
    frames = timed("render", lambda: [render(i) for i in range(n)])
timed("encode", lambda: write_video(tmp / "out.mp4", frames, args.fps, wav))
static = timed(
    "static baseline (encode only)",
    lambda: write_video(tmp / "static.mp4", [face.photo] * n, args.fps, wav),
)
timed(
    "end to end (generate + save)",
    lambda: talkface.generate(
        args.image,
        wav,
        model=args.model,
        fps=args.fps,
        crop_size=args.crop_size,
        renderer=args.renderer,
    ).save(tmp / "e2e.mp4"),
)

session = open_stream(pipe, args.image, seed=0, crop_size=args.crop_size)
step, first, start = 640, None, time.perf_counter()
for i in range(0, len(wav), step):
    arrived = time.perf_counter()
    if session.push(wav[i : i + step]) and first is None:
        first, heard = time.perf_counter() - arrived, (i + step) / 16000
session.finish()
times["stream (40 ms chunks)"] = time.perf_counter() - start

h, w = face.photo.shape[:2]
print(
    f"{args.seconds:g} s of speech, {n} frames at {args.fps:g} fps, photo {w}x{h}, face crop {face.crop.size} px, model {args.model or 'default'}, renderer {args.renderer}, torch threads {torch.get_num_threads()}"
)
print(f"{'stage':32s} {'seconds':>8s} {'ms/frame':>9s}")
for name, seconds in times.items():
    print(f"{name:32s} {seconds:8.3f} {1000 * seconds / n:9.2f}")
total = times["end to end (generate + save)"]
print(
    f"end to end: {n / total:.1f} fps = {n / total / 25:.2f}x real time (25 fps); "
    f"{total / times['static baseline (encode only)']:.2f}x the static baseline's time"
)
print(
    f"streaming: first frame {1000 * first:.0f} ms after the audio that completes it "
    f"(it needs the first {1000 * heard:.0f} ms of audio), real-time factor "
    f"{times['stream (40 ms chunks)'] / args.seconds:.2f}"
)
print(
    f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
)
