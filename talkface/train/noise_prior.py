"""Fit a temporal GAN's learned noise prior (models.vougioukas.NoisePrior) to its noise encoder's
codes of real video.

    talkface train noise-prior --generator runs/tg/last.pt --out runs/noise-prior

A temporal GAN trained with a noise encoder (`--encoder-weight`) learns to draw real blinks
from the encoder's codes, but the paper's noise, N(0, 0.6) drawn independently per frame,
seldom looks like the codes of a blink: its blinks come rarely and shallow. This recipe keeps
the generator and the encoder frozen, encodes every s1 `train` clip, and fits an autoregressive
Gaussian-mixture prior to the codes (posterior draws, fresh every batch) by maximum likelihood:
the aggregate posterior the generator learnt to read, as a two-stage VAE's learned prior.
The result is the whole generator with its prior (a checkpoint `talkface generate --model`
loads and `scripts/export_weights.py` ships); drawn noise then goes through the prior.

Validation every epoch: the prior's negative log-likelihood of held-out s1 clips' codes (nats
per frame; best.pt is the lowest) and of the unseen speakers' (s26, s31), beside the paper's
N(0, 0.6)'s (`paper_nll`), and blinks per second
and their depth (lowest EAR over the clip's median) in crops the generator draws with noise
from the prior on the unseen speakers' first frames and audio, next to the real crops'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from talkface.eval.blinks import blink_depths
from talkface.models.vougioukas import (
    NOISE_ENCODER_PRESETS,
    NoiseEncoder,
    NoisePrior,
    TemporalGenerator,
)
from talkface.render.neural import to_model_range
from talkface.render.temporal_gan import GANFrames
from talkface.train.renderer_data import load_crops
from talkface.train.run import TrainRun
from talkface.train.temporal_gan import crop_ear, with_audio, with_noise_prior
from talkface.weights import load_model, load_weights


@dataclass
class NoisePriorTrainConfig:
    # a temporal GAN checkpoint trained with a noise encoder (a run's last.pt)
    generator: str = ""
    cache: str = "cache/grid"
    out: str = "runs/noise-prior"
    hidden: int = 64  # the prior's GRU
    components: int = 5  # Gaussians in each frame's mixture
    epochs: int = 20
    steps_per_epoch: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    # every n-th s1 `train` clip scores the prior (best.pt), 0 = none
    held_out: int = 20
    seed: int = 0
    max_clips: int = 0  # 0 = all
    val_speakers: tuple[str, ...] = ("s26", "s31")
    val_clips: int = 5  # per unseen speaker, drawn by the generator each epoch
    resume: bool = False


TRAIN_CONFIG = NoisePriorTrainConfig


def mixture_nll(
    logits: torch.Tensor, means: torch.Tensor, log_std: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """(...) negative log-likelihood (nats) of (..., D) `x` under the diagonal Gaussian mixture
    with (..., K) logits and (..., K, D) means and log standard deviations."""
    z = (x[..., None, :] - means) / log_std.exp()
    per_component = (-0.5 * z.pow(2) - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
    return -torch.logsumexp(logits.log_softmax(-1) + per_component, -1)


def prior_nll(prior: NoisePrior, codes: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood per frame of (B, T, D) noise sequences under the prior,
    each frame predicted from the frames before it."""
    previous = torch.cat([torch.zeros_like(codes[:, :1]), codes[:, :-1]], 1)
    logits, means, log_std, _ = prior(previous)
    return mixture_nll(logits, means, log_std, codes).mean()


def gaussian_nll(codes: torch.Tensor, std: float) -> float:
    """Mean negative log-likelihood per frame of (B, T, D) noise under the paper's noise,
    N(0, std^2) for each dimension of each frame: what the learned prior is measured against."""
    nll = 0.5 * (codes / std).pow(2) + np.log(std) + 0.5 * np.log(2 * np.pi)
    return nll.sum(-1).mean().item()


