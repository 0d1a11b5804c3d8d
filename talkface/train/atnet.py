"""Train a speech -> canonical landmark motion model on preprocessed GRID clips: the ATVGnet
AT-net (`--model atnet-grid`) or, through the `sinha` recipe, Sinha et al.'s landmark network.

    talkface preprocess ../shared/data/grid cache/grid --layout grid --jobs 2
    talkface train atnet --cache cache/grid --out runs/atnet

Loss (Sinha et al. eq. 2-4 on ATVGnet's PCA output): L = L_lmark + 0.5 L_temp, both mean squared
errors of the reconstructed canonical landmarks (mouth points weighted 3x), L_temp on frame-to-
frame differences. Augmentation for unseen voices: random vocal-tract-length warps of the mel
filterbank, additive noise and SpecAugment masks; per-utterance MFCC normalisation; identity
dropout. Validation every epoch on the unseen speakers (val: s26, s31) and s1 `test`; the epoch
with the lowest val mouth error is kept as best.pt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from talkface.data.landmarks import (
    MOTION_KEYS,
    clip_displacements,
    load_split,
    neutral_frames,
)
from talkface.face.align import mean_face, to_canonical
from talkface.face.landmarks import MOUTH, inner_lip_opening
from talkface.features.align import feature_windows, n_feature_frames
from talkface.features.audio import speech_features
from talkface.features.phones import phone_frames
from talkface.models import atvgnet, sinha
from talkface.models.atvgnet import identity_input
from talkface.motion.params import load_motion_basis
from talkface.train.run import TrainRun, WeightAverage


@dataclass
class ATNetTrainConfig:
    cache: str = "cache/grid"  # output of `talkface preprocess`
    out: str = "runs/atnet"  # run folder: checkpoints, log.csv
    model: str = "atnet-grid"  # preset in MODEL_PRESETS
    epochs: int = 25
    batch_size: int = 32
    sequence: int = 32  # frames per training sequence (random crop of each clip)
    lr: float = 2e-4  # ATVGnet: Adam, 2e-4
    temporal_weight: float = 0.5  # lambda_temp (Sinha et al.)
    mouth_weight: float = 3.0
    warp_range: tuple[float, float] = (0.8, 1.3)  # vocal-tract-length perturbation
    noise_prob: float = 0.3
    identity_noise: float = (
        1.0  # std of noise on the identity coefficients (whitened units)
    )
    identity_dropout: float = (
        0.5  # chance of hiding the identity (one training face: don't lean on it)
    )
    time_mask: int = (
        6  # SpecAugment: blank up to this many feature frames once per sequence
    )
    coefficient_mask: int = 2  # SpecAugment: blank up to this many MFCC coefficients
    weight_decay: float = 1e-5
    # decay per step of the weights' moving average, which is then what is validated and
    # saved (train.run.WeightAverage); 0 = the trained weights themselves
    average: float = 0.0
    synthetic_voices: int = (
        2  # espeak-ng twins per training clip (data/synthetic_voices.py)
    )
    seed: int = 0
    max_clips: int = 0  # 0 = all; small numbers for smoke tests
    val_speakers: tuple[str, ...] = ("s26", "s31")
    select_metric: str = (
        "mouth_error"  # the best epoch minimises this summed over val_speakers
    )
    resume: bool = False

    def __post_init__(self):
        if self.model not in MODEL_PRESETS:
            raise ValueError(
                f"unknown model preset {self.model!r}; choose from {sorted(MODEL_PRESETS)}"
            )
        if self.sequence < 2:
            raise ValueError("sequence must be at least 2 frames (temporal loss)")


MODEL_PRESETS = {
    **{k: (atvgnet.AudioToLandmark, c) for k, c in atvgnet.PRESETS.items()},
    **{k: (sinha.LandmarkNet, c) for k, c in sinha.PRESETS.items()},
}


def build_model(preset: str) -> torch.nn.Module:
    """A fresh model whose PCA layer starts as the shipped motion basis."""
    model_cls, config = MODEL_PRESETS[preset]
    model = model_cls(config)
    basis = load_motion_basis()
    k = config.n_components
    if k > len(basis):
        raise ValueError(
            f"{preset} wants {k} PCA components; the basis has {len(basis)}"
        )
    model.set_pca(
        torch.from_numpy(basis.components[:k]),
        torch.from_numpy(basis.mean),
        torch.from_numpy(basis.scale[:k]),
    )
    return model


@dataclass
class ClipExample:
    name: str
    speaker: str
    wav: np.ndarray  # (N,) float32 16 kHz
    displacements: np.ndarray  # (T, 68, 2) canonical
    identity_shape: np.ndarray  # (68, 2) canonical neutral minus mean face
    fps: float = 25.0
    phones: np.ndarray | None = None  # features.phones of the clean wav, decoded once


def make_examples(clips: list[dict]) -> list[ClipExample]:
    examples = []
    for c in clips:
        canonical = to_canonical(c["landmarks"])
        neutral = np.median(canonical[neutral_frames(c)], axis=0)
        examples.append(
            ClipExample(
                c["name"],
                c["speaker"],
                c["wav"],
                clip_displacements(c),
                neutral - mean_face(),
                float(c["fps"]),
            )
        )
    return examples


def synthetic_examples(
    clips: list[dict],
    examples: list[ClipExample],
    per_clip: int,
    cache: Path,
    seed: int,
    progress: bool,
) -> list[ClipExample]:
    """espeak-ng twins of each training clip (made once, then read from `cache`)."""
    from talkface.data.synthetic_voices import synthetic_twins

    motions = [ex.displacements for ex in examples]
    twins = synthetic_twins(clips, motions, per_clip, cache, seed, progress)
    return [
        ClipExample(
            f"{examples[i].name}~{n}",
            "espeak",
            wav,
            motion,
            examples[i].identity_shape,
            examples[i].fps,
        )
        for n, (i, wav, motion) in enumerate(twins)
    ]


def clip_windows(
    example,
    n_frames: int,
    config,
    warp: float = 1.0,
    noise_db: float | None = None,
    rng=None,
) -> torch.Tensor:
    """(n_frames, context, D) speech windows of the kind and length the model `config` wants,
    from `example.wav` (16 kHz) at `example.fps`, optionally warped and with noise added."""
    wav = example.wav
    if config.features.endswith("+phones") and example.phones is None:
        # decoding is 30x slower than log-mel: once a clip, from its clean speech
        example.phones = phone_frames(wav, n_feature_frames(len(wav)))
    if noise_db is not None:
        power = np.mean(wav**2) * 10 ** (-noise_db / 10)
        wav = wav + rng.normal(0, np.sqrt(power), len(wav)).astype(np.float32)
    features, _ = speech_features(wav, warp, config.features, example.phones)
    return torch.from_numpy(
        feature_windows(features.numpy(), n_frames, example.fps, config.context)
    )


def spec_augment(
    windows: torch.Tensor,
    time_mask: int,
    coefficient_mask: int,
    rng: np.random.Generator,
) -> torch.Tensor:
    """Blank a random span of feature frames and of feature channels in (B, T, context, D)
    windows (SpecAugment, Park et al. 2019); 0 is the utterance mean after normalisation."""
    if not time_mask and not coefficient_mask:
        return windows
    windows = windows.clone()
    for b in range(len(windows)):
        if time_mask:
            width = rng.integers(0, time_mask + 1)
            start = rng.integers(0, windows.shape[2] - width + 1)
            windows[b, :, start : start + width] = 0
        if coefficient_mask:
            width = rng.integers(0, coefficient_mask + 1)
            start = rng.integers(0, windows.shape[3] - width + 1)
            windows[b, :, :, start : start + width] = 0
    return windows


def landmark_losses(
    pred: torch.Tensor, target: torch.Tensor, mouth_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """L_lmark and L_temp (Sinha et al. eq. 2-3) of (B, T, 68, 2) canonical displacements, in
    (1/100 canonical unit)^2, mouth points weighted `mouth_weight` times the others."""
    weights = torch.ones(68)
    weights[MOUTH] = mouth_weight
    weights = weights / weights.mean()
    p, t = pred * 100, target * 100
    lmark = ((p - t) ** 2).sum(-1).mul(weights).mean()
    dp, dt = p[:, 1:] - p[:, :-1], t[:, 1:] - t[:, :-1]
    temp = ((dp - dt) ** 2).sum(-1).mul(weights).mean()
    return lmark, temp


def mouth_agreement(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """(mean mouth-point distance, inner-lip opening correlation) of (T, 68, 2) predicted and
    real canonical displacements of one clip (correlation 0 when the lips do not move)."""
    error = np.linalg.norm(pred[:, MOUTH] - true[:, MOUTH], axis=-1).mean()
    p, t = inner_lip_opening(pred), inner_lip_opening(true)
    corr = np.corrcoef(p, t)[0, 1] if np.std(p) > 1e-9 else 0.0
    return float(error), float(corr)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, examples: list[ClipExample], mouth_weight: float
) -> dict:
    """Loss, mouth-landmark error and inner-lip opening correlation over whole clips."""
    model.eval()
    losses, agreement = [], []
    for ex in examples:
        n = len(ex.displacements)
        windows = clip_windows(ex, n, model.config)[None]
        identity = identity_input(model, torch.from_numpy(ex.identity_shape)[None])
        pred, _ = model(windows, identity)
        target = torch.from_numpy(ex.displacements)[None]
        lmark, _ = landmark_losses(pred, target, mouth_weight)
        losses.append(lmark.item())
        agreement.append(mouth_agreement(pred[0].numpy(), ex.displacements))
    error, corr = np.mean(agreement, axis=0)
    return {
        "loss": float(np.mean(losses)),
        "mouth_error": float(error),
        "opening_corr": float(corr),
    }


TRAIN_CONFIG = ATNetTrainConfig


def train(cfg: ATNetTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, progress=progress)

    # 1. Data: training clips and the validation sets
    train_clips = load_split(cfg.cache, "train", keys=MOTION_KEYS)
    if cfg.max_clips:
        train_clips = train_clips[: cfg.max_clips]
    train_set = make_examples(train_clips)
    if cfg.synthetic_voices:
        train_set += synthetic_examples(
            train_clips,
            train_set,
            cfg.synthetic_voices,
            run.out / "synthetic.npz",
            cfg.seed,
            run.progress,
        )
    train_set = [e for e in train_set if len(e.displacements) >= cfg.sequence]
    val_sets = validation_sets(cfg) if run.main else {}

    # 2. Model, its PCA layer starting from the shipped motion basis
    model = build_model(cfg.model)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=cfg.lr, betas=(0.5, 0.999), weight_decay=cfg.weight_decay
    )
    average = WeightAverage(model, cfg.average) if cfg.average else None
    saved = average.module if average else model  # what is validated and checkpointed
    state = {"optimizer": optimizer, **({"trained": model} if average else {})}
    run.resume(saved, **state)
    net = run.parallel(model)

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        model.train()
        # 3. One pass over the clips in random order, a random sequence crop of each
        rng = run.rng
        order = rng.permutation(len(train_set))
        totals = []
        batches = [
            order[i : i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)
        ]
        for batch in tqdm(
            run.shard(batches),
            desc=f"epoch {epoch}",
            disable=not run.progress,
            leave=False,
        ):
            windows, targets, identities = [], [], []
            for i in batch:
                ex = train_set[i]
                n = len(ex.displacements)
                warp = rng.uniform(*cfg.warp_range) if rng.random() < 0.8 else 1.0
                noise = rng.uniform(15, 40) if rng.random() < cfg.noise_prob else None
                w = clip_windows(ex, n, model.config, warp, noise, rng)
                s = rng.integers(0, n - cfg.sequence + 1)
                windows.append(w[s : s + cfg.sequence])
                targets.append(torch.from_numpy(ex.displacements[s : s + cfg.sequence]))
                identities.append(torch.from_numpy(ex.identity_shape))
            windows = spec_augment(
                torch.stack(windows), cfg.time_mask, cfg.coefficient_mask, rng
            )
            target = torch.stack(targets)
            identity = identity_input(model, torch.stack(identities))
            if identity is not None:
                identity = identity + cfg.identity_noise * torch.randn_like(identity)
                keep = rng.random(len(identity)) >= cfg.identity_dropout
                identity = identity * torch.from_numpy(keep).float()[:, None]
            pred, _ = net(windows, identity)
            lmark, temp = landmark_losses(pred, target, cfg.mouth_weight)
            loss = lmark + cfg.temporal_weight * temp
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if average:
                average.update(model)
            totals.append([lmark.item(), temp.item()])
        # 4. Validate, log, checkpoint (last every epoch; best by the val speakers' mouth error)
        train_lmark, train_temp = run.mean_over_ranks(np.mean(totals, 0))
        metrics = {
            name: evaluate(saved, ex, cfg.mouth_weight)
            for name, ex in val_sets.items()
            if ex
        }
        score = sum(
            metrics[k][cfg.select_metric] for k in cfg.val_speakers if k in metrics
        )
        row = {
            "epoch": epoch,
            "train_lmark": float(train_lmark),
            "train_temp": float(train_temp),
            "seconds": time.time() - t0,
        }
        run.end_epoch(epoch, saved, row, metrics, score, **state)
    return run.close()


def validation_sets(cfg) -> dict[str, list[ClipExample]]:
    """The unseen speakers (val) and the seen speaker's held-out clips (test), whole clips."""
    sets = {
        s: make_examples(
            load_split(cfg.cache, "val", speakers=(s,), keys=MOTION_KEYS)[
                : cfg.max_clips or None
            ]
        )
        for s in cfg.val_speakers
    }
    sets["s1-test"] = make_examples(
        load_split(cfg.cache, "test", keys=MOTION_KEYS)[: cfg.max_clips or 20]
    )
    return sets
