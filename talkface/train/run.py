"""What every training recipe shares: the run folder with its resolved config, seeds, --resume,
logs (CSV, TensorBoard, a loss plot) and checkpoints, and data parallelism over processes.

    run = TrainRun(cfg)                      # cfg: the recipe's config dataclass (out, seed, resume)
    model = ...; optimizer = ...
    run.resume(model, optimizer=optimizer)   # continue from last.pt when cfg.resume
    train_model = run.parallel(model)        # DistributedDataParallel under torchrun
    for epoch in run.epochs(cfg.epochs):
        for batch in run.shard(batches): ...  # this process's share
        run.end_epoch(epoch, model, row, metrics, score, optimizer=optimizer)

Multi-process: `torchrun --nproc_per_node 2 -m talkface train RECIPE ...` starts one process per
rank; each trains on its share of every epoch's batches and DistributedDataParallel averages the
gradients (gloo on CPU, nccl on GPUs). Rank 0 alone validates, logs and writes checkpoints.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
import typing
from pathlib import Path

import numpy as np
import torch

from talkface.errors import TalkfaceError
from talkface.io.files import atomic_output
from talkface.train.checkpoint import load_checkpoint, save_checkpoint

# -- configs: dataclass defaults < YAML file < command-line flags ------------------------------


def build_config(
    cls, yaml_path: str | Path | None = None, overrides: dict | None = None
):
    """An instance of config dataclass `cls` from a YAML file and explicit overrides.

    Unknown keys and values of the wrong type are errors (YAML is only a serialisation of the
    dataclass: it never names classes or inherits from other files).
    """
    import yaml

    values = {}
    if yaml_path is not None:
        try:
            loaded = yaml.safe_load(Path(yaml_path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise TalkfaceError(f"cannot read config {yaml_path}: {e}") from e
        if not isinstance(loaded, dict):
            raise TalkfaceError(f"config {yaml_path} must be a mapping of field: value")
        values.update(loaded)
    values.update(overrides or {})
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TalkfaceError(
            f"unknown config key(s) {unknown} for {cls.__name__}; known: {sorted(known)}"
        )
    return cls(**{k: _typed(k, v, hints[k]) for k, v in values.items()})


def _typed(name: str, value, kind):
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)):
            raise TalkfaceError(f"config {name}: expected a list, got {value!r}")
        item = typing.get_args(kind)[0]
        return tuple(_typed(name, v, item) for v in value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TalkfaceError(f"config {name}: expected {kind.__name__}, got {value!r}")
    return value


def dump_config(cfg, path: Path) -> None:
    import yaml

    values = {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in dataclasses.asdict(cfg).items()
    }
    with atomic_output(path) as tmp:
        Path(tmp).write_text(yaml.safe_dump(values, sort_keys=False))


# -- processes ---------------------------------------------------------------------------------


def init_distributed() -> tuple[int, int]:
    """(rank, world size); joins the process group when started by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


