"""What the landmark -> frame recipes (texture, vgnet) share: GRID crops, identity augmentation,
training samples, validation on unseen faces and the end of an epoch.

A sample is one clip: an identity crop (a random frame of the clip) and `length` consecutive
target frames with their real landmarks (teacher forcing, as both papers train), the identity's
warps to those landmarks (the warp renderer, the base of the hybrid renderers) and the real
frames. Only one identity is available in bulk, so every sample is mirrored half the time and
recoloured (per-channel gain and gamma, the same for all its images).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from talkface.data.landmarks import load_split
from talkface.eval.image import ssim
from talkface.face.align import FaceCrop
from talkface.face.landmarks import MIRROR, MOUTH, eye_aspect_ratio
from talkface.motion.params import eyelid_closure
from talkface.render.neural import NeuralRenderer
from talkface.render.warp import WarpRenderer

CACHE_CROP = 128  # the preprocessed crop size the renderers train from


@dataclass
class RendererTrainConfig:
    """The fields every renderer recipe has."""

    cache: str = "cache/grid"  # `talkface preprocess` output with 128 px crops
    out: str = "runs/renderer"
    epochs: int = 20
    steps_per_epoch: int = 250
    batch_size: int = 16
    flip_prob: float = 0.5
    gain_range: tuple[float, float] = (0.75, 1.25)  # per-channel colour gain
    gamma_range: tuple[float, float] = (0.7, 1.4)
    seed: int = 0
    max_clips: int = 0  # 0 = all
    val_speakers: tuple[str, ...] = ("s26", "s31")
    val_clips: int = 5  # per speaker
    resume: bool = False
    # start the generator from these weights (checkpoint path or shipped name): a new run that
    # continues earlier training (--resume continues the same run folder instead)
    init: str = ""
    # share of samples whose frames hold a nearly shut eye (renderers: start at one): GRID s1
    # lids are 80% shut in 5% of frames, too few for a renderer to learn to draw them well
    # or for a sequence discriminator to learn that real faces blink
    blink_share: float = 0.0


def load_crops(
    cache: str, split: str, size: int, extra: tuple[str, ...] = (), **filters
) -> list[dict]:
    """Clips of a split with "crops" (T, size, size, 3) uint8 and "crop_landmarks" (T, 68, 2),
    resized from the cache's 128 px crops when the model works at another size (and the
    cache's `extra` arrays)."""
    import cv2

    keys = (
        f"crop_{CACHE_CROP}x{CACHE_CROP}",
        f"crop_landmarks_{CACHE_CROP}x{CACHE_CROP}",
    )
    clips = load_split(cache, split, keys=(*keys, "fps", *extra), **filters)
    for clip in clips:
        crops, points = clip.pop(keys[0]), clip.pop(keys[1])
        if size != CACHE_CROP:
            crops = np.stack(
                [
                    cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
                    for c in crops
                ]
            )
            points = points * (size / CACHE_CROP)
        clip["crops"], clip["crop_landmarks"] = crops, points
    return clips


class Augment:
    """The identity augmentation of one sample: mirror + recolour, the same for its images."""

    def __init__(self, cfg: RendererTrainConfig, rng: np.random.Generator):
        self.flip = rng.random() < cfg.flip_prob
        self.gain = rng.uniform(*cfg.gain_range, size=3)
        self.gamma = rng.uniform(*cfg.gamma_range)

    def image(self, image: np.ndarray) -> np.ndarray:
        x = (image[:, ::-1] if self.flip else image).astype(np.float32) / 255
        x = np.clip(x**self.gamma * self.gain, 0, 1)
        return (x * 255 + 0.5).astype(np.uint8)

    def landmarks(self, landmarks: np.ndarray, size: int) -> np.ndarray:
        if not self.flip:
            return landmarks
        mirrored = landmarks[..., MIRROR, :].copy()
        mirrored[..., 0] = size - 1 - mirrored[..., 0]
        return mirrored


@dataclass(frozen=True)
class RendererBatch:
    identity: np.ndarray  # (B, S, S, 3) uint8
    identity_landmarks: np.ndarray  # (B, 68, 2) pixels
    warps: np.ndarray  # (B, L, S, S, 3) uint8: the identity warped to each target
    landmarks: np.ndarray  # (B, L, 68, 2) pixels
    real: np.ndarray  # (B, L, S, S, 3) uint8


