"""Renderers alone: every frame of a clip rendered from its real landmarks (teacher forcing, as
both papers evaluate their renderers), from the clip's first frame, at the aligned-crop level.

Aligned crops (`talkface preprocess` output, 128 px) take head motion out, so what is measured
is the face itself: SSIM and PSNR of the face crop, sharpness (CPBD) next to the real crops',
mouth landmark distance and the face-embedding distance to the identity frame. Generated and
real crops both go through talkface's H.264 writer first, so sharpness is compared at the same
encoding. The still first frame is the baseline of the same run.

    python scripts/compare_renderers.py --cache cache/grid --texture runs/texture/best.pt
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from talkface.data.landmarks import load_split
from talkface.eval.runner import evaluate_pair, measure_video, reencoded, summarise
from talkface.face.align import FaceCrop

RENDER_SETS = {  # name: (speaker, split)
    "s1-test": ("s1", "test"),
    "s26-val": ("s26", "val"),
    "s31-val": ("s31", "val"),
}
CROP = 128  # the cache's crop size the renderers are measured at

# a system: identity crop -> (crop-pixel landmarks -> (S, S, 3) uint8 frame)
System = Callable[[FaceCrop], Callable[[np.ndarray], np.ndarray]]


def still_system(crop: FaceCrop) -> Callable[[np.ndarray], np.ndarray]:
    return lambda landmarks: crop.image


def render_clip(system: System, crops: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(T, S, S, 3) frames of one clip rendered from its first crop and every frame's
    (T, 68, 2) crop-pixel landmarks."""
    render = system(FaceCrop(crops[0], landmarks[0], np.eye(2, 3, dtype=np.float32)))
    return np.stack([render(lm) for lm in landmarks])


def evaluate_renderers(
    cache: str | Path,
    systems: dict[str, System],
    sets: dict[str, tuple[str, str]] = RENDER_SETS,  # name: (speaker, split)
    limit: int | None = None,
    cpbd_every: int = 3,
    progress: bool = True,
) -> dict:
    """{set: {system: report}} with per-clip metrics and their means (eval.runner.summarise);
    the still first frame is added as "static", and the real crops themselves as "real" (the
    floor: landmark jitter, and the identity distance a real face's own motion causes)."""
    from tqdm import tqdm

    keys = (f"crop_{CROP}x{CROP}", f"crop_landmarks_{CROP}x{CROP}", "fps")
    systems = {"static": still_system, **systems}
    out = {}
    for name, (speaker, split) in sets.items():
        clips = load_split(cache, split, speakers=(speaker,), keys=keys, limit=limit)
        per_system = {s: [] for s in [*systems, "real"]}
        for clip in tqdm(clips, desc=name, unit="clip", disable=not progress):
            crops, landmarks = clip[keys[0]], clip[keys[1]]
            fps = float(clip["fps"])
            real = reencoded(crops)
            reference = measure_video(real, None, fps, None, cpbd_every)
            for system, make in systems.items():
                fake = reencoded(render_clip(make, crops, landmarks))
                per_system[system].append(
                    {
                        "clip": clip["name"],
                        **evaluate_pair(
                            fake,
                            real,
                            fps,
                            reference_measures=reference,
                            cpbd_every=cpbd_every,
                        ),
                    }
                )
            per_system["real"].append(
                {
                    "clip": clip["name"],
                    **evaluate_pair(
                        real,
                        real,
                        fps,
                        reference_measures=reference,
                        cpbd_every=cpbd_every,
                    ),
                }
            )
        out[name] = {
            s: {"clips": c, **summarise(c)} for s, c in per_system.items() if c
        }
    return out
