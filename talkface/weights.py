"""Load the project's own packaged weights (sha256-checked) or a local checkpoint. No network."""

from __future__ import annotations

import hashlib
import io
import pickle
from importlib import resources
from pathlib import Path

import torch

from talkface.errors import TalkfaceError
from talkface.registry import SHIPPED


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_weights(name_or_path: str | Path) -> dict:
    """The checkpoint dict {"config", "model", ...} of a registered model name or a .pt path."""
    if str(name_or_path) in SHIPPED:
        spec = SHIPPED[str(name_or_path)]
        data = resources.files("talkface.assets").joinpath(spec.weights).read_bytes()
        if sha256_of(data) != spec.sha256:
            raise TalkfaceError(
                f"weights of {spec.name} are corrupt (sha256 mismatch): reinstall talkface"
            )
        source = data
    else:
        path = Path(name_or_path)
        if not path.exists():
            raise TalkfaceError(
                f"unknown model {name_or_path!r}: not a registered name ({', '.join(sorted(SHIPPED))}) nor a file"
            )
        source = path.read_bytes()
    try:
        return torch.load(io.BytesIO(source), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise TalkfaceError(
            f"{name_or_path} is not a readable talkface checkpoint: "
            + str(error).splitlines()[0]
        ) from None


# fields older checkpoints hold that configs no longer have: n_mels (Sinha, DIRFA) is now
# features.audio.feature_dims(features)
RETIRED_CONFIG_FIELDS = ("n_mels",)


def model_state(checkpoint: dict) -> tuple[dict, dict]:
    """(config kwargs, float32 state dict) of a checkpoint; JSON-ish lists become tuples and
    float16 shipped weights load into float32 parameters."""
    config = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in checkpoint["config"].items()
        if k not in RETIRED_CONFIG_FIELDS
    }
    state = {
        k: v.float() if v.is_floating_point() else v
        for k, v in checkpoint["model"].items()
    }
    return config, state


def architectures() -> dict:
    """Class name stored in a checkpoint -> (model class, config class)."""
    from talkface.models import atvgnet, dirfa, sinha, syncnet, vougioukas

    return {
        "AudioToLandmark": (
            atvgnet.AudioToLandmark,
            atvgnet.AudioToLandmarkConfig,
        ),
        "VGNet": (atvgnet.VGNet, atvgnet.VGNetConfig),
        "RegressionDiscriminator": (
            atvgnet.RegressionDiscriminator,
            atvgnet.RegressionDiscriminatorConfig,
        ),
        "LandmarkNet": (sinha.LandmarkNet, sinha.LandmarkNetConfig),
        "BlinkGenerator": (sinha.BlinkGenerator, sinha.BlinkGeneratorConfig),
        "TextureGenerator": (sinha.TextureGenerator, sinha.TextureGeneratorConfig),
        "PatchDiscriminator": (
            sinha.PatchDiscriminator,
            sinha.PatchDiscriminatorConfig,
        ),
        "DIRFA": (dirfa.DIRFA, dirfa.DIRFAConfig),
        "SyncNet": (syncnet.SyncNet, syncnet.SyncNetConfig),
        "TemporalGenerator": (
            vougioukas.TemporalGenerator,
            vougioukas.TemporalGANConfig,
        ),
        "FrameDiscriminator": (
            vougioukas.FrameDiscriminator,
            vougioukas.FrameDiscriminatorConfig,
        ),
        "SequenceDiscriminator": (
            vougioukas.SequenceDiscriminator,
            vougioukas.SequenceDiscriminatorConfig,
        ),
        "SyncDiscriminator": (
            vougioukas.SyncDiscriminator,
            vougioukas.SyncDiscriminatorConfig,
        ),
        "EyeMotionDiscriminator": (
            vougioukas.EyeMotionDiscriminator,
            vougioukas.EyeMotionDiscriminatorConfig,
        ),
    }


def load_model(checkpoint: dict) -> torch.nn.Module:
    """Rebuild the model a checkpoint holds (in eval mode) from its stored class and config.
    Checkpoints written before the class was stored are AT-nets."""
    name = checkpoint.get("architecture", "AudioToLandmark")
    if name not in architectures():
        raise TalkfaceError(f"unknown model architecture {name!r} in checkpoint")
    model_cls, config_cls = architectures()[name]
    config, state = model_state(checkpoint)
    model = model_cls(config_cls(**config))
    model.load_state_dict(state)
    return model.eval()
