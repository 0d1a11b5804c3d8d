"""Train the DIRFA mapping network (paper 002 sec. 3.2) on preprocessed GRID clips.

    talkface train dirfa --cache cache/grid --out runs/dirfa

Targets per frame (motion.params.clip_motion): the first n_coefficients landmark PCA
coefficients of the shipped motion basis, eyelid closure and relative head pose, each cut into
D uniform bins between its 0.5th and 99.5th training percentile. Teacher forcing with the real
previous frame (plus a little noise, so sampled histories at inference are not a surprise);
cross-entropy over every parameter's bins (eq. 5), optionally against Gaussian-spread targets
(`label_sigma`, bin_targets) and with a cosine learning rate (`cosine`), as the shipped weights
were trained (their late epochs agree; docs/results.md). Speech augmentation as the AT-net recipe:
vocal-tract-length warps, additive noise, SpecAugment. Validation every epoch on the unseen
speakers: teacher-forced loss, and mouth error / inner-lip opening correlation of the lips
rolled out autoregressively as the pipeline decodes them (each bin distribution's expected value).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface.data.landmarks import load_split
from talkface.models.dirfa import (
    DIRFA,
    PRESETS,
    generate,
)
from talkface.motion.params import clip_motion, load_motion_basis
from talkface.train.atnet import clip_windows, mouth_agreement, spec_augment
from talkface.train.run import TrainRun

DIRFA_KEYS = ("landmarks", "fps", "wav", "words", "word_times", "ear", "pose")


@dataclass
class DIRFATrainConfig:
    cache: str = "cache/grid"
    out: str = "runs/dirfa"
    model: str = "dirfa-grid-phones"  # preset in models.dirfa.PRESETS
    bins: int = 0  # D, bins per parameter; 0 = the preset's (set it to ablate D)
    context: int = 0  # feature frames of speech per video frame; 0 = the preset's
    epochs: int = 30
    batch_size: int = 32
    sequence: int = 64  # frames per training sequence (random crop of each clip)
    lr: float = 3e-4
    cosine: bool = False  # lr follows a half cosine from lr to 0 over the epochs
    weight_decay: float = 0.01
    previous_noise: float = 0.3  # noise on the teacher-forced history ([-1, 1] units)
    # sd in bins of the Gaussian each target is spread over (bin_targets); 0 = the paper's
    # one-hot cross-entropy
    label_sigma: float = 0.0
    warp_range: tuple[float, float] = (0.8, 1.3)  # vocal-tract-length perturbation
    noise_prob: float = 0.3
    time_mask: int = 6
    coefficient_mask: int = 6
    # espeak-ng twins per training clip (data/synthetic_voices.py)
    synthetic_voices: int = 2
    seed: int = 0
    max_clips: int = 0  # 0 = all
    val_speakers: tuple[str, ...] = ("s26", "s31")
    resume: bool = False

    def __post_init__(self):
        if self.model not in PRESETS:
            raise ValueError(
                f"unknown model preset {self.model!r}; choose from {sorted(PRESETS)}"
            )


TRAIN_CONFIG = DIRFATrainConfig


@dataclass
class AnimationClip:
    wav: np.ndarray
    fps: float
    animation: np.ndarray  # (T, P) coefficients, blink, pose
    displacements: np.ndarray  # (T, 68, 2) the real canonical displacements
    phones: np.ndarray | None = None  # features.phones of the wav, decoded once


def make_clips(clips: list[dict], n_coefficients: int) -> list[AnimationClip]:
    basis = load_motion_basis()
    out = []
    for c in clips:
        motion = clip_motion(c, basis)
        animation = np.column_stack(
            [
                motion["coefficients"][:, :n_coefficients],
                motion["blink"],
                motion["pose"],
            ]
        )
        out.append(
            AnimationClip(
                c["wav"],
                float(c["fps"]),
                animation.astype(np.float32),
                motion["displacements"],
            )
        )
    return out


def synthetic_clips(
    clips: list[dict],
    real: list[AnimationClip],
    per_clip: int,
    cache: Path,
    seed: int,
    progress: bool,
) -> list[AnimationClip]:
    """espeak-ng twins of each training clip with its animation and landmarks time-warped onto
    them (blinks and head motion ride along: they are not speech, but the twin needs some)."""
    from talkface.data.synthetic_voices import synthetic_twins

    p = real[0].animation.shape[1]
    motions = [
        np.concatenate([c.animation, c.displacements.reshape(len(c.animation), -1)], 1)
        for c in real
    ]
    return [
        AnimationClip(wav, real[i].fps, motion[:, :p], motion[:, p:].reshape(-1, 68, 2))
        for i, wav, motion in synthetic_twins(
            clips, motions, per_clip, cache, seed, progress
        )
    ]


def bin_targets(model: DIRFA, values: torch.Tensor, sigma: float) -> torch.Tensor:
    """(..., P) continuous targets -> (..., P, D) probabilities over each parameter's bins: the
    mass of a Gaussian (sd `sigma` bins) centred on the value that falls in each bin, the tails
    folded into the end bins (HL-Gauss, Farebrother et al. 2024). Near bins then cost less than
    far ones, which the expected value the lips are decoded from needs; the paper's one-hot
    cross-entropy treats every wrong bin alike."""
    bins = model.config.bins
    unit = (values - model.low) / (model.high - model.low) * bins  # in bin widths
    edges = torch.arange(1, bins, device=values.device, dtype=values.dtype)
    cdf = torch.special.ndtr((edges - unit[..., None]) / sigma)
    cdf = F.pad(cdf, (1, 0), value=0.0)
    cdf = F.pad(cdf, (0, 1), value=1.0)
    return cdf.diff(dim=-1)


def bin_loss(model: DIRFA, logits: torch.Tensor, target: torch.Tensor, sigma: float):
    """Cross-entropy of (..., P, D) logits against (..., P) continuous targets (eq. 5), one-hot
    on the target's bin when sigma is 0, else against bin_targets."""
    if sigma == 0:
        return F.cross_entropy(logits.flatten(0, -2), model.quantise(target).flatten())
    soft = bin_targets(model, target, sigma)
    return -(soft * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def shifted(animation: torch.Tensor) -> torch.Tensor:
    """(B, T, P) -> the previous frame's animation at each frame (zeros before the first)."""
    return F.pad(animation, (0, 0, 1, 0))[:, :-1]


@torch.no_grad()
def evaluate(model: DIRFA, clips: list[AnimationClip]) -> dict:
    model.eval()
    losses, agreement = [], []
    for clip in clips:
        windows = clip_windows(clip, len(clip.animation), model.config)
        target = torch.from_numpy(clip.animation)[None]
        logits = model(windows[None], shifted(target))
        losses.append(bin_loss(model, logits, target, 0.0).item())
        lips = generate(model, windows, None)  # as the pipeline decodes them
        coefficients = lips[:, : model.config.n_coefficients].numpy()
        pred = load_motion_basis().decode(coefficients)
        agreement.append(mouth_agreement(pred, clip.displacements))
    model.train()
    error, corr = np.mean(agreement, axis=0)
    return {
        "loss": float(np.mean(losses)),
        "mouth_error": float(error),
        "opening_corr": float(corr),
    }


def train(cfg: DIRFATrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, progress=progress)
    config = PRESETS[cfg.model]
    if cfg.bins:
        config = dataclasses.replace(config, bins=cfg.bins)
    if cfg.context:
        config = dataclasses.replace(config, context=cfg.context)

    # 1. Data: animation targets of every training clip; unseen speakers for validation
    raw = load_split(cfg.cache, "train", keys=DIRFA_KEYS)[: cfg.max_clips or None]
    train_set = make_clips(raw, config.n_coefficients)
    if cfg.synthetic_voices:
        train_set += synthetic_clips(
            raw,
            train_set,
            cfg.synthetic_voices,
            run.out / "synthetic.npz",
            cfg.seed,
            run.progress,
        )
    train_set = [c for c in train_set if len(c.animation) >= cfg.sequence]
    del raw
    val_sets = {}
    if run.main:
        for s in cfg.val_speakers:
            val = load_split(cfg.cache, "val", speakers=(s,), keys=DIRFA_KEYS)
            val_sets[s] = make_clips(
                val[: cfg.max_clips or None], config.n_coefficients
            )

    # 2. Model, its bins spanning the training range of each parameter
    model = DIRFA(config)
    everything = np.concatenate([c.animation for c in train_set])
    model.set_range(
        torch.from_numpy(np.percentile(everything, 0.5, axis=0)).float(),
        torch.from_numpy(np.percentile(everything, 99.5, axis=0)).float(),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    run.resume(model, optimizer=optimizer)
    net = run.parallel(model)

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        if cfg.cosine:  # set from the epoch alone, so --resume needs no scheduler state
            for group in optimizer.param_groups:
                group["lr"] = (
                    cfg.lr * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
                )
        model.train()
        rng = run.rng
        order = rng.permutation(len(train_set))
        batches = [
            order[i : i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)
        ]
        totals = []
        for batch in tqdm(
            run.shard(batches),
            desc=f"epoch {epoch}",
            disable=not run.progress,
            leave=False,
        ):
            # 3. Teacher-forced cross-entropy on random crops
            windows, targets = [], []
            for i in batch:
                clip = train_set[i]
                warp = rng.uniform(*cfg.warp_range) if rng.random() < 0.8 else 1.0
                noise = rng.uniform(15, 40) if rng.random() < cfg.noise_prob else None
                w = clip_windows(clip, len(clip.animation), config, warp, noise, rng)
                s = rng.integers(0, len(clip.animation) - cfg.sequence + 1)
                windows.append(w[s : s + cfg.sequence])
                targets.append(torch.from_numpy(clip.animation[s : s + cfg.sequence]))
            windows = spec_augment(
                torch.stack(windows), cfg.time_mask, cfg.coefficient_mask, rng
            )
            target = torch.stack(targets)
            previous = shifted(target)
            scale = (model.high - model.low) / 2  # noise in the network's [-1, 1] units
            previous = previous + cfg.previous_noise * scale * torch.randn_like(
                previous
            )
            logits = net(windows, previous)
            loss = bin_loss(model, logits, target, cfg.label_sigma)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            totals.append(loss.item())
        # 4. Validate (sampled animation on the unseen speakers), log, checkpoint
        (train_loss,) = run.mean_over_ranks(np.array([np.mean(totals)]))
        metrics = {
            name: evaluate(model, clips) for name, clips in val_sets.items() if clips
        }
        score = sum(metrics[k]["mouth_error"] for k in cfg.val_speakers if k in metrics)
        row = {
            "epoch": epoch,
            "train_loss": float(train_loss),
            "seconds": time.time() - t0,
        }
        run.end_epoch(epoch, model, row, metrics, score, optimizer=optimizer)
    return run.close()