class TrainRun:
    """One training run: see the module docstring."""

    def __init__(self, cfg, higher_is_better: bool = False, progress: bool = True):
        self.cfg = cfg
        self.rank, self.world = init_distributed()
        if self.world > 1 and "OMP_NUM_THREADS" not in os.environ:
            # one process per core: more threads than cores makes small ops crawl
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.world))
        self.main = self.rank == 0
        self.progress = progress and self.main
        self.out = Path(cfg.out)
        self.higher_is_better = higher_is_better
        self.best = -float("inf") if higher_is_better else float("inf")
        self.start_epoch = 0
        # the same seed on every rank: identical initial weights, identical batch order
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self._writer = None
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            dump_config(cfg, self.out / "config.yaml")

    @property
    def log_path(self) -> Path:
        return self.out / "log.csv"

    def resume(
        self, model: torch.nn.Module, added: tuple[str, ...] = (), **state
    ) -> None:
        """Load model and training state (optimizer, scheduler, ...) from last.pt if asked.
        `added` names state a run may have gained since its checkpoint (a new discriminator):
        a checkpoint without it leaves it fresh."""
        last = self.out / "last.pt"
        if not (self.cfg.resume and last.exists()):
            if self.main and self.log_path.exists():
                self.log_path.unlink()  # a fresh run starts a fresh log
            self._barrier()
            return
        saved = load_checkpoint(last)
        model.load_state_dict(saved["model"])
        for name, obj in state.items():
            if name in saved or name not in added:
                obj.load_state_dict(saved[name])
        self.start_epoch, self.best = saved["epoch"] + 1, saved["best"]
        self.rng = np.random.default_rng(self.cfg.seed + self.start_epoch)

    def parallel(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module to call in training steps: DDP-wrapped when several processes run."""
        if self.world == 1:
            return model
        return torch.nn.parallel.DistributedDataParallel(model)

    def rank_rng(self, epoch: int) -> np.random.Generator:
        """A generator of this rank's own random draws in an epoch (batches, noise)."""
        return np.random.default_rng([self.cfg.seed, epoch, self.rank])

    def epochs(self, total: int) -> range:
        return range(self.start_epoch, total)

    def shard(self, batches: list) -> list:
        """This rank's share of the epoch's batches (equal counts: DDP steps in lock-step)."""
        usable = len(batches) // self.world * self.world
        return batches[self.rank : usable : self.world] if self.world > 1 else batches

    def mean_over_ranks(self, values: np.ndarray) -> np.ndarray:
        if self.world == 1:
            return values
        t = torch.tensor(np.asarray(values, np.float64))
        torch.distributed.all_reduce(t)
        return (t / self.world).numpy()

    def mean_losses(self, losses: list[dict[str, float]]) -> dict[str, float]:
        """Per-step loss dicts (the same keys each step) averaged over steps and processes."""
        names = list(losses[0])
        steps = np.array([[step[k] for k in names] for step in losses])
        return dict(zip(names, map(float, self.mean_over_ranks(steps.mean(0)))))

    def end_epoch(
        self,
        epoch: int,
        model: torch.nn.Module,
        row: dict,
        metrics: dict,
        score: float,
        **state,
    ) -> None:
        """Log the epoch (CSV, TensorBoard, loss plot) and checkpoint it: last.pt always (with
        `state` for --resume), best.pt when `score` improves. Rank 0 only."""
        if self.main:
            row = {**row, "processes": self.world}
            log_epoch(self.log_path, row, metrics, self.progress)
            self._tensorboard(epoch, row, metrics)
            plot_log(self.log_path, self.out / "loss.png")
            improved = score > self.best if self.higher_is_better else score < self.best
            self.best = score if improved else self.best
            train_config = dataclasses.asdict(self.cfg)
            if improved:
                save_checkpoint(
                    self.out / "best.pt",
                    model,
                    epoch=epoch,
                    metrics=metrics,
                    train_config=train_config,
                )
            save_checkpoint(
                self.out / "last.pt",
                model,
                epoch=epoch,
                best=self.best,
                train_config=train_config,
                **{k: v.state_dict() for k, v in state.items()},
            )
        self._barrier()

    def close(self) -> Path:
        """Finish the run; returns the best checkpoint's path."""
        if self._writer is not None:
            self._writer.close()
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        return self.out / "best.pt"

    def _tensorboard(self, epoch: int, row: dict, metrics: dict) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # optional package: CSV and PNG always work
            return
        if self._writer is None:
            self._writer = SummaryWriter(str(self.out / "tensorboard"))
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)):
                self._writer.add_scalar(f"train/{key}", value, epoch)
        for name, values in metrics.items():
            for key, value in values.items():
                self._writer.add_scalar(f"{name}/{key}", value, epoch)
        self._writer.flush()

    def _barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()


# -- logs --------------------------------------------------------------------------------------


class WeightAverage:
    """An exponential moving average of a model's weights (Polyak averaging), updated after
    every optimizer step: it smooths the step-to-step noise of the trained weights, and a run
    that keeps one validates and saves it (`module`) in their place."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"the average's decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        averaged, current = self.module.state_dict(), model.state_dict()
        for name, value in averaged.items():
            if value.is_floating_point():
                value.lerp_(current[name], 1 - self.decay)
            else:  # counters and the like follow the model
                value.copy_(current[name])


def log_epoch(path: Path, row: dict, metrics: dict, echo: bool = True) -> None:
    """Append one epoch's numbers and its validation `metrics` ({set: {name: value}}) to a
    run's log.csv (and print them as one line), replacing rows of this or later epochs."""
    row = dict(row)
    for name, values in metrics.items():
        row.update({f"{name}_{k}": v for k, v in values.items()})
    row = {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
    rows = []
    if path.exists():
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    # epochs logged after the checkpoint a run resumed from are done again: the new row wins
    rows = [r for r in rows if int(r["epoch"]) < int(row["epoch"])]
    columns = list(dict.fromkeys([*(rows[0] if rows else {}), *row]))
    # rewrite the whole (small) log, so a column added on --resume lines up with its header
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows([*rows, row])
    if echo:
        print(
            " ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in row.items()
            ),
            flush=True,
        )


def plot_log(log: Path, png: Path) -> None:
    """One panel per quantity of a log.csv (training losses and each validation metric across
    the validation sets) against the epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(log) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    panels: dict[str, list[str]] = {}
    for key in rows[0]:
        if key in ("epoch", "seconds"):
            continue
        panel = "train" if key.startswith("train_") else _metric_name(key)
        panels.setdefault(panel, []).append(key)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4 * len(panels), 3), squeeze=False
    )
    for ax, (panel, keys) in zip(axes[0], panels.items()):
        for key in keys:  # a column added on --resume is empty in earlier rows
            logged = [r for r in rows if r[key] not in ("", None)]
            ax.plot(
                [int(r["epoch"]) for r in logged],
                [float(r[key]) for r in logged],
                marker=".",
                label=key,
            )
        ax.set_title(panel)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_output(png) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)


def _metric_name(key: str) -> str:
    """'s31_mouth_error' -> 'mouth_error' (validation set names hold no underscore)."""
    return key.split("_", 1)[1] if "_" in key else key
