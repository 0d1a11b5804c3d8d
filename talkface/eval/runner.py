"""Evaluate generated videos against reference videos: one call for training validation, the
CLI (`talkface evaluate`) and docs/results.md alike. Definitions: ../shared/docs/metrics.md.

Videos are paired by file name. Each pair is cut to the shorter length and the generated frames
are resized to the reference's size when they differ (both recorded per clip).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from talkface.eval import blinks as blink_detector
from talkface.eval.blinks import blink_stats
from talkface.eval.identity import acd_still
from talkface.eval.image import SSIM_SIGMA, psnr_video, ssim
from talkface.eval.metrics import lmd, opening_correlation
from talkface.eval.sharpness import cpbd
from talkface.face.landmarks import MOUTH, eye_aspect_ratio

EMBED_EVERY = 5  # frames between identity embeddings (each costs ~70 ms)
VIDEO_SUFFIXES = (".mp4", ".mpg", ".avi", ".mov", ".mkv")


def fingerprint() -> dict:
    """How the numbers were computed: stored next to them, so tables can be compared."""
    import dlib
    import skimage

    return {
        "gray": "ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), float64",
        "psnr": "per-frame PSNR, data range 255; mean of finite frames (+count of identical) and PSNR of mean MSE",
        "ssim": f"Gaussian window sigma {SSIM_SIGMA}, 11 taps, population covariance, borders cropped",
        "cpbd": "Narvekar & Karam, uint8 gray, 64x64 blocks, bins 0..63 (== PyPI cpbd 1.0.7)",
        "landmarks": "dlib HOG (upsample 0, re-detect every 5 frames) + 68-point predictor",
        "lmd": "mouth = points 48-67, face = all 68; per-frame mean-centred, Euclidean, mean over points and frames; reference pixels",
        "identity": f"dlib ResNet 128-d, 68-point alignment; reference first frame vs every {EMBED_EVERY}th generated frame",
        "blinks": f"DinoMan detector on mean EAR of both eyes: drop {blink_detector.DROP_THRESHOLD}/frame, distance {blink_detector.MIN_PEAK_DISTANCE}",
        "versions": {
            "dlib": dlib.__version__,
            "scikit-image": skimage.__version__,
            "python": platform.python_version(),
        },
    }


def _resize_frames(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    return np.stack(
        [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]
    )


def identity_distance(still: np.ndarray, frames: np.ndarray) -> float:
    """ACD-still: mean embedding distance of every EMBED_EVERY-th frame's face from the face in
    `still`; frames without a detected face are left out, NaN if none has one."""
    from talkface.face.detect import detect_faces
    from talkface.face.embed import face_embedding

    still_boxes = detect_faces(still)
    embeddings = []
    for frame in frames[::EMBED_EVERY]:
        boxes = detect_faces(frame)
        if boxes:
            embeddings.append(face_embedding(frame, boxes[0]))
    if not still_boxes or not embeddings:
        return float("nan")
    return acd_still(face_embedding(still, still_boxes[0]), np.stack(embeddings))


def evaluate_pair(
    generated: np.ndarray, reference: np.ndarray, fps: float = 25.0
) -> dict:
    """All metrics for one (T, H, W, 3) uint8 generated video against its reference."""
    from talkface.data.preprocess import track_landmarks

    n = min(len(generated), len(reference))
    resized = generated.shape[1:3] != reference.shape[1:3]
    if resized:
        generated = _resize_frames(generated, *reference.shape[1:3])
    generated, reference = generated[:n], reference[:n]
    psnr = psnr_video(reference, generated)
    real_lm, fake_lm = track_landmarks(reference), track_landmarks(generated)
    return {
        "frames": n,
        "frames_generated": len(generated),
        "resized": bool(resized),
        "psnr": psnr["mean_psnr"],
        "psnr_identical_frames": psnr["identical_frames"],
        "psnr_of_mean_mse": psnr["psnr_of_mean_mse"],
        "ssim": float(np.mean([ssim(r, g) for r, g in zip(reference, generated)])),
        "cpbd": float(np.mean([cpbd(g) for g in generated])),
        "cpbd_reference": float(np.mean([cpbd(r) for r in reference])),
        "lmd_mouth": lmd(real_lm, fake_lm, points=MOUTH),
        "lmd_face": lmd(real_lm, fake_lm, points=np.arange(68)),
        "opening_corr": opening_correlation(real_lm, fake_lm),
        "identity": identity_distance(reference[0], generated),
        "ear": eye_aspect_ratio(fake_lm).tolist(),
        "ear_reference": eye_aspect_ratio(real_lm).tolist(),
    }


BASELINES = {
    # the photo that every one-shot method starts from, held still for the whole clip
    "static": lambda reference: np.repeat(reference[:1], len(reference), axis=0),
    # the reference itself: the floor of every metric (landmark jitter, embedding noise)
    "ground-truth": lambda reference: reference,
}


def write_side_by_side(
    path: str | Path,
    reference: np.ndarray,
    generated: np.ndarray,
    fps: float,
    audio_from: Path,
) -> None:
    """An mp4 with the real video on the left and the generated one on the right, with the
    reference's sound, for looking rather than reading."""
    from talkface.io.audio import load_audio
    from talkface.io.video import write_video

    n = min(len(reference), len(generated))
    if generated.shape[1:3] != reference.shape[1:3]:
        generated = _resize_frames(generated[:n], *reference.shape[1:3])
    frames = (
        np.concatenate([r, g], axis=1) for r, g in zip(reference[:n], generated[:n])
    )
    write_video(path, frames, fps, load_audio(audio_from))


