"""From preprocessed clips to person-independent motion: neutral frames, the mean face, and
per-frame canonical landmark displacements (Sinha et al. sec. III-A)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkface.data.preprocess import load_clip, read_manifest
from talkface.face.align import MIRROR, apply_affine, similarity_transform, to_canonical
from talkface.face.landmarks import JAW, STABLE

SPEECH_LEAD_FRAMES = 3  # lips start moving about 100 ms before the acoustic onset


MOTION_KEYS = (
    "landmarks",
    "fps",
    "wav",
    "words",
    "word_times",
)  # what motion models read


def load_split(
    cache_dir: str | Path,
    split: str,
    speakers: tuple[str, ...] | None = None,
    keys: tuple[str, ...] | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Preprocessed clips of one split (as listed in the cache manifest), each with its name.

    `keys` limits which arrays are read (face crops are large), `limit` how many clips. Clips
    with a frame where no face was found are left out: they are unusable as training targets.
    """
    cache_dir = Path(cache_dir)
    clips = []
    for entry in read_manifest(cache_dir)["clips"]:
        if limit is not None and len(clips) >= limit:
            break
        if entry["split"] != split or (speakers and entry["speaker"] not in speakers):
            continue
        clip = load_clip(cache_dir / entry["file"], keys and (*keys, "face_found"))
        if not clip["face_found"].all():
            continue
        clip["name"], clip["speaker"] = entry["name"], entry["speaker"]
        clips.append(clip)
    return clips


def neutral_frames(clip: dict) -> np.ndarray:
    """Frame indices of the leading silence, before the lips prepare the first word."""
    fps = float(clip["fps"])
    words, times = list(clip["words"]), clip["word_times"]
    onset = next((t[0] for w, t in zip(words, times) if w not in ("sil", "sp")), 0.5)
    last = int(onset * fps) - SPEECH_LEAD_FRAMES
    return np.arange(max(last, 1))


def procrustes_mean(shapes: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Generalised Procrustes mean of (N, 68, 2) shapes, aligned on their stable points."""
    reference = shapes[0].astype(np.float64)
    for _ in range(iterations):
        aligned = np.stack(
            [
                apply_affine(similarity_transform(s[STABLE], reference[STABLE]), s)
                for s in shapes
            ]
        )
        reference = aligned.mean(0)
    return reference


def symmetrise(shape: np.ndarray) -> np.ndarray:
    """Average a (68, 2) shape with its mirror image (x reflected about the face's midline)."""
    centre = shape[[27, 28, 29, 30, 33, 51, 57, 8], 0].mean()
    mirrored = shape.copy()
    mirrored[:, 0] = 2 * centre - mirrored[:, 0]
    return 0.5 * (shape + mirrored[MIRROR])


def place_in_unit_square(
    shape: np.ndarray, width: float = 0.52, centre_y: float = 0.57
) -> np.ndarray:
    """Scale and shift a (68, 2) shape so the face spans `width` of a unit square, centred."""
    shape = shape - shape.mean(0)
    scale = width / np.ptp(shape[JAW, 0])
    shape = shape * scale
    lo, hi = shape.min(0), shape.max(0)
    return (shape + np.array([0.5, centre_y]) - (lo + hi) / 2).astype(np.float32)


def compute_mean_face(clips: list[dict]) -> np.ndarray:
    """(68, 2) canonical neutral face: symmetrised Procrustes mean of every clip's silent frames."""
    shapes = np.concatenate([c["landmarks"][neutral_frames(c)] for c in clips])
    return place_in_unit_square(symmetrise(procrustes_mean(shapes)))


def clip_displacements(clip: dict) -> np.ndarray:
    """(T, 68, 2) canonical landmark displacements from the clip's own neutral face.

    Each frame is similarity-normalised to the mean face on its stable points (removing head
    position, roll and size), and the median of the clip's neutral frames is subtracted, leaving
    only speech (and blink/expression) motion: the person-independent target of the motion model.
    """
    canonical = to_canonical(clip["landmarks"])
    neutral = np.median(canonical[neutral_frames(clip)], axis=0)
    return (canonical - neutral).astype(np.float32)
