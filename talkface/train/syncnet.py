"""Train the SyncNet-style sync expert on preprocessed GRID s1 `train` clips.

    talkface preprocess ../shared/data/grid cache/grid --jobs 2
    talkface train syncnet --cache cache/grid --out runs/syncnet

Loss: multi-way cross-entropy ("Perfect Match", Chung et al. 2019). Each example is one video
window against the audio windows of the same clip at every shift in -15..15 frames that fits;
logits are minus the embedding distances and the in-sync window is the target, which is what
the joonson rule's argmin over shifts asks of the embeddings. One training face only, so the
video side sees standardised grey windows under random gamma, zoom, shift, mirror and noise
(augment_faces), and the audio side vocal-tract-length warps and noise; validation is on the
unseen speakers (s26, s31): the share of clips whose injected audio shift the joonson rule
recovers within one frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface.data.landmarks import load_split
from talkface.data.preprocess import crop_key
from talkface.eval.sync import VSHIFT, sync_score
from talkface.features.align import SYNC_WINDOW, shift_audio, sync_windows
from talkface.features.audio import speech_features
from talkface.features.visual import SYNC_CROP_SIZE, lower_face, standardise
from talkface.models.syncnet import PRESETS, WINDOW_FEATURES, SyncNet
from talkface.train.run import TrainRun

CROP_KEY = crop_key((SYNC_CROP_SIZE, SYNC_CROP_SIZE))  # the preprocess crop to read
SYNC_KEYS = (CROP_KEY, "wav", "fps")


@dataclass
class SyncNetTrainConfig:
    cache: str = "cache/grid"  # output of `talkface preprocess` (with 128x128 crops)
    out: str = "runs/syncnet"
    model: str = "syncnet-grid"  # preset in models.syncnet.PRESETS
    epochs: int = 12
    windows_per_clip: int = 8  # training examples drawn from each clip per epoch
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warps: tuple[float, ...] = (0.85, 0.92, 1.0, 1.08, 1.16)  # VTLP factors precomputed
    noise_std: float = 0.1  # on normalised MFCCs
    pixel_noise: float = 0.05  # on standardised face windows
    max_shift_px: float = 8.0  # random translation of the face windows
    max_zoom: float = 0.12  # random zoom in [1 - z, 1 + z]
    max_gamma: float = 1.5  # random gamma in [1 / g, g]
    val_shifts: tuple[int, ...] = (
        -10,
        -6,
        -3,
        0,
        3,
        6,
        10,
    )  # injected audio leads (frames)
    val_speakers: tuple[str, ...] = ("s26", "s31")
    seed: int = 0
    max_clips: int = 0  # 0 = all; small numbers for smoke tests
    resume: bool = False

    def __post_init__(self):
        if self.model not in PRESETS:
            raise ValueError(
                f"unknown model preset {self.model!r}; choose from {sorted(PRESETS)}"
            )


@dataclass
class SyncClip:
    name: str
    faces: np.ndarray  # (T, 48, 96) uint8 grey lower faces
    wav: np.ndarray  # (N,) float32 16 kHz
    mfcc: list[np.ndarray]  # per VTLP warp, (F, n_mfcc) normalised


def make_clips(clips: list[dict], warps: tuple[float, ...] = (1.0,)) -> list[SyncClip]:
    out = []
    for c in clips:
        if float(c["fps"]) != 25.0:
            continue
        mfcc = [speech_features(c["wav"], w)[0].numpy() for w in warps]
        out.append(SyncClip(c["name"], lower_face(c[CROP_KEY]), c["wav"], mfcc))
    return out


def augment_faces(frames: np.ndarray, cfg: SyncNetTrainConfig, rng) -> np.ndarray:
    """One (5, H, W) uint8 window -> standardised float window, seen as another face might be:
    random gamma, the same random zoom and shift on every frame (faces differ in where the
    mouth sits in the crop), a random mirror, pixel noise."""
    import cv2

    height, width = frames.shape[1:]
    gamma = np.exp(rng.uniform(-1, 1) * np.log(cfg.max_gamma))
    scale = rng.uniform(1 - cfg.max_zoom, 1 + cfg.max_zoom)
    shift = rng.uniform(-cfg.max_shift_px, cfg.max_shift_px, size=2)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, scale)
    matrix[:, 2] += shift
    window = np.stack(
        [
            cv2.warpAffine(
                255.0 * (f / 255.0).astype(np.float32) ** gamma,
                matrix,
                (width, height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            for f in frames
        ]
    )
    if rng.random() < 0.5:
        window = window[:, :, ::-1]
    window = standardise(window[None])[0]
    return window + cfg.pixel_noise * rng.standard_normal(window.shape)


def sample_batch(
    clips: list[SyncClip], indices: np.ndarray, cfg: SyncNetTrainConfig, rng
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Faces (B, 5, H, W), candidate audio (B, 2V+1, 20, n_mfcc) and a validity mask (B, 2V+1).

    Candidate j holds the audio window shifted by j - V frames from the in-sync one (j = V).
    """
    faces, audio, valid = [], [], []
    shifts = np.arange(-VSHIFT, VSHIFT + 1)
    for i in indices:
        clip = clips[i]
        video_starts, feature_starts = sync_windows(len(clip.faces), len(clip.wav))
        n = len(video_starts)
        w = rng.integers(n)
        window = augment_faces(clip.faces[w : w + SYNC_WINDOW], cfg, rng)
        faces.append(window.astype(np.float32))
        mfcc = clip.mfcc[rng.integers(len(clip.mfcc))]
        candidates = np.clip(w + shifts, 0, n - 1)
        index = feature_starts[candidates][:, None] + np.arange(WINDOW_FEATURES)
        a = mfcc[index] + cfg.noise_std * rng.standard_normal(
            (len(shifts),) + mfcc[index].shape[1:]
        )
        audio.append(a.astype(np.float32))
        valid.append((w + shifts >= 0) & (w + shifts < n))
    return (
        torch.from_numpy(np.stack(faces)),
        torch.from_numpy(np.stack(audio)),
        torch.from_numpy(np.stack(valid)),
    )