def evaluate(
    generated_dir: str | Path | None,
    reference_dir: str | Path,
    baseline: str | None = None,
    progress: bool = True,
    side_by_side: str | Path | None = None,
) -> dict:
    """Per-clip and mean metrics of every video in `generated_dir` that has a namesake in
    `reference_dir`, with blink statistics for both sets and the protocol fingerprint.

    With `baseline` ("static" or "ground-truth") instead of a generated folder, the generated
    videos are made from the references by that baseline, so it is measured by the same code.
    `side_by_side`: a folder to write real | generated videos into, one per clip.
    """
    from tqdm import tqdm

    from talkface.errors import TalkfaceError
    from talkface.io.video import read_video

    if (generated_dir is None) == (baseline is None):
        raise TalkfaceError("give either a folder of generated videos or a baseline")
    if baseline is not None and baseline not in BASELINES:
        raise TalkfaceError(
            f"unknown baseline {baseline!r}; choose from {', '.join(BASELINES)}"
        )
    reference_dir = Path(reference_dir)
    references = {
        p.stem: p for p in reference_dir.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES
    }
    if baseline is not None:
        pairs = [(None, references[name]) for name in sorted(references)]
    else:
        generated_dir = Path(generated_dir)
        pairs = sorted(
            (p, references[p.stem])
            for p in generated_dir.iterdir()
            if p.suffix.lower() in VIDEO_SUFFIXES and p.stem in references
        )
    if not pairs:
        raise TalkfaceError(
            f"no generated video in {generated_dir} has a namesake in {reference_dir}"
        )
    clips = []
    for gen_path, ref_path in tqdm(
        pairs, desc="evaluate", unit="clip", disable=not progress
    ):
        reference, fps = read_video(ref_path)
        if baseline:
            generated = BASELINES[baseline](reference)
        else:
            generated = read_video(gen_path)[0]
        clips.append(
            {"clip": ref_path.stem, **evaluate_pair(generated, reference, fps)}
        )
    keys = [
        "psnr",
        "psnr_of_mean_mse",
        "ssim",
        "cpbd",
        "cpbd_reference",
        "lmd_mouth",
        "lmd_face",
        "opening_corr",
        "identity",
    ]
    mean = {
        k: float(np.nanmean([c[k] for c in clips if np.isfinite(c[k])] or [np.inf]))
        for k in keys
    }
    return {
        "fingerprint": fingerprint(),
        "clips": clips,
        "mean": mean,
        "blinks": blink_stats([np.array(c["ear"]) for c in clips]),
        "blinks_reference": blink_stats([np.array(c["ear_reference"]) for c in clips]),
    }


def markdown_table(report: dict) -> str:
    """The report's means as a one-row markdown table."""
    m, b, r = report["mean"], report["blinks"], report["blinks_reference"]
    header = "| clips | PSNR | SSIM | CPBD (ref) | LMD mouth | LMD face | opening corr | identity | blinks/s (ref) | blink s (ref) |"
    row = (
        f"| {len(report['clips'])} | {m['psnr']:.2f} | {m['ssim']:.3f} | {m['cpbd']:.3f} ({m['cpbd_reference']:.3f}) "
        f"| {m['lmd_mouth']:.3f} | {m['lmd_face']:.3f} | {m['opening_corr']:.3f} | {m['identity']:.3f} "
        f"| {b['rate']:.2f} ({r['rate']:.2f}) | {b['median_duration']:.2f} ({r['median_duration']:.2f}) |"
    )
    return "\n".join([header, "|" + "---|" * 10, row])
