"""Train the Vougioukas et al. temporal GAN (paper 001 sec. 3.3, paper 003 sec. 2.3).

    talkface train temporal-gan --cache cache/grid --out runs/temporal-gan

A sample is `sequence` consecutive frames of a GRID s1 `train` clip (128 px aligned crops), their
0.2 s audio windows, and a random frame of the same clip as the still; every sample is mirrored
half the time and recoloured (one identity is available in bulk). Losses (eq. 2-7):

    L_G = l_img L_adv^img + l_sync L_adv^sync + l_seq L_adv^seq + l_rec L1(lower half)
    D_img : one frame per sequence (uniform) with the still as a condition, real vs generated
    D_seq : the whole sequence with its audio, real vs generated
    D_sync: 0.2 s lower-face snippets: real + in-sync audio (1) against real + shifted audio
            (0, weight 1/2) and generated + its audio (0, weight 1/2) (fig. 6)

with l_img 1, l_sync 0.8, l_seq 0.2, l_rec 600 (L1 as a mean over the lower half's pixels in
[-1, 1]). Each discriminator sees real and generated data in one batch in both steps (runs
before 2026-12-02 judged the generator's step on generated data alone). Adam 1e-4 for the generator and D_img, 1e-5 for D_seq and D_sync; the learning rates
decay by 2% (generator) and 10% (discriminators) every 10 epochs. A weight of 0 drops its term
and its discriminator (the paper's Table 5 ablations).

Not in the paper, off by default: `--diversity-weight` adds a mode-seeking term (DSGAN) that
rewards the upper half for changing with the noise, up to `--diversity-cap` (measured on block
means with `--diversity-pool`); `--blink-share` makes that share of the sequences hold a shut
eye (GRID s1's lids are 80% shut in 5% of frames); `--eye-weight` adds a fourth discriminator
that judges only the eye band's frame-to-frame change (real sequences against generated, Adam
1e-4; a run resumed from before it existed starts it fresh). `--encoder-weight` trains a noise
encoder beside the generator (BicycleGAN's cVAE path): the real sequence's upper half is encoded
into noise, the frames decoded from it must match the real ones in the upper half (L1 x the
weight; the lower half is the audio's, under the paper's L1), and a KL term (`--kl-weight`,
ramped in after `--kl-delay` batches) keeps the codes like the N(0, 0.6) noise drawn at
inference; `--encoder-eye-weight` adds the eye band's L1 of those frames, since the lids are a
small part of the upper half; the discriminators judge frames from drawn noise as before. The
encoder is not part of the model. `--prior CKPT` draws that noise from the learned prior a
`talkface train noise-prior` run fitted (frozen, saved with the generator) instead of
N(0, 0.6), so the adversarial terms judge frames from the noise drawn at inference.
`--expert CKPT --expert-weight W` adds a frozen sync expert as a loss (Wav2Lip's expert
discriminator; the jointly trained D_sync of the paper stays): the generated lower face's
5-frame windows against their audio at every shift in -15..15 frames, the in-sync one to be
nearest. It must not be the evaluator (metrics.md 4.1), so a second expert of other widths and
seed is trained for it.

Validation every epoch on the unseen faces (s26, s31): whole clips from their first frame, scored
with the shipped sync expert (offset and confidence, the paper's model selection: best.pt is the
highest confidence among epochs whose offset is within one frame, then SSIM), face SSIM,
lower-half L1 and blinks per second (the protocol's detector on the crops, the real clips' too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from talkface.eval.image import ssim
from talkface.eval.sync import VSHIFT, embed_audio
from talkface.features.align import SYNC_WINDOW, audio_windows
from talkface.features.visual import expert_windows, lower_face
from talkface.models.syncnet import SyncNet, load_syncnet
from talkface.models.vougioukas import (
    AUDIO_WINDOW,
    EYE_PRESETS,
    FRAME_PRESETS,
    NOISE_ENCODER_PRESETS,
    PRESETS,
    SEQUENCE_PRESETS,
    SNIPPET_FRAMES,
    SYNC_PRESETS,
    EyeMotionDiscriminator,
    FrameDiscriminator,
    NoiseEncoder,
    SequenceDiscriminator,
    SyncDiscriminator,
    TemporalGenerator,
    crop_band,
)
from talkface.render.neural import to_model_range
from talkface.render.temporal_gan import GANFrames
from talkface.render.warp import landmark_flow
from talkface.train.renderer_data import (
    Augment,
    RendererTrainConfig,
    load_crops,
    shut_eye_frames,
    start_from,
)
from talkface.train.run import TrainRun
from talkface.train.syncnet import shift_cross_entropy
from talkface.weights import load_model, load_weights

MIN_SHIFT = 3  # frames between a snippet and its out-of-sync audio (0.12 s at 25 fps)


@dataclass
class TemporalGANTrainConfig(RendererTrainConfig):
    out: str = "runs/temporal-gan"
    model: str = "temporal-gan-grid"  # preset in models.vougioukas.PRESETS
    frame_discriminator: str = "frame-grid"
    sequence_discriminator: str = "sequence-grid"
    sync_discriminator: str = "sync-grid"
    batch_size: int = 4
    sequence: int = 16  # frames per training sample (0.64 s at 25 fps)
    lr: float = 1e-4  # generator and frame discriminator
    slow_lr: float = 1e-5  # sequence and sync discriminators
    # not in the paper: batches that train the sync discriminator alone, at `lr`, on real
    # snippets and their audio (warm_up_sync) before a new run's first GAN step: at the
    # paper's 1e-5 it stays at chance through our whole schedule (d_sync 1.55 after 1,600
    # steps; a constant guess scores 1.39), so the lips learn from the L1 alone
    sync_warmup: int = 0
    # not in the paper: one voice (s1) to learn from, so each sample's audio is played at a
    # random rate within 1 / (1 + audio_rate)..1 + audio_rate about each window's centre
    # (pitch, formants and pace change, sync does not) and at a random gain within
    # 1 / audio_gain..audio_gain, both log-uniform (0 and 1: off)
    audio_rate: float = 0.0
    audio_gain: float = 1.0
    frame_weight: float = 1.0  # lambda_img
    sync_weight: float = 0.8  # lambda_sync
    sequence_weight: float = 0.2  # lambda_seq
    reconstruction_weight: float = 600.0  # lambda_rec
    # not in the paper: a mode-seeking term (DSGAN, Yang et al. ICLR 2019) for the upper half,
    # whose change between two noise draws is rewarded up to diversity_cap; at our scale the
    # generator otherwise ignores its noise (two seeds differ by 0.01 grey levels), and with
    # it the spontaneous blinks and brows the noise is there for
    # diversity_cap: change in [-1, 1] pixel units per unit of noise change
    diversity_weight: float = 0.0
    diversity_cap: float = 0.02
    # the change is measured on the upper half averaged over blocks of this many pixels a
    # side: lids and brows that move change the block means, pixel speckle (what the
    # per-pixel term bought at our scale) averages out
    diversity_pool: int = 1
    # not in the paper: weight of the eye-motion discriminator's adversarial term (0 = none)
    eye_weight: float = 0.0
    eye_discriminator: str = "eye-grid"
    # not in the paper: weight of the upper half's L1 of frames decoded from the real video's
    # encoded noise (0 = no noise encoder), and of the KL of those codes from the noise prior
    encoder_weight: float = 0.0
    kl_weight: float = 0.5
    # batches without the KL term, then as many over which it ramps up to kl_weight: a KL
    # from the start pulls the codes to 0 before the generator has learnt to read them (under
    # Adam a small steady pull outweighs the L1's early noise) and the encoder is never used
    kl_delay: int = 300
    # weight of the coded frames' L1 on the eye band alone: lids are about 2% of the upper
    # half, so its L1 teaches brows and hair long before it teaches a blink
    encoder_eye_weight: float = 0.0
    noise_encoder: str = "noise-encoder-grid"
    # not in the paper: Sinha et al.'s attention regulariser, weight x mean (1 - a)^2 of an
    # attention decoder's maps: keep (or, with a flow, move) the still's pixels rather than
    # paint them, which is what carries to faces never trained on
    attention_weight: float = 0.0
    # not in the paper: weight of a flow decoder's teacher, the L1 (in pixels) of its flow
    # against the warp renderer's motion from the still's landmarks to each real frame's
    # (landmarks teach in training only): lower half for drawn noise (the audio's share),
    # the whole crop for the real video's encoded noise (which knows the lids)
    flow_weight: float = 0.0
    # a flow decoder's head (preset `...-flow`): it starts at no motion and moves in
    # FLOW_SCALE units, so at the generator's rate lids would take thousands of steps to move
    flow_lr: float = 1e-3
    # where the attention regulariser and the flow teacher act: "face" (the whole crop: lips
    # and lids moved rather than painted) or "upper" (the upper half only: the lids moved,
    # the mouth painted as freely as the paper's decoder paints it)
    maps_region: str = "face"
    # not in the paper: a checkpoint holding a learned noise prior (`talkface train
    # noise-prior`) that draws the adversarial path's noise, frozen, instead of N(0, noise_std):
    # the generator then learns on the noise it gets at inference (SVG-LP trains its frame
    # model on prior draws too); empty = the paper's Gaussian
    prior: str = ""
    # not in the paper: a frozen sync expert as a loss (Wav2Lip's expert discriminator): each
    # window of the generated lower face against its audio at every shift in -15..15 frames,
    # the in-sync one to be nearest (the expert's own loss), x expert_weight. Never the
    # evaluator (metrics.md 4.1): train another, `talkface train syncnet --model
    # sync-loss-grid --seed 1`
    expert: str = ""
    expert_weight: float = 0.0
    decay_every: int = 10  # epochs
    generator_decay: float = 0.02
    discriminator_decay: float = 0.10

    def __post_init__(self):
        for field, presets in (
            ("model", PRESETS),
            ("frame_discriminator", FRAME_PRESETS),
            ("sequence_discriminator", SEQUENCE_PRESETS),
            ("sync_discriminator", SYNC_PRESETS),
            ("eye_discriminator", EYE_PRESETS),
            ("noise_encoder", NOISE_ENCODER_PRESETS),
        ):
            if getattr(self, field) not in presets:
                raise ValueError(
                    f"unknown {field} preset {getattr(self, field)!r}; "
                    f"choose from {sorted(presets)}"
                )
        if self.audio_rate < 0 or self.audio_gain < 1:
            raise ValueError(
                f"audio_rate must be >= 0 and audio_gain >= 1, got {self.audio_rate} "
                f"and {self.audio_gain}"
            )
        if self.diversity_pool < 1:
            raise ValueError(
                f"diversity_pool must be at least 1 pixel, got {self.diversity_pool}"
            )
        if self.flow_weight > 0 and not PRESETS[self.model].flow:
            raise ValueError(
                f"flow_weight teaches a flow decoder; {self.model!r} has none "
                "(use a `-flow` preset)"
            )
        if self.maps_region not in MAPS_REGIONS:
            raise ValueError(
                f"maps_region must be one of {sorted(MAPS_REGIONS)}, got {self.maps_region!r}"
            )
        if self.encoder_weight > 0 and self.diversity_weight > 0:
            raise ValueError(
                "encoder_weight and diversity_weight each double the generator's batch; "
                "use one"
            )
        if self.expert_weight > 0 and not self.expert:
            raise ValueError("expert_weight needs an expert checkpoint (--expert)")
        if self.sequence < SNIPPET_FRAMES + 2 * MIN_SHIFT:
            raise ValueError(
                f"sequence must be at least {SNIPPET_FRAMES + 2 * MIN_SHIFT} frames "
                "(a sync snippet and its shifted audio)"
            )


TRAIN_CONFIG = TemporalGANTrainConfig


@dataclass(frozen=True)
class GANBatch:
    still: torch.Tensor  # (B, 3, S, S) in [-1, 1]
    real: torch.Tensor  # (B, T, 3, S, S)
    audio: torch.Tensor  # (B, T, AUDIO_WINDOW)
    snippet: torch.Tensor  # (B,) first frame of each sample's sync snippet
    shifted: torch.Tensor  # (B, AUDIO_WINDOW) out-of-sync audio for that snippet
    # (B, T, 2, S, S) the warp renderer's motion from the still's landmarks to each frame's,
    # in grid units (2 = the width): a flow decoder's teacher (only with a flow weight)
    flow: torch.Tensor | None = None
    # (B, T - 4, 2V + 1, D) the loss expert's embeddings of the audio of each 5-frame window
    # at shifts -V..V, and which exist in the clip (only with an expert weight)
    expert_audio: torch.Tensor | None = None
    expert_valid: torch.Tensor | None = None


def make_batch(
    clips: list[dict], cfg: TemporalGANTrainConfig, rng: np.random.Generator
) -> GANBatch:
    stills, reals, audios, snippets, shifted, flows = [], [], [], [], [], []
    expert_audio, expert_valid = [], []
    size = clips[0]["crops"].shape[1]
    for _ in range(cfg.batch_size):
        clip = clips[rng.integers(len(clips))]
        crops, windows = clip["crops"], clip["audio"]
        if cfg.audio_rate > 0 or cfg.audio_gain > 1:
            windows = other_voice(clip, cfg, rng)
        t0 = rng.integers(len(crops) - cfg.sequence + 1)
        if cfg.blink_share and rng.random() < cfg.blink_share:
            shut = shut_eye_frames(clip["crop_landmarks"])
            if len(shut):  # the shut frame anywhere in the sequence
                t0 = rng.choice(shut) - rng.integers(cfg.sequence)
                t0 = int(np.clip(t0, 0, len(crops) - cfg.sequence))
        aug = Augment(cfg, rng)
        k = rng.integers(len(crops))
        stills.append(aug.image(crops[k]))
        reals.append([aug.image(c) for c in crops[t0 : t0 + cfg.sequence]])
        if cfg.flow_weight > 0:
            points = aug.landmarks(clip["crop_landmarks"], size)
            flows.append(
                [
                    landmark_flow(points[k], p, size)
                    for p in points[t0 : t0 + cfg.sequence]
                ]
            )
        audios.append(windows[t0 : t0 + cfg.sequence])
        if "expert_audio" in clip:
            candidates = (
                t0 + np.arange(cfg.sequence - SYNC_WINDOW + 1)[:, None] + SHIFTS
            )
            count = len(clip["expert_audio"])
            expert_audio.append(clip["expert_audio"][np.clip(candidates, 0, count - 1)])
            expert_valid.append((candidates >= 0) & (candidates < count))
        # the snippet's 0.2 s of audio is the window of its middle frame (5 frames = 0.2 s);
        # its out-of-sync audio comes from at least MIN_SHIFT frames away in the same clip
        s = rng.integers(cfg.sequence - SNIPPET_FRAMES + 1)
        middle = t0 + s + SNIPPET_FRAMES // 2
        far = np.flatnonzero(np.abs(np.arange(len(crops)) - middle) >= MIN_SHIFT)
        snippets.append(s)
        shifted.append(windows[rng.choice(far)])
    return GANBatch(
        to_model_range(np.stack(stills)),
        to_model_range(np.stack(reals)),
        torch.from_numpy(np.stack(audios)).float(),
        torch.from_numpy(np.array(snippets)),
        torch.from_numpy(np.stack(shifted)).float(),
        # pixels -> grid units (align_corners: pixel 0 at -1, pixel S - 1 at +1)
        torch.from_numpy(np.stack(flows)).permute(0, 1, 4, 2, 3) * (2 / (size - 1))
        if flows
        else None,
        torch.from_numpy(np.stack(expert_audio)) if expert_audio else None,
        torch.from_numpy(np.stack(expert_valid)) if expert_valid else None,
    )


def flow_error(flow: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |flow - target| of (B, T, 2, S, S) flows in grid units, in pixels."""
    return (flow - target).abs().mean() * ((flow.shape[-1] - 1) / 2)


