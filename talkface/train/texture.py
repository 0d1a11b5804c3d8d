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

from talkface.face.align import mean_face
from talkface.face.landmarks import LEFT_EYE, MOUTH, RIGHT_EYE
from talkface.models.sinha import (
    PATCH_PRESETS,
    TEXTURE_PRESETS,
    PatchDiscriminator,
    TextureGenerator,
    TextureGeneratorConfig,
)
from talkface.render.neural import generator_inputs, to_model_range
from talkface.train.renderer_data import (
    RendererBatch,
    RendererTrainConfig,
    adversarial_setup,
    finish_epoch,
    make_batch,
    renderer_data,
    start_from,
)
from talkface.train.run import TrainRun


@dataclass
class TextureTrainConfig(RendererTrainConfig):
    out: str = "runs/texture"
    model: str = "texture-grid"  # preset in models.sinha.TEXTURE_PRESETS
    discriminator: str = "patch-grid"  # preset in models.sinha.PATCH_PRESETS
    lr: float = 1e-4  # Adam, betas (0.5, 0.999), both networks
    pixel_weight: float = 100.0  # lambda_pix
    adversarial_weight: float = 0.5  # lambda_adv
    regulariser_weight: float = 0.2  # lambda_reg
    mouth_weight: float = 4.0  # spatial mask of L_pix
    eye_weight: float = 2.0

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


def generate_pairs(
    model: torch.nn.Module, config: TextureGeneratorConfig, batch: RendererBatch
) -> tuple[torch.Tensor, ...]:
    """Run the generator on both frames of each pair: (B, 2, ...) frames, attention, colour."""
    b = len(batch.identity)
    inputs = generator_inputs(
        config,
        np.repeat(batch.identity, 2, 0),
        np.repeat(batch.identity_landmarks, 2, 0),
        batch.warps.reshape(2 * b, *batch.warps.shape[2:]),
        batch.landmarks.reshape(2 * b, 68, 2),
    )
    return tuple(x.unflatten(0, (b, 2)) for x in model(*inputs))


def train(cfg: TextureTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, higher_is_better=True, progress=progress)
    generator = TextureGenerator(TEXTURE_PRESETS[cfg.model])
    start_from(generator, cfg.init)
    discriminator = PatchDiscriminator(PATCH_PRESETS[cfg.discriminator])
    size = generator.config.size

    # 1. Data: s1 `train` crops with their landmarks; the unseen faces for validation
    clips, val_sets, references = renderer_data(cfg, run.main, size)
    weights = pixel_weights(size, cfg.mouth_weight, cfg.eye_weight)

    # 2. Networks and optimisers (the paper's Adam settings for both)
    opt_g, opt_d, net_g, net_d = adversarial_setup(
        run, generator, discriminator, cfg.lr
    )

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        rng = run.rank_rng(epoch)
        losses = []
        steps = run.shard(list(range(cfg.steps_per_epoch)))
        for _ in tqdm(
            steps, desc=f"epoch {epoch}", disable=not run.progress, leave=False
        ):
            batch = make_batch(clips, cfg, size, rng, length=2)
            real = to_model_range(batch.real)  # (B, 2, 3, S, S)
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
            losses.append(
                {
                    "pixel": terms["pixel"].item(),
                    "adversarial": adversarial.item(),
                    "discriminator": loss_d.item(),
                    "attention": terms["attention"].item(),
                    "temporal": terms["temporal"].item(),
                }
            )
        # 5. Validate on the unseen faces, log, checkpoint
        finish_epoch(
            run,
            epoch,
            time.time() - t0,
            losses,
            generator,
            val_sets,
            references,
            discriminator=discriminator,
            optimizer_g=opt_g,
            optimizer_d=opt_d,
        )
    return run.close()