def make_batch(
    clips: list[dict],
    cfg: RendererTrainConfig,
    size: int,
    rng: np.random.Generator,
    length: int,
) -> RendererBatch:
    """`cfg.batch_size` samples of `length` consecutive frames each."""
    samples = []
    for _ in range(cfg.batch_size):
        clip = clips[rng.integers(len(clips))]
        crops, points = clip["crops"], clip["crop_landmarks"]
        i = rng.integers(len(crops))
        t = rng.integers(len(crops) - length + 1)
        if cfg.blink_share and rng.random() < cfg.blink_share:
            shut = shut_eye_frames(points)
            if len(shut):
                t = min(rng.choice(shut), len(crops) - length)
        aug = Augment(cfg, rng)
        identity = aug.image(crops[i])
        identity_lm = aug.landmarks(points[i], size)
        targets = aug.landmarks(points[t : t + length], size)
        warp = WarpRenderer(FaceCrop(identity, identity_lm, np.eye(2, 3)))
        samples.append(
            (
                identity,
                identity_lm,
                [warp(lm) for lm in targets],
                targets,
                [aug.image(crop) for crop in crops[t : t + length]],
            )
        )
    return RendererBatch(*(np.stack(a) for a in zip(*samples)))


def shut_eye_frames(landmarks: np.ndarray) -> np.ndarray:
    """Indices of the frames of a clip whose lids are nearly shut."""
    return np.flatnonzero(eyelid_closure(eye_aspect_ratio(landmarks)) >= 0.8)


def validation_clips(cfg: RendererTrainConfig, size: int) -> dict[str, list[dict]]:
    sets = {
        s: load_crops(cfg.cache, "val", size, speakers=(s,), limit=cfg.val_clips)
        for s in cfg.val_speakers
    }
    return {s: clips for s, clips in sets.items() if clips}


def _mouth_box(landmarks: np.ndarray, size: int) -> tuple[slice, slice]:
    x0, y0 = np.floor(landmarks[MOUTH].min(0)).astype(int) - 4
    x1, y1 = np.ceil(landmarks[MOUTH].max(0)).astype(int) + 4
    return slice(max(y0, 0), min(y1, size)), slice(max(x0, 0), min(x1, size))


def clip_scores(
    render: Callable[[np.ndarray], np.ndarray] | None,
    crops: np.ndarray,
    landmarks: np.ndarray,
) -> dict:
    """Mean SSIM over the face crop and mean L1 (grey levels) in the mouth box, rendering every
    frame of a clip in order with `render` (None: the still first frame)."""
    size = crops.shape[1]
    ssims, l1 = [], []
    for crop, lm in zip(crops, landmarks):
        fake = crops[0] if render is None else render(lm)
        ssims.append(ssim(crop, fake))
        rows, cols = _mouth_box(lm, size)
        l1.append(np.abs(crop[rows, cols].astype(np.float32) - fake[rows, cols]).mean())
    return {"ssim": float(np.mean(ssims)), "mouth_l1": float(np.mean(l1))}


def _identity_crop(clip: dict) -> FaceCrop:
    return FaceCrop(clip["crops"][0], clip["crop_landmarks"][0], np.eye(2, 3))


def validate(
    renderer: Callable[[FaceCrop], Callable[[np.ndarray], np.ndarray]],
    sets: dict,
    references: dict,
) -> dict:
    """Per speaker: scores of `renderer` (identity crop -> landmarks -> frame) from each
    clip's first frame, with the warp renderer's and the still photo's."""
    out = {}
    for speaker, clips in sets.items():
        scores = [
            clip_scores(renderer(_identity_crop(c)), c["crops"], c["crop_landmarks"])
            for c in clips
        ]
        out[speaker] = {
            k: float(np.mean([s[k] for s in scores])) for k in scores[0]
        } | references[speaker]
    return out