def other_voice(
    clip: dict, cfg: TemporalGANTrainConfig, rng: np.random.Generator
) -> np.ndarray:
    """The clip's (T, AUDIO_WINDOW) audio windows at a random rate and gain (log-uniform
    within cfg.audio_rate and cfg.audio_gain), each still centred on its frame."""
    rate = np.exp(rng.uniform(-1, 1) * np.log1p(cfg.audio_rate))
    gain = np.exp(rng.uniform(-1, 1) * np.log(cfg.audio_gain))
    windows = audio_windows(
        clip["wav"], len(clip["crops"]), float(clip["fps"]), AUDIO_WINDOW, rate=rate
    )
    return (gain * windows).astype(np.float32)


SHIFTS = np.arange(-VSHIFT, VSHIFT + 1)  # the loss expert's audio shifts (frames)


def load_loss_expert(path: str) -> SyncNet:
    """The frozen sync expert of `--expert`; the evaluator's own weights are refused."""
    from talkface.eval.runner import load_sync_expert

    expert = load_syncnet(load_weights(path)).eval().requires_grad_(False)
    evaluator = load_sync_expert().state_dict()
    mine = expert.state_dict()
    if mine.keys() == evaluator.keys() and all(
        mine[k].shape == evaluator[k].shape and torch.equal(mine[k], evaluator[k])
        for k in mine
    ):
        raise ValueError(
            f"--expert {path} is the evaluator's sync expert: a network used as a training "
            "loss cannot judge the result (train another: `talkface train syncnet --model "
            "sync-loss-grid --seed 1`)"
        )
    return expert


