"""Atomic checkpoints that carry their typed config: {"config", "model", "version", ...}."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from talkface.io.files import atomic_output


def save_checkpoint(path: str | Path, model: torch.nn.Module, **extra) -> None:
    """Write model weights + `model.config` (+ any extra state) to `path` atomically."""
    from talkface import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "version": __version__,
        "architecture": type(model).__name__,
        "config": asdict(model.config),
        "model": model.state_dict(),
        **extra,
    }
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)