def multiway_loss(
    model: SyncNet, faces: torch.Tensor, audio: torch.Tensor, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the in-sync window among all valid shifts, and top-1 accuracy."""
    B, K = audio.shape[:2]
    v = model.embed_video(faces)  # (B, D)
    a = model.embed_audio(audio.flatten(0, 1)).unflatten(0, (B, K))  # (B, K, D)
    return shift_cross_entropy(v, a, valid)


def shift_cross_entropy(
    video: torch.Tensor, audio: torch.Tensor, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of the in-sync audio among its shifts, logits minus the embedding
    distances, and top-1 accuracy: (B, D) video embeddings against (B, 2V+1, D) audio
    embeddings shifted by -V..V frames (the in-sync one in the middle), (B, 2V+1) valid."""
    logits = -torch.linalg.vector_norm(video[:, None] - audio, dim=-1)
    logits = logits.masked_fill(~valid, float("-inf"))
    target = torch.full((len(video),), audio.shape[1] // 2, dtype=torch.long)
    accuracy = (logits.argmax(1) == target).float().mean()
    return F.cross_entropy(logits, target), accuracy


@torch.no_grad()
def validate(model: SyncNet, clips: list[SyncClip], shifts: tuple[int, ...]) -> dict:
    """Offset recovery (within one frame of the injected lead) and mean confidence."""
    from talkface.eval.sync import embed_clip

    model.eval()
    hits, confidences = [], []
    for clip in clips:
        for lead in shifts:
            score = sync_score(
                *embed_clip(model, clip.faces, shift_audio(clip.wav, lead))
            )
            hits.append(abs(score.offset - lead) <= 1)
            if lead == 0:
                confidences.append(score.confidence)
    return {
        "offset_accuracy": float(np.mean(hits)),
        "confidence": float(np.mean(confidences)),
    }


TRAIN_CONFIG = SyncNetTrainConfig


def train(cfg: SyncNetTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, higher_is_better=True, progress=progress)

    # 1. Data: s1 train lower faces + warped MFCCs; unseen speakers for validation
    raw = load_split(cfg.cache, "train", keys=SYNC_KEYS)
    train_set = make_clips(raw[: cfg.max_clips or None], cfg.warps)
    del raw
    val_sets = {
        s: make_clips(
            load_split(cfg.cache, "val", speakers=(s,), keys=SYNC_KEYS)[
                : cfg.max_clips or None
            ]
        )
        for s in cfg.val_speakers
    }

    # 2. Model and optimiser (resumed from last.pt if asked)
    model = SyncNet(PRESETS[cfg.model])
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    steps_per_epoch = -(-len(train_set) * cfg.windows_per_clip // cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.1
    )
    run.resume(model, optimizer=optimizer, scheduler=scheduler)

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        model.train()
        # 3. Random windows of every clip, each against all its shifted audio windows
        order = np.repeat(np.arange(len(train_set)), cfg.windows_per_clip)
        order = run.rng.permutation(order)
        totals = []
        for step in tqdm(
            range(steps_per_epoch),
            desc=f"epoch {epoch}",
            disable=not run.progress,
            leave=False,
        ):
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            loss, accuracy = multiway_loss(
                model, *sample_batch(train_set, batch, cfg, run.rng)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            totals.append([loss.item(), accuracy.item()])
        # 4. Validate on the unseen speakers, log, checkpoint
        metrics = {
            name: validate(model, clips, cfg.val_shifts)
            for name, clips in val_sets.items()
            if clips
        }
        score = float(np.mean([m["offset_accuracy"] for m in metrics.values()] or [0]))
        row = {
            "epoch": epoch,
            "train_loss": float(np.mean(totals, 0)[0]),
            "train_top1": float(np.mean(totals, 0)[1]),
            "seconds": time.time() - t0,
        }
        run.end_epoch(
            epoch, model, row, metrics, score, optimizer=optimizer, scheduler=scheduler
        )
    return run.close()
