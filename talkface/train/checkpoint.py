"""Atomic checkpoints that carry their typed config: {"config", "model", "version", ...}."""

from __future__ import annotations

import csv
from dataclasses import asdict, is_dataclass
from pathlib import Path

import numpy as np
import torch

from talkface.io.files import atomic_output


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
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def log_epoch(path: Path, row: dict, metrics: dict, echo: bool = True) -> None:
    """Append one epoch's numbers and its validation `metrics` ({set: {name: value}}) to a
    run's log.csv (and print them as one line)."""
    row = dict(row)
    for name, values in metrics.items():
        row.update({f"{name}_{k}": v for k, v in values.items()})
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(
            {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
        )
    if echo:
        print(
            " ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in row.items()
            ),
            flush=True,
        )


def start_run(out: str | Path, seed: int) -> tuple[Path, np.random.Generator]:
    """Create the run folder and seed numpy and torch; returns (folder, numpy generator)."""

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    return out, np.random.default_rng(seed)


def save_epoch(
    out: Path,
    model: torch.nn.Module,
    cfg,
    epoch: int,
    metrics: dict,
    score: float,
    best: float,
    higher_is_better: bool = False,
    **training_state,
) -> float:
    """best.pt when `score` beats `best`; last.pt (with `training_state`, e.g. the optimizer
    and scheduler, for --resume) every epoch. Returns the new best score."""
    improved = score > best if higher_is_better else score < best
    best = score if improved else best
    train_config = asdict(cfg) if is_dataclass(cfg) else dict(cfg)
    if improved:
        save_checkpoint(
            out / "best.pt",
            model,
            epoch=epoch,
            metrics=metrics,
            train_config=train_config,
        )
    save_checkpoint(
        out / "last.pt",
        model,
        epoch=epoch,
        best=best,
        train_config=train_config,
        **{k: v.state_dict() for k, v in training_state.items()},
    )
    return best
