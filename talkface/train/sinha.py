"""Train Sinha et al.'s person-independent landmark network (paper 000 sec. III-A, IV).

    talkface train sinha --cache cache/grid --out runs/sinha

The data, augmentation, losses (L_lmark + 0.5 L_temp, eq. 2-4) and per-epoch validation on the
unseen speakers are those of the AT-net recipe (train/atnet.py); what differs is the network
(a conv encoder over 16-frame windows of normalised log-mel, a decoder initialised with the PCA
components) and the learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from talkface.train.atnet import ATNetTrainConfig, train

__all__ = ["TRAIN_CONFIG", "train"]


@dataclass
class SinhaTrainConfig(ATNetTrainConfig):
    out: str = "runs/sinha"
    model: str = "sinha-grid-phones"  # preset in models.sinha.PRESETS
    lr: float = 3e-4
    # SpecAugment: blank up to 6 of the 80 channels (40 log-mel bands, then 40 phones)
    coefficient_mask: int = 6


TRAIN_CONFIG = SinhaTrainConfig
