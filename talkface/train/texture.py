"""Train Sinha et al.'s attention + colour-map texture generator (paper 000 sec. III-C, IV).

    talkface train texture --cache cache/grid --out runs/texture

Teacher forcing, as in the paper: ground-truth landmarks of GRID s1 `train` frames are rendered
from another frame of the same clip (the identity) and compared with the real frame. Losses
(eq. 7-14): lambda_pix 100 x L1 weighted by a fixed spatial mask (mouth 4x, eyes 2x), LSGAN
with a PatchGAN discriminator (instance norm) at lambda_adv 0.5, and lambda_reg 0.2 x (the
attention regulariser ||1 - att||^2 + the temporal one on attention and colour maps of two
consecutive frames). The norms are means over pixels, so the weights balance as in the paper
whatever the crop size. Adam 1e-4, betas (0.5, 0.999), batch 16.

One identity is available in bulk, so the renderer is made to generalise on purpose: every
sample is mirrored half the time and recoloured (per-channel gain and gamma, the same for all
its images), and the default `base="warp"` composites onto the warp renderer's frame, which
keeps any face's identity by construction. Validation every epoch on the unseen faces (s26,
s31) from their first frame and real landmarks: face-crop SSIM and mouth-region L1 against
the real frames, next to the warp renderer and the still photo.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from talkface.data.landmarks import load_split
from talkface.eval.image import ssim
from talkface.face.align import FaceCrop, mean_face
from talkface.face.landmarks import LEFT_EYE, MIRROR, MOUTH, RIGHT_EYE
from talkface.models.sinha import (
    PATCH_PRESETS,
    TEXTURE_PRESETS,
    PatchDiscriminator,
    TextureGenerator,
    TextureGeneratorConfig,
)
from talkface.render.neural import NeuralRenderer, generator_inputs, to_model_range
from talkface.render.warp import WarpRenderer
from talkface.train.run import TrainRun

CACHE_CROP = 128  # the preprocessed crop size the renderers train from


def load_crops(cache: str, split: str, size: int, **filters) -> list[dict]:
    """Clips of a split with "crops" (T, size, size, 3) uint8 and "crop_landmarks" (T, 68, 2),
    resized from the cache's 128 px crops when the model works at another size."""
    import cv2

    keys = (
        f"crop_{CACHE_CROP}x{CACHE_CROP}",
        f"crop_landmarks_{CACHE_CROP}x{CACHE_CROP}",
    )
    clips = load_split(cache, split, keys=(*keys, "fps"), **filters)
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


@dataclass
class TextureTrainConfig:
    cache: str = "cache/grid"  # `talkface preprocess` output with 128 px crops
    out: str = "runs/texture"
    model: str = "texture-grid"  # preset in models.sinha.TEXTURE_PRESETS
    discriminator: str = "patch-grid"  # preset in models.sinha.PATCH_PRESETS
    epochs: int = 20
    steps_per_epoch: int = 250
    batch_size: int = 16
    lr: float = 1e-4  # Adam, betas (0.5, 0.999), both networks
    pixel_weight: float = 100.0  # lambda_pix
    adversarial_weight: float = 0.5  # lambda_adv
    regulariser_weight: float = 0.2  # lambda_reg
    mouth_weight: float = 4.0  # spatial mask of L_pix
    eye_weight: float = 2.0
    flip_prob: float = 0.5
    gain_range: tuple[float, float] = (0.75, 1.25)  # per-channel colour gain
    gamma_range: tuple[float, float] = (0.7, 1.4)
    seed: int = 0
    max_clips: int = 0  # 0 = all
    val_speakers: tuple[str, ...] = ("s26", "s31")
    val_clips: int = 5  # per speaker
    resume: bool = False

    def __post_init__(self):
        if self.model not in TEXTURE_PRESETS:
            raise ValueError(
                f"unknown model preset {self.model!r}; choose from {sorted(TEXTURE_PRESETS)}"
            )
        if self.discriminator not in PATCH_PRESETS:
            raise ValueError(
                f"unknown discriminator preset {self.discriminator!r}; "
                f"choose from {sorted(PATCH_PRESETS)}"
            )


TRAIN_CONFIG = TextureTrainConfig