def with_expert_audio(clips: list[dict], expert: SyncNet) -> None:
    """Add each clip's (N, D) float32 loss-expert embeddings of its sync windows' audio as
    "expert_audio" (the expert is frozen: they never change)."""
    for clip in clips:
        clip["expert_audio"] = embed_audio(
            expert, clip["wav"], len(clip["crops"])
        ).astype(np.float32)


def expert_terms(
    expert: SyncNet, fake: torch.Tensor, batch: GANBatch, cfg: TemporalGANTrainConfig
) -> dict[str, torch.Tensor]:
    """The loss expert's cross-entropy of the in-sync audio among its shifts, over the
    generated windows whose in-sync audio exists in the clip, x cfg.expert_weight."""
    rows = batch.expert_valid[:, :, VSHIFT]
    video = expert.embed_video(expert_windows(fake)[rows])
    loss, _ = shift_cross_entropy(
        video, batch.expert_audio[rows], batch.expert_valid[rows]
    )
    return {"expert": cfg.expert_weight * loss}


def lower_half(frames: torch.Tensor) -> torch.Tensor:
    return frames[..., frames.shape[-2] // 2 :, :]


def upper_half(frames: torch.Tensor) -> torch.Tensor:
    return frames[..., : frames.shape[-2] // 2, :]


# the aligned crop's band of both eyes, as fractions of its side (GRID s1 at 128 px: eyes on
# rows 45-52, corners at columns 41-86; the margin takes other faces and the augmentation)
EYE_ROWS, EYE_COLUMNS = (0.3, 0.45), (0.25, 0.75)


def eye_band(frames: torch.Tensor) -> torch.Tensor:
    return crop_band(frames, EYE_ROWS, EYE_COLUMNS)


MAPS_REGIONS = {"face": lambda maps: maps, "upper": upper_half}


def map_terms(
    maps: dict,
    teacher: torch.Tensor | None,
    b: int,
    cfg: TemporalGANTrainConfig,
    coded: bool,
) -> dict[str, torch.Tensor]:
    """The attention regulariser and the flow teacher on cfg.maps_region of an attention (and
    flow) decoder's maps; `coded`: the maps' second `b` samples come from the real video's
    encoded noise. The drawn noise's flow is taught where the audio decides it (the lower
    half, so with the "face" region only), the encoded noise's wherever the region reaches
    (it knows the lids)."""
    region, terms = MAPS_REGIONS[cfg.maps_region], {}
    if cfg.attention_weight > 0:
        attention = region(maps["attention"])
        terms["attention"] = cfg.attention_weight * (1 - attention).pow(2).mean()
    if cfg.flow_weight > 0:
        flow = maps["flow"]
        if cfg.maps_region == "face":
            terms["flow"] = cfg.flow_weight * flow_error(
                lower_half(flow[:b]), lower_half(teacher)
            )
        if coded:
            terms["coded_flow"] = cfg.flow_weight * flow_error(
                region(flow[b:]), region(teacher)
            )
    return terms


def diversity_loss(
    fake: torch.Tensor,
    other: torch.Tensor,
    noise: torch.Tensor,
    other_noise: torch.Tensor,
    cap: float,
    pool: int = 1,
) -> torch.Tensor:
    """Minus the upper half's mean change between two noise draws of the same still and audio,
    per unit of mean noise change, capped at `cap` (DSGAN's -min(|G(z1) - G(z2)| / |z1 - z2|,
    tau)): lower while the noise changes too little, flat once it changes enough. The change
    is measured on `pool` x `pool` block means of the (B, T, C, H, W) frames."""
    difference = upper_half(fake) - upper_half(other)
    change = F.avg_pool2d(difference.flatten(0, 1), pool).abs().mean()
    return -torch.clamp(change / (noise - other_noise).abs().mean(), max=cap)


def prior_divergence(
    mean: torch.Tensor, log_var: torch.Tensor, std: float
) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, std^2)), summed over the noise's dimensions and
    averaged over samples and frames."""
    ratio = log_var.exp() / std**2
    kl = 0.5 * (ratio + mean.pow(2) / std**2 - 1 - ratio.log())
    return kl.sum(-1).mean()


def encode_noise(
    encoder: torch.nn.Module, real: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A draw of the noise that reproduces the real (B, T, 3, S, S) video, with the mean and
    log-variance it was drawn from (the reparameterisation trick: gradients reach both)."""
    mean, log_var = encoder(real)
    return mean + (0.5 * log_var).exp() * torch.randn_like(mean), mean, log_var


