"""The models talkface ships: public name -> weights file inside the package + its sha256."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    weights: str  # file name in talkface/assets
    sha256: str
    description: str


MODELS: dict[str, ModelSpec] = {
    "atnet-grid": ModelSpec(
        name="atnet-grid",
        weights="atnet_grid.pt",
        sha256="65301c844017390b200effd0418e564766d54e0da3246660ce4127dd85603915",
        description="ATVGnet AT-net (MFCC + LSTM -> landmark PCA) trained on GRID s1; warp renderer",
    ),
    "sinha-grid": ModelSpec(
        name="sinha-grid",
        weights="sinha_grid.pt",
        sha256="de45920bf28a5bb7ec17efc75e1bfd13a569ea0c50e8dc9a30fd7664adb74106",
        description="Sinha et al. landmark network (log-mel + phone windows -> conv -> PCA decoder) on GRID s1; warp renderer",
    ),
    "dirfa-grid": ModelSpec(
        name="dirfa-grid",
        weights="dirfa_grid.pt",
        sha256="0e3413732a142b62c95a88a982729fb3eed4986cdb804bc6d4843bad2285bd95",
        description="DIRFA transformer (lips, brows, blinks, head pose; sampled per seed) on GRID s1; warp renderer",
    ),
    "temporal-gan-grid": ModelSpec(
        name="temporal-gan-grid",
        weights="temporal_gan_grid.pt",
        sha256="5feef862df6fdf351b629146917c3efb6d20ad96b1640f92db79c34ea3320076",
        description="Vougioukas et al. temporal GAN (still + raw audio -> frames, attention "
        "output + flow) on GRID s1, its noise drawn from a prior learnt from real video's "
        "codes; early: 4,900 steps of CPU training, the last 500 against a frozen sync expert, "
        "blended 0.6 / 0.4 with the weights before those; blinks from its noise",
    ),
}
DEFAULT_MODEL = "atnet-grid"
# short names `--model` also takes: the paper's name -> the shipped model
MODEL_ALIASES: dict[str, str] = {"temporal-gan": "temporal-gan-grid"}
# `--motion` choices: the paper's name -> the shipped speech -> motion model
MOTION_MODELS = {"atvgnet": "atnet-grid", "sinha": "sinha-grid", "dirfa": "dirfa-grid"}

# parts every pipeline uses, not chosen on their own
COMPONENTS: dict[str, ModelSpec] = {
    "blink-grid": ModelSpec(
        name="blink-grid",
        weights="blink_grid.pt",
        sha256="8ee971039976fe572644bbdf60b093bfdbb1ea93185cf73a5e6afae92d7be05a",
        description="Sinha et al. blink generator (noise -> GRU -> eye and brow motion, MMD) on GRID s1",
    ),
}
BLINK_MODEL = "blink-grid"
# neural renderers (landmarks -> frames), chosen with --renderer
RENDERER_MODELS: dict[str, ModelSpec] = {
    "texture-grid": ModelSpec(
        name="texture-grid",
        weights="texture_grid.pt",
        sha256="d682083054b9bd4e2554673d627c80a8729a1c5b4947c68bfdd1351dd33a935f",
        description="Sinha et al. texture generator over the warp (attention + colour maps "
        "on the mouth and eyes) on GRID s1; better mouths on the seen face, the warp's quality "
        "on new ones",
    ),
    "vgnet-grid": ModelSpec(
        name="vgnet-grid",
        weights="vgnet_grid.pt",
        sha256="2a816045abf171577ef8461283910acfda83eb92e31d8c477ff616e84bcc3570",
        description="ATVGnet VG-net over the warp (ConvGRU, attention + motion maps) on GRID s1; "
        "early: one epoch, about the warp's quality",
    ),
}
# `--renderer` choices besides "warp" (no network): the paper's name -> shipped renderer
RENDERERS: dict[str, str] = {"sinha": "texture-grid", "atvgnet": "vgnet-grid"}

# models that measure rather than generate: weights ship the same way, but never animate a face
EVALUATORS: dict[str, ModelSpec] = {
    "syncnet-grid": ModelSpec(
        name="syncnet-grid",
        weights="syncnet_grid.pt",
        sha256="b8b5ef55e8f22a563087f1c91b4619611be211a13c49a94501d626c876bc39aa",
        description="sync expert: SyncNet-style lower-face/audio embeddings trained on GRID s1",
    ),
}
SYNC_EXPERT = "syncnet-grid"  # the evaluator of lip sync (not a generator)


SHIPPED = {**MODELS, **COMPONENTS, **RENDERER_MODELS, **EVALUATORS}


def available_models() -> list[str]:
    return sorted(MODELS)
