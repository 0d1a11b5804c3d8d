"""Train ATVGnet's VG-net with its regression-based discriminator (paper 004 sec. 3.1-3.4).

    talkface train vgnet --cache cache/grid --out runs/vgnet

Teacher forcing, as in the paper: sequences of ground-truth landmarks of GRID s1 `train` are
rendered from another frame of the same clip and compared with the real frames. Losses:
    L_pix = mean(|v - v^| * (alpha.detach() + beta)), beta 0.5                  (eq. 9)
    L_gan = BCE(D_s(real), 1) + BCE(D_s(fake), 0) + |(D_p - p) * M_p|^2         (eq. 12)
    L = L_gan + lambda L_pix, lambda 10                                       (eq. 13)
D_p's landmark regression is trained on real and generated frames (as the released code) and
pulls the generator's frames towards the right shapes; M_p weights the mouth's vertical
coordinates 100x (the released code's mask). Adam 2e-4, betas (0.5, 0.999). Identity
augmentation and validation as the texture recipe (train/renderer_data.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface.face.landmarks import MOUTH
from talkface.models.atvgnet import (
    REGRESSION_PRESETS,
    VGNET_PRESETS,
    RegressionDiscriminator,
    VGNet,
)
from talkface.render.neural import to_model_range, vgnet_region
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
class VGNetTrainConfig(RendererTrainConfig):
    out: str = "runs/vgnet"
    model: str = "vgnet-grid"  # preset in models.atvgnet.VGNET_PRESETS
    discriminator: str = (
        "regression-grid"  # preset in models.atvgnet.REGRESSION_PRESETS
    )
    batch_size: int = 4
    sequence: int = 8  # frames per sample (the released code: 16)
    lr: float = 2e-4  # Adam, betas (0.5, 0.999), both networks
    pixel_weight: float = 10.0  # lambda (eq. 13)
    pixel_beta: float = 0.5  # beta (eq. 9)
    mouth_weight: float = 100.0  # M_p on the mouth's y coordinates

    def __post_init__(self):
        if self.model not in VGNET_PRESETS:
            raise ValueError(
                f"unknown model preset {self.model!r}; choose from {sorted(VGNET_PRESETS)}"
            )
        if self.discriminator not in REGRESSION_PRESETS:
            raise ValueError(
                f"unknown discriminator preset {self.discriminator!r}; "
                f"choose from {sorted(REGRESSION_PRESETS)}"
            )
        if self.sequence < 2:
            raise ValueError("sequence must be at least 2 frames")


TRAIN_CONFIG = VGNetTrainConfig


def landmark_weights(mouth_weight: float) -> torch.Tensor:
    """(68, 2) M_p: 1 everywhere, `mouth_weight` on the mouth points' y coordinates."""
    weights = torch.ones(68, 2)
    weights[MOUTH, 1] = mouth_weight
    return weights


def regression_loss(
    predicted: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Mean of ((D_p - p) * M_p)^2 over (B, T, 68, 2) landmarks in crop units (eq. 12)."""
    return ((predicted - target) * weights).pow(2).mean()


def dynamic_pixel_loss(
    frames: torch.Tensor, real: torch.Tensor, alpha: torch.Tensor, beta: float
) -> torch.Tensor:
    """Eq. 9: L1 weighted by the detached attention + beta, so pixels the network paints
    weigh more and every pixel still counts."""
    return ((frames - real).abs() * (alpha.detach() + beta)).mean()


def model_inputs(config, batch: RendererBatch) -> tuple[torch.Tensor | None, ...]:
    """(base (B, T, 3, S, S), landmarks (B, T, 68, 2), example landmarks (B, 68, 2), region
    (B, T, 1, S, S) or None) with landmarks in crop units."""
    if config.base == "warp":
        base = batch.warps
    else:
        base = np.repeat(batch.identity[:, None], batch.landmarks.shape[1], 1)
    size = config.size
    return (
        to_model_range(base),
        torch.from_numpy(batch.landmarks / size).float(),
        torch.from_numpy(batch.identity_landmarks / size).float(),
        vgnet_region(config, batch.landmarks),
    )


def train(cfg: VGNetTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    run = TrainRun(cfg, higher_is_better=True, progress=progress)
    generator = VGNet(VGNET_PRESETS[cfg.model])
    start_from(generator, cfg.init)
    discriminator = RegressionDiscriminator(REGRESSION_PRESETS[cfg.discriminator])
    size = generator.config.size
    if discriminator.config.size != size:
        raise ValueError("the discriminator must see the generator's crop size")

    # 1. Data: s1 `train` crops with their landmarks; the unseen faces for validation
    clips, val_sets, references = renderer_data(cfg, run.main, size)
    weights = landmark_weights(cfg.mouth_weight)

    # 2. Networks and optimisers
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
            batch = make_batch(clips, cfg, size, rng, length=cfg.sequence)
            base, landmarks, example, region = model_inputs(generator.config, batch)
            real = to_model_range(batch.real)  # (B, T, 3, S, S)
            (frames, alpha, _), _ = net_g(base, landmarks, example, region=region)
            # 3. Discriminator: realness of whole sequences + landmark regression (eq. 12)
            both = torch.cat([real, frames.detach()])
            regressed, logits = net_d(both, torch.cat([example, example]))
            b = len(real)
            labels = torch.cat([torch.ones(b), torch.zeros(b)])
            loss_d = F.binary_cross_entropy_with_logits(
                logits, labels
            ) + regression_loss(regressed, torch.cat([landmarks, landmarks]), weights)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            # 4. Generator: fool D_s, match D_p's landmarks, dynamic pixel loss (eq. 13)
            regressed, logits = net_d(frames, example)
            adversarial = F.binary_cross_entropy_with_logits(logits, torch.ones(b))
            shape = regression_loss(regressed, landmarks, weights)
            pixel = dynamic_pixel_loss(frames, real, alpha, cfg.pixel_beta)
            loss_g = adversarial + shape + cfg.pixel_weight * pixel
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            losses.append(
                {
                    "pixel": pixel.item(),
                    "adversarial": adversarial.item(),
                    "landmarks": shape.item(),
                    "discriminator": loss_d.item(),
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