def kl_ramp(step: int, cfg: TemporalGANTrainConfig) -> float:
    """The KL term's weight at a training step: 0 for kl_delay steps, then linear up to
    kl_weight over as many."""
    if cfg.kl_delay <= 0:
        return cfg.kl_weight
    return cfg.kl_weight * float(np.clip(step / cfg.kl_delay - 1, 0, 1))


def coded_terms(
    decoded: torch.Tensor,
    real: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    cfg: TemporalGANTrainConfig,
    noise_std: float,
    step: int,
) -> tuple[dict[str, torch.Tensor], float]:
    """The cVAE path's terms: the upper half's L1 of the frames decoded from the encoded noise
    (the noise's share: the lower half follows the audio), the eye band's if weighted, and the
    KL of the codes from the noise drawn at inference (weighted by `kl_ramp`); and that KL
    unweighted (nats per frame), to log."""
    kl = prior_divergence(mean, log_var, noise_std)
    terms = {
        "coded_l1": cfg.encoder_weight
        * (upper_half(decoded) - upper_half(real)).abs().mean(),
        "kl": kl_ramp(step, cfg) * kl,
    }
    if cfg.encoder_eye_weight > 0:
        terms["coded_eyes"] = (
            cfg.encoder_eye_weight * (eye_band(decoded) - eye_band(real)).abs().mean()
        )
    return terms, kl.item()