def pixel_weights(size: int, mouth: float, eyes: float) -> torch.Tensor:
    """(1, 1, size, size) fixed spatial mask alpha of L_pix (eq. 7), mean 1: Gaussian blobs over
    the mean face's mouth and eyes (aligned crops put them in the same place)."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    face = mean_face() * size
    weight = np.ones((size, size))
    for points, gain in ((MOUTH, mouth), (RIGHT_EYE, eyes), (LEFT_EYE, eyes)):
        centre = face[points].mean(0)
        spread = np.maximum(np.ptp(face[points], 0), 0.04 * size)  # (x, y) extents
        blob = np.exp(
            -(((xs - centre[0]) / spread[0]) ** 2) - ((ys - centre[1]) / spread[1]) ** 2
        )
        weight += (gain - 1) * blob
    return torch.from_numpy(weight / weight.mean()).float()[None, None]


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """0.5 E[(D(x) - 1)^2] for real targets, 0.5 E[D(x)^2] for fake ones (eq. 8-9)."""
    return 0.5 * (scores - float(real)).pow(2).mean()


def texture_losses(
    frames: torch.Tensor,
    attention: torch.Tensor,
    colour: torch.Tensor,
    real: torch.Tensor,
    weights: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """L_pix, L_att and L_temp of (B, 2, C, S, S) pairs of consecutive frames (eq. 7, 11, 12)."""
    return {
        "pixel": (weights * (frames - real).abs()).mean(),
        "attention": (1 - attention).pow(2).mean(),
        "temporal": (attention[:, 1] - attention[:, 0]).pow(2).mean()
        + (colour[:, 1] - colour[:, 0]).pow(2).mean(),
    }


class Augment:
    """The identity augmentation of one sample: mirror + recolour, the same for its images."""

    def __init__(self, cfg: TextureTrainConfig, rng: np.random.Generator):
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


def make_batch(
    clips: list[dict], cfg: TextureTrainConfig, size: int, rng: np.random.Generator
):
    """Identity crops, their landmarks, warps and landmarks of two consecutive target frames,
    and the real target frames: arrays (B, ...) and (B, 2, ...)."""
    ids, id_lms, warps, lms, reals = [], [], [], [], []
    for _ in range(cfg.batch_size):
        clip = clips[rng.integers(len(clips))]
        crops, points = clip["crops"], clip["crop_landmarks"]
        i = rng.integers(len(crops))
        t = rng.integers(len(crops) - 1)
        aug = Augment(cfg, rng)
        identity = aug.image(crops[i])
        identity_lm = aug.landmarks(points[i], size)
        targets = aug.landmarks(points[t : t + 2], size)
        warp = WarpRenderer(FaceCrop(identity, identity_lm, np.eye(2, 3)))
        ids.append(identity)
        id_lms.append(identity_lm)
        warps.append([warp(lm) for lm in targets])
        lms.append(targets)
        reals.append([aug.image(crops[k]) for k in (t, t + 1)])
    return tuple(np.stack(a) for a in (ids, id_lms, warps, lms, reals))


def generate_pairs(
    model: torch.nn.Module, config: TextureGeneratorConfig, batch
) -> tuple[torch.Tensor, ...]:
    """Run the generator on both frames of each pair: (B, 2, ...) frames, attention, colour."""
    ids, id_lms, warps, lms, _ = batch
    b = len(ids)
    inputs = generator_inputs(
        config,
        np.repeat(ids, 2, 0),
        np.repeat(id_lms, 2, 0),
        warps.reshape(2 * b, *warps.shape[2:]),
        lms.reshape(2 * b, 68, 2),
    )
    return tuple(x.unflatten(0, (b, 2)) for x in model(*inputs))


def validation_clips(cfg: TextureTrainConfig, size: int) -> dict[str, list[dict]]:
    sets = {
        s: load_crops(cfg.cache, "val", size, speakers=(s,), limit=cfg.val_clips)
        for s in cfg.val_speakers
    }
    return {s: clips for s, clips in sets.items() if clips}


def _mouth_box(landmarks: np.ndarray, size: int) -> tuple[slice, slice]:
    x0, y0 = np.floor(landmarks[MOUTH].min(0)).astype(int) - 4
    x1, y1 = np.ceil(landmarks[MOUTH].max(0)).astype(int) + 4
    return slice(max(y0, 0), min(y1, size)), slice(max(x0, 0), min(x1, size))


def clip_scores(renderer, crops: np.ndarray, landmarks: np.ndarray) -> dict:
    """Mean SSIM over the face crop and mean L1 (grey levels) in the mouth box, rendering every
    frame of a clip from its first frame with `renderer` (None: the still first frame)."""
    size = crops.shape[1]
    ssims, l1 = [], []
    for crop, lm in zip(crops, landmarks):
        fake = crops[0] if renderer is None else renderer(lm)
        ssims.append(ssim(crop, fake))
        rows, cols = _mouth_box(lm, size)
        l1.append(np.abs(crop[rows, cols].astype(np.float32) - fake[rows, cols]).mean())
    return {"ssim": float(np.mean(ssims)), "mouth_l1": float(np.mean(l1))}


def validate(model: TextureGenerator, sets: dict, references: dict) -> dict:
    """Per speaker: the model's scores, with the warp renderer's and the still photo's."""
    model.eval()
    out = {}
    for speaker, clips in sets.items():
        scores = []
        for clip in clips:
            crops, lms = clip["crops"], clip["crop_landmarks"]
            crop = FaceCrop(crops[0], lms[0], np.eye(2, 3))
            scores.append(clip_scores(NeuralRenderer(crop, model), crops, lms))
        out[speaker] = {
            k: float(np.mean([s[k] for s in scores])) for k in scores[0]
        } | references[speaker]
    model.train()
    return out


