"""Atomic checkpoints that carry their typed config: {"config", "model", "version", ...}."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch


def save_checkpoint(path: str | Path, model: torch.nn.Module, **extra) -> None:
    """Write model weights + `model.config` (+ any extra state) to `path` atomically."""
    from talkface import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "version": __version__,
        "config": asdict(model.config),
        "model": model.state_dict(),
        **extra,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)