def snippet_of(
    frames: torch.Tensor, audio: torch.Tensor, starts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 5, 3, S/2, S) lower-face snippets starting at `starts` and their in-sync audio."""
    index = starts[:, None] + torch.arange(SNIPPET_FRAMES)
    rows = torch.arange(len(frames))[:, None]
    video = lower_half(frames[rows, index])
    return video, audio[torch.arange(len(frames)), starts + SNIPPET_FRAMES // 2]


def bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.full_like(logits, float(real))
    return F.binary_cross_entropy_with_logits(logits, target)


class Discriminators(torch.nn.Module):
    """The three discriminators, kept together for checkpoints and optimisers."""

    def __init__(self, cfg: TemporalGANTrainConfig):
        super().__init__()
        self.frame = FrameDiscriminator(FRAME_PRESETS[cfg.frame_discriminator])
        self.sequence = SequenceDiscriminator(
            SEQUENCE_PRESETS[cfg.sequence_discriminator]
        )
        self.sync = SyncDiscriminator(SYNC_PRESETS[cfg.sync_discriminator])


def critic_logits(
    critics: dict,
    batch: GANBatch,
    fake: torch.Tensor,
    pick: torch.Tensor,
    cfg: TemporalGANTrainConfig,
) -> dict[str, tuple[torch.Tensor, ...]]:
    """Each used discriminator's logits, real inputs first and generated last. Real and
    generated data go through one call, in the discriminator's step and in the generator's
    alike: the discriminators' batch norm then judges generated data in the company it was
    trained in (a batch of generated data alone is normalised as if it were typical, and its
    verdict says little), and DistributedDataParallel allows one call per backward."""
    rows = torch.arange(len(fake))
    logits = {}
    if cfg.frame_weight > 0:
        frames = torch.cat([batch.real[rows, pick], fake[rows, pick]])
        stills = batch.still.repeat(2, 1, 1, 1)
        logits["frame"] = critics["frame"](frames, stills).chunk(2)
    if cfg.sequence_weight > 0:
        video = torch.cat([batch.real, fake])
        audio = batch.audio.repeat(2, 1, 1)
        logits["sequence"] = critics["sequence"](video, audio).chunk(2)
    if cfg.sync_weight > 0:  # in sync, audio shifted, generated (fig. 6)
        real_video, audio = snippet_of(batch.real, batch.audio, batch.snippet)
        fake_video, _ = snippet_of(fake, batch.audio, batch.snippet)
        logits["sync"] = critics["sync"](
            torch.cat([real_video, real_video, fake_video]),
            torch.cat([audio, batch.shifted, audio]),
        ).chunk(3)
    if cfg.eye_weight > 0:
        logits["eye"] = critics["eye"](torch.cat([batch.real, fake])).chunk(2)
    return logits


def discriminator_losses(
    critics: dict,
    batch: GANBatch,
    fake: torch.Tensor,
    pick: torch.Tensor,
    cfg: TemporalGANTrainConfig,
) -> dict[str, torch.Tensor]:
    """Each used discriminator's loss on real and (detached) generated data (eq. 2-4)."""
    losses = {}
    for name, logits in critic_logits(critics, batch, fake.detach(), pick, cfg).items():
        if name == "sync":  # shifted audio and generated video are fakes at half weight
            in_sync, shifted, generated = logits
            losses["d_sync"] = (
                bce(in_sync, True)
                + 0.5 * bce(shifted, False)
                + 0.5 * bce(generated, False)
            )
        else:
            real, generated = logits
            losses[f"d_{name}"] = bce(real, True) + bce(generated, False)
    return losses


def generator_losses(
    critics: dict,
    batch: GANBatch,
    fake: torch.Tensor,
    pick: torch.Tensor,
    cfg: TemporalGANTrainConfig,
) -> dict[str, torch.Tensor]:
    """The generator's weighted terms of eq. 7 (only those with a non-zero weight)."""
    weights = {
        "frame": cfg.frame_weight,
        "sequence": cfg.sequence_weight,
        "sync": cfg.sync_weight,
        "eye": cfg.eye_weight,
    }
    terms = {
        f"g_{name}": weights[name] * bce(logits[-1], True)
        for name, logits in critic_logits(critics, batch, fake, pick, cfg).items()
    }
    if cfg.reconstruction_weight > 0:
        terms["l1"] = (
            cfg.reconstruction_weight
            * (lower_half(fake) - lower_half(batch.real)).abs().mean()
        )
    return terms


WARMUP_SNIPPETS = 16  # real snippets per sync warm-up batch
WARMUP_SHIFTS = 15  # each against its clip's audio at every shift in -15..15 frames


