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
from talkface.eval.metrics import LMD_VARIANTS, lmd_variants, opening_correlation
from talkface.eval.sharpness import cpbd
from talkface.eval.sync import VSHIFT
from talkface.face.landmarks import eye_aspect_ratio, inner_lip_opening

EMBED_EVERY = 5  # frames between identity embeddings (each costs ~70 ms)
VIDEO_SUFFIXES = (".mp4", ".mpg", ".avi", ".mov", ".mkv")


def fingerprint(cpbd_every: int = 1, sync: bool = True) -> dict:
    """How the numbers were computed: stored next to them, so tables can be compared."""
    import dlib
    import skimage

    from talkface.features.visual import SYNC_CROP_SIZE
    from talkface.registry import EVALUATORS, SYNC_EXPERT

    return {
        "gray": "ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), float64",
        "psnr": "per-frame PSNR, data range 255; mean of finite frames (+count of identical) and PSNR of mean MSE",
        "ssim": f"Gaussian window sigma {SSIM_SIGMA}, 11 taps, population covariance, borders cropped",
        "cpbd": "Narvekar & Karam, uint8 gray, 64x64 blocks, bins 0..63 (== PyPI cpbd 1.0.7)"
        + (f"; mean over every {cpbd_every}th frame" if cpbd_every > 1 else ""),
        "landmarks": "dlib HOG (upsample 0, re-detect every 5 frames) + 68-point predictor",
        "lmd": "mouth = points 48-67, face = all 68; per-frame mean-centred, Euclidean, mean over points and frames; reference pixels",
        "lmd_variants": "sum: ATVGnet code (sum over the 20 points); fae: 24 face_recognition mouth points, uncentred, mean |coordinate difference|; interocular: per frame / real outer-eye-corner distance",
        "identity": f"dlib ResNet 128-d, 68-point alignment; reference first frame vs every {EMBED_EVERY}th generated frame",
        "blinks": f"DinoMan detector on mean EAR of both eyes: drop {blink_detector.DROP_THRESHOLD}/frame, distance {blink_detector.MIN_PEAK_DISTANCE}",
        "sync": (
            f"{SYNC_EXPERT} (sha256 {EVALUATORS[SYNC_EXPERT].sha256[:12]}): grey lower half of "
            f"the {SYNC_CROP_SIZE}px aligned face, 5 frames vs 20 MFCC frames; joonson rule, "
            f"+-{VSHIFT} frames; offset > 0 when the audio leads"
            if sync
            else "not scored"
        ),
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


def _cpbd_per_frame(frames: np.ndarray, every: int) -> list[float]:
    """CPBD of every `every`-th frame; a frame equal to the one before reuses its score."""
    scores, previous = [], None
    for frame in frames[::every]:
        if previous is None or not np.array_equal(frame, previous[0]):
            previous = (frame, cpbd(frame))
        scores.append(previous[1])
    return scores


def measure_video(
    frames: np.ndarray,
    audio: np.ndarray | None,
    fps: float,
    expert=None,
    cpbd_every: int = 1,
) -> dict:
    """What is measured on one video alone: landmarks, sharpness, eyes, mouth and sync."""
    from talkface.data.preprocess import track_landmarks

    landmarks = track_landmarks(frames)
    sync = None
    if expert is not None and audio is not None:
        sync = sync_of_video(expert, frames, landmarks, audio, fps)
    return {
        "landmarks": landmarks,
        "cpbd": _cpbd_per_frame(frames, cpbd_every),
        "ear": eye_aspect_ratio(landmarks).tolist(),
        "opening": inner_lip_opening(landmarks).tolist(),
        "sync": sync,
    }


def evaluate_pair(
    generated: np.ndarray,
    reference: np.ndarray,
    fps: float = 25.0,
    generated_audio: np.ndarray | None = None,
    reference_audio: np.ndarray | None = None,
    expert=None,
    reference_measures: dict | None = None,
    cpbd_every: int = 1,
) -> dict:
    """All metrics for one (T, H, W, 3) uint8 generated video against its reference.

    With a sync `expert` and the two soundtracks, sync offset and confidence of both videos.
    `reference_measures` (from measure_video) lets several systems share the reference's work.
    """
    n = min(len(generated), len(reference))
    resized = generated.shape[1:3] != reference.shape[1:3]
    if resized:
        generated = _resize_frames(generated, *reference.shape[1:3])
    if reference_measures is None:
        reference_measures = measure_video(
            reference, reference_audio, fps, expert, cpbd_every
        )
    fake = measure_video(generated[:n], generated_audio, fps, expert, cpbd_every)
    real_lm = reference_measures["landmarks"][:n]
    generated, reference = generated[:n], reference[:n]
    psnr = psnr_video(reference, generated)
    result = {
        "frames": n,
        "frames_generated": len(generated),
        "resized": bool(resized),
        "psnr": psnr["mean_psnr"],
        "psnr_identical_frames": psnr["identical_frames"],
        "psnr_of_mean_mse": psnr["psnr_of_mean_mse"],
        "ssim": float(np.mean([ssim(r, g) for r, g in zip(reference, generated)])),
        "cpbd": float(np.mean(fake["cpbd"])),
        "cpbd_reference": float(
            np.mean(reference_measures["cpbd"][: -(-n // cpbd_every)])
        ),
        **lmd_variants(real_lm, fake["landmarks"]),
        "opening_corr": opening_correlation(real_lm, fake["landmarks"]),
        "identity": identity_distance(reference[0], generated),
        "ear": fake["ear"],
        "ear_reference": reference_measures["ear"][:n],
        "opening": fake["opening"],
        "opening_reference": reference_measures["opening"][:n],
    }
    for name, score in [("", fake["sync"]), ("_reference", reference_measures["sync"])]:
        if score is not None:
            result[f"sync_offset{name}"] = score.offset
            result[f"sync_confidence{name}"] = score.confidence
            result[f"sync_distance{name}"] = score.min_distance
            result[f"sync_in_sync_confidence{name}"] = score.in_sync_confidence
            result[f"sync_shifted_confidence{name}"] = score.shifted_confidence
    if fake["sync"] is not None and reference_measures["sync"] is not None:
        result["sync_offset_error"] = abs(
            fake["sync"].offset - reference_measures["sync"].offset
        )
    return result


def sync_of_video(expert, frames, landmarks, audio, fps):
    """The sync expert's score of a video and its soundtrack; None when it cannot be scored
    (no face at all, too short, or not 25 fps)."""
    from talkface.data.preprocess import fill_missing
    from talkface.eval.sync import scorable, score_clip
    from talkface.face.align import crop_face
    from talkface.features.align import SYNC_FPS
    from talkface.features.visual import SYNC_CROP_SIZE, lower_face

    landmarks, found = fill_missing(landmarks)
    if abs(fps - SYNC_FPS) > 0.01 or not found.any():
        return None
    if not scorable(len(frames), len(audio)):
        return None
    crops = np.stack(
        [crop_face(f, lm, SYNC_CROP_SIZE).image for f, lm in zip(frames, landmarks)]
    )
    return score_clip(expert, lower_face(crops), audio)


def reencoded(reference: np.ndarray) -> np.ndarray:
    """The reference through talkface's own H.264 writer and back: the codec's noise floor."""
    import tempfile

    from talkface.io.video import read_video, write_video

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reencoded.mp4"
        write_video(path, reference, 25.0)
        return read_video(path)[0]


BASELINES = {
    # the photo that every one-shot method starts from, held still for the whole clip
    "static": lambda reference: np.repeat(reference[:1], len(reference), axis=0),
    # the reference itself: the floor of every metric (landmark jitter, embedding noise)
    "ground-truth": lambda reference: reference,
    # the reference as every generated video reaches a user: through the H.264 encoder
    "reencoded": reencoded,
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


MEAN_KEYS = [
    "psnr",
    "psnr_of_mean_mse",
    "ssim",
    "cpbd",
    "cpbd_reference",
    *LMD_VARIANTS,
    "opening_corr",
    "identity",
    "sync_offset",
    "sync_confidence",
    "sync_distance",
    "sync_in_sync_confidence",
    "sync_shifted_confidence",
    "sync_offset_reference",
    "sync_confidence_reference",
    "sync_distance_reference",
    "sync_in_sync_confidence_reference",
    "sync_shifted_confidence_reference",
    "sync_offset_error",
]


def summarise(clips: list[dict], fps: float = 25.0) -> dict:
    """Means over clips (NaN and missing values left out) and blink statistics of both sets."""
    mean = {}
    for key in MEAN_KEYS:
        values = [c[key] for c in clips if key in c and np.isfinite(c[key])]
        if values:
            mean[key] = float(np.mean(values))
    return {
        "mean": mean,
        "blinks": blink_stats([np.array(c["ear"]) for c in clips], fps),
        "blinks_reference": blink_stats(
            [np.array(c["ear_reference"]) for c in clips], fps
        ),
    }


def evaluate(
    generated_dir: str | Path | None,
    reference_dir: str | Path,
    baseline: str | None = None,
    progress: bool = True,
    side_by_side: str | Path | None = None,
    sync: bool = True,
    cpbd_every: int = 1,
) -> dict:
    """Per-clip and mean metrics of every video in `generated_dir` that has a namesake in
    `reference_dir`, with blink statistics for both sets and the protocol fingerprint.

    With `baseline` ("static", "ground-truth" or "reencoded") instead of a generated folder,
    the generated videos are made from the references by that baseline, so it is measured by
    the same code; baselines keep the reference's sound. `sync`: score lip sync with the
    shipped sync expert (each video against its own soundtrack). `side_by_side`: a folder to
    write real | generated videos into, one per clip.
    """
    from tqdm import tqdm

    from talkface.errors import TalkfaceError
    from talkface.io.audio import load_audio
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
    expert = load_sync_expert() if sync else None
    clips = []
    for gen_path, ref_path in tqdm(
        pairs, desc="evaluate", unit="clip", disable=not progress
    ):
        reference, fps = read_video(ref_path)
        reference_audio = load_audio(ref_path)
        audio_source = "generated"
        if baseline:
            generated, generated_audio = BASELINES[baseline](reference), reference_audio
            audio_source = "reference"
        else:
            generated = read_video(gen_path)[0]
            try:
                generated_audio = load_audio(gen_path)
            except (
                TalkfaceError
            ):  # a silent generated video: judge it against the speech
                generated_audio, audio_source = reference_audio, "reference"
        clips.append(
            {
                "clip": ref_path.stem,
                "audio_source": audio_source,
                **evaluate_pair(
                    generated,
                    reference,
                    fps,
                    generated_audio,
                    reference_audio,
                    expert,
                    cpbd_every=cpbd_every,
                ),
            }
        )
        if side_by_side:
            Path(side_by_side).mkdir(parents=True, exist_ok=True)
            write_side_by_side(
                Path(side_by_side) / f"{ref_path.stem}.mp4",
                reference,
                generated,
                fps,
                ref_path,
            )
    return {
        "fingerprint": fingerprint(cpbd_every, expert is not None),
        "clips": clips,
        **summarise(clips, fps),
    }


def load_sync_expert():
    """The shipped sync expert (SyncNet-style, trained on GRID s1), ready for scoring."""
    from talkface.models.syncnet import load_syncnet
    from talkface.registry import SYNC_EXPERT
    from talkface.weights import load_weights

    return load_syncnet(load_weights(SYNC_EXPERT))


TABLE_COLUMNS = [
    # header, formatter of (mean, blinks, reference blinks)
    ("PSNR", lambda m, b, r: f"{m['psnr']:.2f}"),
    ("SSIM", lambda m, b, r: f"{m['ssim']:.3f}"),
    ("CPBD (real)", lambda m, b, r: f"{m['cpbd']:.3f} ({m['cpbd_reference']:.3f})"),
    ("LMD mouth", lambda m, b, r: f"{m['lmd_mouth']:.3f}"),
    ("LMD face", lambda m, b, r: f"{m['lmd_face']:.3f}"),
    ("opening corr", lambda m, b, r: f"{m['opening_corr']:.3f}"),
    ("identity", lambda m, b, r: f"{m['identity']:.3f}"),
    (
        "sync conf (real)",
        lambda m, b, r: (
            f"{m['sync_confidence']:.2f} ({m['sync_confidence_reference']:.2f})"
        ),
    ),
    ("offset error", lambda m, b, r: f"{m['sync_offset_error']:.2f}"),
    ("blinks/s (real)", lambda m, b, r: f"{b['rate']:.2f} ({r['rate']:.2f})"),
    (
        "blink s (real)",
        lambda m, b, r: f"{b['median_duration']:.2f} ({r['median_duration']:.2f})",
    ),
]


def table_cells(report: dict) -> list[str]:
    """The report's means as table cells (a dash where a metric was not measured)."""
    m, b, r = report["mean"], report["blinks"], report["blinks_reference"]
    cells = []
    for _, cell in TABLE_COLUMNS:
        try:
            cells.append(cell(m, b, r))
        except KeyError:
            cells.append("-")
    return cells