def reference_scores(sets: dict) -> dict:
    """The warp renderer's and the still photo's validation scores (computed once)."""
    out = {}
    for speaker, clips in sets.items():
        warp, still = [], []
        for clip in clips:
            crops, lms = clip["crops"], clip["crop_landmarks"]
            crop = FaceCrop(crops[0], lms[0], np.eye(2, 3))
            warp.append(clip_scores(WarpRenderer(crop), crops, lms))
            still.append(clip_scores(None, crops, lms))
        out[speaker] = {
            f"{name}_{k}": float(np.mean([s[k] for s in scores]))
            for name, scores in (("warp", warp), ("still", still))
            for k in scores[0]
        }
    return out


def train(cfg: TextureTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, higher_is_better=True, progress=progress)
    generator = TextureGenerator(TEXTURE_PRESETS[cfg.model])
    discriminator = PatchDiscriminator(PATCH_PRESETS[cfg.discriminator])
    size = generator.config.size

    # 1. Data: s1 `train` crops with their landmarks; the unseen faces for validation
    clips = load_crops(cfg.cache, "train", size, limit=cfg.max_clips or None)
    if not clips:
        raise ValueError(f"no training clips in {cfg.cache}")
    val_sets = validation_clips(cfg, size) if run.main else {}
    references = reference_scores(val_sets) if run.main else {}
    weights = pixel_weights(size, cfg.mouth_weight, cfg.eye_weight)

    # 2. Networks and optimisers (the paper's Adam settings for both)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    run.resume(
        generator, discriminator=discriminator, optimizer_g=opt_g, optimizer_d=opt_d
    )
    net_g, net_d = run.parallel(generator), run.parallel(discriminator)

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        rng = run.rank_rng(epoch)
        totals = []
        steps = run.shard(list(range(cfg.steps_per_epoch)))
        for _ in tqdm(
            steps, desc=f"epoch {epoch}", disable=not run.progress, leave=False
        ):
            batch = make_batch(clips, cfg, size, rng)
            real = to_model_range(batch[4])  # (B, 2, 3, S, S)
            frames, attention, colour = generate_pairs(net_g, generator.config, batch)
            # 3. Discriminator step (LSGAN, eq. 8) on single frames, real and fake in one call
            fake_flat = frames.flatten(0, 1)
            scores = net_d(torch.cat([real.flatten(0, 1), fake_flat.detach()]))
            n = len(fake_flat)
            loss_d = lsgan_loss(scores[:n], True) + lsgan_loss(scores[n:], False)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            # 4. Generator step (eq. 14)
            terms = texture_losses(frames, attention, colour, real, weights)
            adversarial = lsgan_loss(net_d(fake_flat), True)
            loss_g = (
                cfg.pixel_weight * terms["pixel"]
                + cfg.adversarial_weight * adversarial
                + cfg.regulariser_weight * (terms["attention"] + terms["temporal"])
            )
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            totals.append(
                [
                    terms["pixel"].item(),
                    adversarial.item(),
                    loss_d.item(),
                    terms["attention"].item(),
                    terms["temporal"].item(),
                ]
            )
        # 5. Validate on the unseen faces; keep the epoch with the best mean SSIM
        means = run.mean_over_ranks(np.mean(totals, 0))
        metrics = validate(generator, val_sets, references) if run.main else {}
        score = float(np.mean([m["ssim"] for m in metrics.values()])) if metrics else 0
        row = {
            "epoch": epoch,
            **dict(
                zip(
                    ["pixel", "adversarial", "discriminator", "attention", "temporal"],
                    map(float, means),
                )
            ),
            "seconds": time.time() - t0,
        }
        run.end_epoch(
            epoch,
            generator,
            row,
            metrics,
            score,
            discriminator=discriminator,
            optimizer_g=opt_g,
            optimizer_d=opt_d,
        )
    return run.close()