def warm_up_sync(
    sync: SyncDiscriminator,
    clips: list[dict],
    cfg: TemporalGANTrainConfig,
    progress: bool,
) -> dict[str, float]:
    """Train the sync discriminator on real snippets for cfg.sync_warmup batches; returns
    the top-1 accuracy of its distances over the first and the last tenth of them.

    A binary in-sync/shifted loss alone teaches it nothing at our scale (1,500 batches at
    1e-4: accuracy 0.50), so each snippet is set against its clip's audio at every shift
    in -15..15 frames, the in-sync window to be nearest ("Perfect Match", as the sync
    expert learns), plus the binary loss of fig. 6 so that its classifier fits the
    distances. It starts from fresh weights seeded by cfg.seed: one that has trained under
    the paper's recipe stays where it is (one after 1,800 batches of GAN training:
    3% -> 3%). Every process draws the same batches, so under DistributedDataParallel they
    end with the same weights."""
    from tqdm import tqdm

    with torch.random.fork_rng():
        torch.manual_seed(cfg.seed)
        sync.load_state_dict(SyncDiscriminator(sync.config).state_dict())
    rng = np.random.default_rng(cfg.seed)
    optimizer = torch.optim.Adam(sync.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    k = WARMUP_SHIFTS
    history = []
    for _ in tqdm(range(cfg.sync_warmup), desc="sync warm-up", disable=not progress):
        videos, audios = [], []
        for _ in range(WARMUP_SNIPPETS):
            clip = clips[rng.integers(len(clips))]
            crops, windows = clip["crops"], clip["audio"]
            # a middle frame with all 2k + 1 shifts of audio inside the clip
            middle = rng.integers(k, len(crops) - k)
            aug = Augment(cfg, rng)
            first = middle - SNIPPET_FRAMES // 2
            videos.append([aug.image(c) for c in crops[first : first + SNIPPET_FRAMES]])
            audios.append(windows[middle - k : middle + k + 1])
        video = lower_half(to_model_range(np.stack(videos)))
        audio = torch.from_numpy(np.stack(audios)).float()  # (N, 2k + 1, window)
        n, shifts = audio.shape[:2]
        distance = sync.embedding_distance(
            sync.embed_video(video)[:, None],
            sync.embed_audio(audio.flatten(0, 1)).unflatten(0, (n, shifts)),
        )
        target = torch.full((n,), k)
        far = torch.from_numpy(
            rng.choice([*range(k - MIN_SHIFT + 1), *range(k + MIN_SHIFT, shifts)], n)
        )
        logits = sync.classify(distance[:, :, None]).squeeze(2)
        rows = torch.arange(n)
        loss = (
            F.cross_entropy(-distance, target)
            + bce(logits[:, k], True)
            + bce(logits[rows, far], False)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append((distance.argmin(1) == target).float().mean().item())
    tenth = max(1, len(history) // 10)
    return dict(
        first_accuracy=float(np.mean(history[:tenth])),
        last_accuracy=float(np.mean(history[-tenth:])),
    )


def training_clips(cfg: TemporalGANTrainConfig, size: int) -> list[dict]:
    clips = load_crops(
        cfg.cache, "train", size, limit=cfg.max_clips or None, extra=("wav",)
    )
    if not clips:
        raise ValueError(f"no training clips in {cfg.cache}")
    with_audio(clips)
    return [c for c in clips if len(c["crops"]) >= cfg.sequence]


def with_audio(clips: list[dict]) -> None:
    """Add each clip's (T, AUDIO_WINDOW) float32 audio windows as "audio" (its "wav" stays
    for other_voice)."""
    for clip in clips:
        clip["audio"] = audio_windows(
            clip["wav"], len(clip["crops"]), float(clip["fps"]), AUDIO_WINDOW
        ).astype(np.float32)


def validate(
    generator: TemporalGenerator, sets: dict[str, list[dict]], expert
) -> dict[str, dict[str, float]]:
    """Per speaker: the sync expert's offset and confidence, face SSIM, lower-half L1 (grey
    levels) and blinks per second of whole clips generated from their first frame, next to the
    still frame's SSIM and the real clips' blinks (the same detector on the crops)."""
    from talkface.eval.sync import score_clip

    out = {}
    for speaker, clips in sets.items():
        rows = []
        for i, clip in enumerate(clips):
            noise = torch.Generator().manual_seed(i)
            frames = GANFrames(
                generator, clip["crops"][0], clip["wav"], float(clip["fps"]), noise
            ).all()
            real = clip["crops"][: len(frames)]
            half = real.shape[1] // 2
            sync = score_clip(expert, lower_face(frames), clip["wav"])
            rows.append(
                {
                    "abs_offset": abs(sync.offset),
                    "confidence": sync.confidence,
                    "ssim": np.mean([ssim(a, b) for a, b in zip(real, frames)]),
                    "lower_l1": np.abs(
                        real[:, half:].astype(np.float32) - frames[:, half:]
                    ).mean(),
                    "still_ssim": np.mean([ssim(a, real[0]) for a in real]),
                    "blinks_per_s": blink_rate(frames, float(clip["fps"])),
                    "real_blinks_per_s": blink_rate(real, float(clip["fps"])),
                }
            )
        out[speaker] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return out


def crop_ear(frames: np.ndarray) -> np.ndarray | None:
    """(T,) eye aspect ratio of (T, S, S, 3) crops of one face, aligned alike: dlib's landmarks
    in the box of the first face found (one box for all: a crop holds the face in one place,
    and dlib's detector misses some slightly blurred generated crops whose landmarks it reads
    well); None if no face is found."""
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks, eye_aspect_ratio

    for frame in frames[:: max(1, len(frames) // 5)]:
        boxes = detect_faces(frame)
        if boxes:
            landmarks = np.stack([detect_landmarks(f, boxes[0]) for f in frames])
            return eye_aspect_ratio(landmarks)
    return None


def blink_rate(frames: np.ndarray, fps: float) -> float:
    """Blinks per second in (T, S, S, 3) crops of one face by the protocol's EAR detector, NaN
    if no face is found. On GRID's 128 px crops this finds about the blinks of the full frames'
    landmarks (s31 `val` 24 vs 22, s26 2 vs 0)."""
    from talkface.eval.blinks import blink_stats

    ear = crop_ear(frames)
    return float("nan") if ear is None else blink_stats([ear], fps)["rate"]


def sync_score(metrics: dict) -> float:
    """Model selection: mean sync confidence over the sets whose offset is within one frame;
    SSIM / 1000 breaks ties (before any epoch is in sync, the sharpest likeness wins)."""
    in_sync = [
        m["confidence"] if m["abs_offset"] <= 1 else 0.0 for m in metrics.values()
    ]
    likeness = [m["ssim"] for m in metrics.values()]
    return float(np.mean(in_sync) + np.mean(likeness) / 1000)


def generator_optimizer(
    generator: TemporalGenerator, cfg: TemporalGANTrainConfig
) -> torch.optim.Adam:
    """Adam (the paper's betas) at cfg.lr, a flow decoder's head at cfg.flow_lr."""
    flow = generator.decoder.flow
    if flow is None:
        return torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    head = {id(p) for p in flow.parameters()}
    rest = [p for p in generator.parameters() if id(p) not in head]
    groups = [{"params": rest}, {"params": flow.parameters(), "lr": cfg.flow_lr}]
    return torch.optim.Adam(groups, lr=cfg.lr, betas=(0.5, 0.999))


CRITICS = ("discriminators", "eye_discriminator", "noise_encoder")


def start_critics_from(init: str, modules: dict[str, torch.nn.Module]) -> None:
    """Load into `modules` those the `init` checkpoint holds (a run's discriminators, eye
    discriminator, noise encoder; shipped weights hold none): a run that continues an earlier
    run's generator keeps the judges and the encoder it was trained with."""
    if not init:
        return
    checkpoint = load_weights(init)
    for name, module in modules.items():
        if name in checkpoint:
            module.load_state_dict(checkpoint[name])


def with_noise_prior(
    generator: TemporalGenerator, hidden: int, components: int
) -> TemporalGenerator:
    """`generator` rebuilt with a fresh noise prior of this size (every other weight kept; a
    prior it held is left out)."""
    config = replace(generator.config, prior_hidden=hidden, prior_components=components)
    model = TemporalGenerator(config)
    weights = {
        k: v
        for k, v in generator.state_dict().items()
        if not k.startswith("noise_prior.")
    }
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not unexpected and all(k.startswith("noise_prior.") for k in missing)
    return model


def frozen_prior_from(generator: TemporalGenerator, path: str) -> TemporalGenerator:
    """`generator` with the noise prior of the checkpoint at `path`, frozen (the recipe's
    `--prior`)."""
    source = load_model(load_weights(path))
    prior = getattr(source, "noise_prior", None)
    if prior is None:
        raise ValueError(f"--prior {path}: holds no learned noise prior")
    if source.config.noise_dim != generator.config.noise_dim:
        raise ValueError(
            f"--prior {path}: a prior of {source.config.noise_dim} noise dimensions, "
            f"the generator draws {generator.config.noise_dim}"
        )
    model = with_noise_prior(
        generator, source.config.prior_hidden, source.config.prior_components
    )
    model.noise_prior.load_state_dict(prior.state_dict())
    model.noise_prior.requires_grad_(False)
    return model


def train(cfg: TemporalGANTrainConfig, progress: bool = True) -> Path:
    """Run (or resume) training; returns the path of the best checkpoint."""
    from tqdm import tqdm

    from talkface.eval.runner import load_sync_expert

    run = TrainRun(cfg, higher_is_better=True, progress=progress)
    generator = TemporalGenerator(PRESETS[cfg.model])
    start_from(generator, cfg.init)
    if cfg.prior:
        generator = frozen_prior_from(generator, cfg.prior)
    discriminators = Discriminators(cfg)
    size = generator.config.size

    # 1. Data: s1 `train` sequences with their audio windows; the unseen faces for validation
    clips = training_clips(cfg, size)
    loss_expert = None
    if cfg.expert_weight > 0:
        loss_expert = load_loss_expert(cfg.expert)
        with_expert_audio(clips, loss_expert)
    val_sets, expert = {}, None
    if run.main:
        val_sets = {
            s: load_crops(
                cfg.cache,
                "val",
                size,
                speakers=(s,),
                limit=cfg.val_clips,
                extra=("wav",),
            )
            for s in cfg.val_speakers
        }
        val_sets = {s: c for s, c in val_sets.items() if c}
        expert = load_sync_expert()

    # 2. Optimisers (Adam; the paper's two learning rates) and their step decays
    def adam(params, lr):
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))

    opt_g = generator_optimizer(generator, cfg)
    opt_d = adam(
        [
            {"params": discriminators.frame.parameters(), "lr": cfg.lr},
            {"params": discriminators.sequence.parameters(), "lr": cfg.slow_lr},
            {"params": discriminators.sync.parameters(), "lr": cfg.slow_lr},
        ],
        cfg.lr,
    )
    decay_g = torch.optim.lr_scheduler.StepLR(
        opt_g, cfg.decay_every, 1 - cfg.generator_decay
    )
    decay_d = torch.optim.lr_scheduler.StepLR(
        opt_d, cfg.decay_every, 1 - cfg.discriminator_decay
    )
    state = dict(
        discriminators=discriminators,
        optimizer_g=opt_g,
        optimizer_d=opt_d,
        decay_g=decay_g,
        decay_d=decay_d,
    )
    critics = dict(discriminators.named_children())
    d_optimizers = [opt_d]
    if cfg.eye_weight > 0:  # its own module and optimiser: older checkpoints lack both
        critics["eye"] = EyeMotionDiscriminator(EYE_PRESETS[cfg.eye_discriminator])
        d_optimizers.append(adam(critics["eye"].parameters(), cfg.lr))
        state.update(eye_discriminator=critics["eye"], optimizer_eye=d_optimizers[-1])
    if cfg.encoder_weight > 0:  # trained with the generator; its own optimiser
        encoder = NoiseEncoder(NOISE_ENCODER_PRESETS[cfg.noise_encoder])
        if encoder.config.noise_dim != generator.config.noise_dim:
            raise ValueError(
                f"noise encoder {cfg.noise_encoder!r} codes {encoder.config.noise_dim} "
                f"noise dimensions, the generator draws {generator.config.noise_dim}"
            )
        opt_e = adam(encoder.parameters(), cfg.lr)
        state.update(noise_encoder=encoder, optimizer_encoder=opt_e)
    start_critics_from(
        cfg.init,
        {name: module for name, module in state.items() if name in CRITICS},
    )
    run.resume(
        generator,
        added=(
            "eye_discriminator",
            "optimizer_eye",
            "noise_encoder",
            "optimizer_encoder",
        ),
        **state,
    )
    if cfg.sync_warmup > 0 and run.start_epoch == 0:
        report = warm_up_sync(discriminators.sync, clips, cfg, run.progress)
        if run.main:
            print(
                f"sync warm-up: in-sync audio nearest of {2 * WARMUP_SHIFTS + 1} "
                "shifts in {first_accuracy:.0%} -> {last_accuracy:.0%} of "
                "snippets".format(**report),
                flush=True,
            )
    net_g = run.parallel(generator)
    net_e = run.parallel(encoder) if cfg.encoder_weight > 0 else None
    # the modules to call, each DDP-wrapped when several processes run
    critics = {name: run.parallel(module) for name, module in critics.items()}

    for epoch in run.epochs(cfg.epochs):
        t0 = time.time()
        rng = run.rank_rng(epoch)
        noise = torch.Generator().manual_seed(int(rng.integers(2**31)))
        losses = []
        steps = run.shard(list(range(cfg.steps_per_epoch)))
        for step in tqdm(
            steps, desc=f"epoch {epoch}", disable=not run.progress, leave=False
        ):
            batch = make_batch(clips, cfg, rng)
            b, t = batch.audio.shape[:2]
            z = generator.sample_noise(b, t, noise)
            other_z = None  # a second noise for the same stills and audio
            if cfg.diversity_weight > 0:
                other_z = generator.sample_noise(b, t, noise)
            elif net_e is not None:  # the real sequence's noise
                other_z, mean, log_var = encode_noise(net_e, batch.real)
            want_maps = cfg.attention_weight > 0 or cfg.flow_weight > 0
            if other_z is None:
                fake = net_g(batch.still, batch.audio, z, maps=want_maps)
            else:
                # both noises in one call (DDP allows one forward per backward);
                # the identity encoder's batch norm sees duplicates: one draw's statistics
                fake = net_g(
                    batch.still.repeat(2, 1, 1, 1),
                    batch.audio.repeat(2, 1, 1),
                    torch.cat([z, other_z]),
                    maps=want_maps,
                )
            maps = {}
            if want_maps:
                fake, maps = fake
            if other_z is not None:
                fake, other = fake[:b], fake[b:]
            pick = torch.from_numpy(rng.integers(t, size=b))  # S(x): a uniform frame
            # 3. Discriminator step on real and generated data
            d_terms = discriminator_losses(critics, batch, fake, pick, cfg)
            if d_terms:
                for optimizer in d_optimizers:
                    optimizer.zero_grad()
                sum(d_terms.values()).backward()
                for optimizer in d_optimizers:
                    optimizer.step()
            # 4. Generator step (eq. 7)
            g_terms = generator_losses(critics, batch, fake, pick, cfg)
            if cfg.diversity_weight > 0:
                g_terms["diversity"] = cfg.diversity_weight * diversity_loss(
                    fake, other, z, other_z, cfg.diversity_cap, cfg.diversity_pool
                )
            g_terms |= map_terms(maps, batch.flow, b, cfg, coded=net_e is not None)
            if loss_expert is not None:
                g_terms |= expert_terms(loss_expert, fake, batch, cfg)
            logged = {}
            if net_e is not None:
                coded, logged["kl_nats"] = coded_terms(
                    other,
                    batch.real,
                    mean,
                    log_var,
                    cfg,
                    generator.config.noise_std,
                    epoch * cfg.steps_per_epoch + step,
                )
                g_terms |= coded
                opt_e.zero_grad()
            opt_g.zero_grad()
            sum(g_terms.values()).backward()
            opt_g.step()
            if net_e is not None:
                opt_e.step()
            losses.append(
                {k: v.item() for k, v in {**d_terms, **g_terms}.items()} | logged
            )
        decay_g.step()
        decay_d.step()
        # 5. Validate on the unseen faces, log, checkpoint
        metrics = {}
        if run.main:
            generator.eval()
            metrics = validate(generator, val_sets, expert)
            generator.train()
        row = {
            "epoch": epoch,
            **run.mean_losses(losses),
            "seconds": time.time() - t0,
        }
        run.end_epoch(
            epoch,
            generator,
            row,
            metrics,
            sync_score(metrics) if metrics else 0.0,
            **state,
        )
    return run.close()