def encode_clips(
    encoder: NoiseEncoder, clips: list[dict], frames: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's mean and log-variance (N, frames, D) of each clip's first `frames`."""
    means, log_vars = [], []
    with torch.no_grad():
        for clip in clips:
            mean, log_var = encoder(to_model_range(clip["crops"][:frames])[None])
            means.append(mean)
            log_vars.append(log_var)
    return torch.cat(means), torch.cat(log_vars)


def draw(mean: torch.Tensor, log_var: torch.Tensor, generator=None) -> torch.Tensor:
    """Codes drawn from the encoder's posteriors (what the generator learnt to read)."""
    eps = torch.randn(mean.shape, generator=generator)
    return mean + (0.5 * log_var).exp() * eps


def blinks_in(videos: list[np.ndarray], fps: float) -> dict[str, float]:
    """Blinks per second and their median depth (a blink's lowest EAR over the open eye's) in
    (T, S, S, 3) crop videos, by the protocol's EAR detector (depth 1.0 when none)."""
    depths, seconds = [], 0.0
    for video in videos:
        seconds += len(video) / fps
        ear = crop_ear(video)
        if ear is not None:
            depths += blink_depths(ear)
    return {
        "blinks_per_s": len(depths) / max(seconds, 1e-9),
        "blink_depth": float(np.median(depths)) if depths else 1.0,
    }


def drawn_crops(generator: TemporalGenerator, clips: list[dict]) -> list[np.ndarray]:
    """Crops the generator draws from each clip's first frame and audio, with noise of seed =
    the clip's index."""
    return [
        GANFrames(
            generator,
            clip["crops"][0],
            clip["wav"],
            float(clip["fps"]),
            torch.Generator().manual_seed(i),
        ).all()
        for i, clip in enumerate(clips)
    ]


def with_prior(state: dict, cfg: NoisePriorTrainConfig) -> TemporalGenerator:
    """The checkpoint's generator rebuilt with a fresh prior (every other weight loaded)."""
    base = load_model(state)
    if not isinstance(base, TemporalGenerator):
        raise ValueError(f"{cfg.generator}: not a temporal GAN's weights")
    return with_noise_prior(base, cfg.hidden, cfg.components)


def train(cfg: NoisePriorTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) the fit; returns the path of the best checkpoint."""
    from tqdm import tqdm

    if not cfg.generator:
        raise ValueError(
            "--generator: a temporal GAN checkpoint with its noise encoder"
        )
    state = load_weights(cfg.generator)
    if "noise_encoder" not in state:
        raise ValueError(
            f"{cfg.generator} holds no noise encoder (train with --encoder-weight)"
        )
    run = TrainRun(cfg, progress=progress)
    model = with_prior(state, cfg).eval()  # the generator stays frozen
    encoder = NoiseEncoder(
        NOISE_ENCODER_PRESETS[state["train_config"]["noise_encoder"]]
    )
    encoder.load_state_dict(state["noise_encoder"])
    encoder.eval()
    prior = model.noise_prior
    size = model.config.size

    # 1. Data: the encoder's posteriors of s1 `train` clips (every held_out-th scores the fit)
    clips = load_crops(cfg.cache, "train", size, limit=cfg.max_clips or None)
    if len(clips) < 2:
        raise ValueError(f"too few training clips in {cfg.cache}")
    frames = min(len(c["crops"]) for c in clips)
    mean, log_var = encode_clips(encoder, clips, frames)
    held = np.zeros(len(clips), bool)
    if cfg.held_out > 0:
        held[:: cfg.held_out] = True
    train_mean, train_log_var = mean[~held], log_var[~held]
    # codes the prior is scored on: one fixed draw per set, next to the paper's noise's score
    scored = {}
    if held.any():
        scored["s1_held_out"] = draw(
            mean[held], log_var[held], torch.Generator().manual_seed(0)
        )
    unseen = {}
    if run.main:
        for speaker in cfg.val_speakers:
            found = load_crops(
                cfg.cache,
                "val",
                size,
                speakers=(speaker,),
                limit=cfg.val_clips,
                extra=("wav",),
            )
            if found:
                with_audio(found)
                fps = float(found[0]["fps"])
                real = blinks_in([c["crops"] for c in found], fps)
                unseen[speaker] = (found, {f"real_{k}": v for k, v in real.items()})
                codes = encode_clips(
                    encoder, found, min(len(c["crops"]) for c in found)
                )
                scored[speaker] = draw(*codes, torch.Generator().manual_seed(0))
    paper_nll = {
        name: gaussian_nll(codes, model.config.noise_std)
        for name, codes in scored.items()
    }
    del clips

    # 2. Optimiser: the prior's weights alone
    optimizer = torch.optim.Adam(prior.parameters(), lr=cfg.lr)
    run.resume(model, optimizer=optimizer)

    # 3. Maximum likelihood on fresh posterior draws
    for epoch in run.epochs(cfg.epochs):
        started = time.time()
        prior.train()
        rng = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        losses = []
        for _ in tqdm(
            range(cfg.steps_per_epoch),
            desc=f"epoch {epoch}",
            disable=not run.progress,
            leave=False,
        ):
            pick = torch.randint(len(train_mean), (cfg.batch_size,), generator=rng)
            codes = draw(train_mean[pick], train_log_var[pick], rng)
            loss = prior_nll(prior, codes)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        prior.eval()

        # 4. Validation: likelihood of held-out and unseen codes, blinks drawn with the prior
        metrics = {}
        if run.main:
            with torch.no_grad():
                for name, codes in scored.items():
                    metrics[name] = {
                        "nll": prior_nll(prior, codes).item(),
                        "paper_nll": paper_nll[name],
                    }
            for speaker, (found, real) in unseen.items():
                drawn = blinks_in(drawn_crops(model, found), float(found[0]["fps"]))
                metrics[speaker].update(drawn | real)
        score = metrics.get("s1_held_out", {}).get("nll", float(np.mean(losses)))
        run.end_epoch(
            epoch,
            model,
            {
                "epoch": epoch,
                "nll": float(np.mean(losses)),
                "seconds": time.time() - started,
            },
            metrics,
            score,
            optimizer=optimizer,
        )
    return run.close()