def reference_scores(sets: dict) -> dict:
    """The warp renderer's and the still photo's validation scores (computed once)."""
    out = {}
    for speaker, clips in sets.items():
        systems = {
            "warp": [
                clip_scores(
                    WarpRenderer(_identity_crop(c)), c["crops"], c["crop_landmarks"]
                )
                for c in clips
            ],
            "still": [
                clip_scores(None, c["crops"], c["crop_landmarks"]) for c in clips
            ],
        }
        out[speaker] = {
            f"{name}_{k}": float(np.mean([s[k] for s in scores]))
            for name, scores in systems.items()
            for k in scores[0]
        }
    return out


def renderer_data(cfg: RendererTrainConfig, main: bool, size: int):
    """(training clips, validation clips per speaker, the warp's and the still photo's scores
    on them); validation only on the main process."""
    clips = load_crops(cfg.cache, "train", size, limit=cfg.max_clips or None)
    if not clips:
        raise ValueError(f"no training clips in {cfg.cache}")
    val_sets = validation_clips(cfg, size) if main else {}
    return clips, val_sets, reference_scores(val_sets)


def start_from(generator: torch.nn.Module, init: str) -> None:
    """Load `init`'s weights into the generator (nothing when `init` is empty); the checkpoint
    must hold the same architecture and config, but for flags of the generator's
    `ADDED_MODULES` that it turns on and the checkpoint had off: those modules keep their
    initial ("off") weights; and for modules of its `FITTED_AFTER` that the checkpoint holds
    and the generator does not: those are left out (fitted again once training is done)."""
    if not init:
        return
    from dataclasses import asdict, replace

    from talkface.weights import load_model, load_weights

    checkpoint = load_weights(init)
    problem = ValueError(
        f"{init} holds a {checkpoint.get('architecture')} with another config than "
        f"{type(generator).__name__}({asdict(generator.config)})"
    )
    if checkpoint.get("architecture") != type(generator).__name__:
        raise problem
    earlier = load_model(checkpoint)
    added = {
        flag: prefix
        for flag, prefix in getattr(generator, "ADDED_MODULES", {}).items()
        if getattr(generator.config, flag) and not getattr(earlier.config, flag)
    }
    dropped = {
        prefix: fields
        for prefix, fields in getattr(generator, "FITTED_AFTER", {}).items()
        if getattr(earlier.config, fields[0])
        and not getattr(generator.config, fields[0])
    }
    without = {
        f: getattr(generator.config, f) for fields in dropped.values() for f in fields
    }
    if replace(earlier.config, **without) != replace(
        generator.config, **dict.fromkeys(added, False)
    ):
        raise problem
    weights = {
        k: v
        for k, v in earlier.state_dict().items()
        if not k.startswith(tuple(dropped))
    }
    missing, unexpected = generator.load_state_dict(weights, strict=False)
    assert not unexpected and all(  # what load_model built matches but for `added`
        k.startswith(tuple(added.values())) for k in missing
    ), (missing, unexpected)


def adversarial_setup(run, generator, discriminator, lr: float):
    """Adam (betas 0.5, 0.999, both papers) for generator and discriminator, both resumed from
    last.pt when asked, and the modules to call in training steps (DDP-wrapped when needed):
    (opt_g, opt_d, net_g, net_d)."""
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    run.resume(
        generator, discriminator=discriminator, optimizer_g=opt_g, optimizer_d=opt_d
    )
    return opt_g, opt_d, run.parallel(generator), run.parallel(discriminator)


def finish_epoch(
    run,
    epoch: int,
    seconds: float,
    losses: list[dict[str, float]],
    generator,
    val_sets: dict,
    references: dict,
    **state,
) -> None:
    """Average the epoch's per-step `losses` over steps and processes, render the unseen faces
    with the generator, then log and checkpoint (best: the highest mean SSIM) with `state`."""
    metrics = {}
    if run.main:
        generator.eval()
        metrics = validate(
            lambda crop: NeuralRenderer(crop, generator), val_sets, references
        )
        generator.train()
    score = float(np.mean([m["ssim"] for m in metrics.values()])) if metrics else 0.0
    row = {"epoch": epoch, **run.mean_losses(losses), "seconds": seconds}
    run.end_epoch(epoch, generator, row, metrics, score, **state)
