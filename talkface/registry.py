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
}
DEFAULT_MODEL = "atnet-grid"

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


SHIPPED = {**MODELS, **EVALUATORS}


def available_models() -> list[str]:
    return sorted(MODELS)
