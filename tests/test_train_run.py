"""The training infrastructure every recipe shares: YAML configs, logs and plots, the new
recipes end to end, and two-process DistributedDataParallel training under torchrun (gloo)."""

import csv
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from talkface.errors import TalkfaceError
from talkface.train.run import build_config, dump_config, log_epoch, plot_log

SLOW = pytest.mark.slow  # CI runs them (.ci/run); the default suite leaves them out


@dataclass
class _Config:
    out: str = "runs/x"
    lr: float = 1e-3
    epochs: int = 3
    resume: bool = False
    speakers: tuple[str, ...] = ("s26",)


def test_yaml_sets_defaults_and_flags_override(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 1\nepochs: 7\nspeakers: [s26, s31]\n")
    cfg = build_config(_Config, path, {"epochs": 9})
    assert cfg == _Config(lr=1.0, epochs=9, speakers=("s26", "s31"))
    dump_config(
        cfg, tmp_path / "again.yaml"
    )  # the run folder's copy reads back the same
    assert build_config(_Config, tmp_path / "again.yaml") == cfg


@pytest.mark.parametrize(
    "text, message",
    [("lr: 1\nlearning_rate: 2\n", "unknown config key"), ("epochs: many\n", "epochs")],
)
def test_unknown_keys_and_wrong_types_are_errors(tmp_path, text, message):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(TalkfaceError, match=message):
        build_config(_Config, path)


def test_loss_plot_has_a_panel_per_quantity(tmp_path):
    log = tmp_path / "log.csv"
    with open(log, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["epoch", "train_loss", "s31_loss", "s31_mouth_error", "seconds"]
        )
        for e in range(3):
            writer.writerow([e, 1 / (e + 1), 2 / (e + 1), 0.1, 5])
    plot_log(log, tmp_path / "loss.png")
    from PIL import Image

    width, height = Image.open(tmp_path / "loss.png").size
    assert width == 3 * 4 * 80 and height == 3 * 80  # train, loss, mouth_error panels


def test_a_resumed_run_redoes_epochs_and_adds_columns_in_its_log(tmp_path):
    """Resumed from epoch 0's checkpoint after epoch 1 was logged (a crash before its save),
    with a new loss term: epoch 1 is logged once, the new column is empty before, and the loss
    plot draws it where it exists."""
    log = tmp_path / "log.csv"
    log_epoch(log, {"epoch": 0, "l1": 3.0}, {"s31": {"ssim": 0.8}}, echo=False)
    log_epoch(log, {"epoch": 1, "l1": 2.0}, {"s31": {"ssim": 0.8}}, echo=False)
    log_epoch(
        log, {"epoch": 1, "l1": 1.0, "diversity": -0.01}, {"s31": {"ssim": 0.9}}, False
    )
    rows = _rows(log)
    assert [(r["epoch"], r["l1"], r["diversity"]) for r in rows] == [
        ("0", "3", ""),
        ("1", "1", "-0.01"),
    ]
    plot_log(log, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").exists()


def talkface(*args, launcher=(sys.executable, "-m", "talkface")):
    return subprocess.run(
        [*launcher, *map(str, args)], capture_output=True, text=True, timeout=600
    )


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "recipe, flags",
    [
        (
            "sinha",
            ["--model", "sinha-tiny", "--sequence", "8", "--synthetic-voices", "0"],
        ),
        (  # the weights' moving average is what gets validated and saved
            "atnet",
            "--model tiny --sequence 8 --synthetic-voices 0 --average 0.9".split(),
        ),
        pytest.param(  # with espeak-ng twins of its clips, Gaussian bin targets, cosine
            "dirfa",  # lr and a speech window other than the preset's
            "--model dirfa-tiny --sequence 16 --synthetic-voices 1 --label-sigma 2 "
            "--cosine --context 12".split(),
            marks=SLOW,
        ),
        pytest.param(
            "blinks",
            ["--model", "blink-tiny", "--steps-per-epoch", "3", "--val-sequences", "8"],
            marks=SLOW,
        ),
        pytest.param(
            "texture",
            [
                "--model",
                "texture-tiny",
                "--discriminator",
                "patch-tiny",
                "--steps-per-epoch",
                "2",
                "--val-clips",
                "1",
            ],
            marks=SLOW,
        ),
        pytest.param(
            "vgnet",
            "--model vgnet-tiny --discriminator regression-tiny --steps-per-epoch 2 "
            "--val-clips 1 --sequence 3".split(),
            marks=SLOW,
        ),
        (
            "temporal-gan",
            "--model temporal-gan-tiny --frame-discriminator frame-tiny "
            "--sequence-discriminator sequence-tiny --sync-discriminator sync-tiny "
            "--steps-per-epoch 2 --val-clips 1 --sequence 11".split(),
        ),
        pytest.param(  # the mode-seeking term (two noise draws a step), a flow decoder,
            "temporal-gan",  # its teacher and the attention regulariser
            "--model temporal-gan-tiny-flow --frame-discriminator frame-tiny "
            "--sequence-discriminator sequence-tiny --sync-discriminator sync-tiny "
            "--steps-per-epoch 2 --val-clips 1 --sequence 11 "
            "--diversity-weight 5 --attention-weight 1 --flow-weight 1".split(),
            marks=SLOW,
        ),
        pytest.param(  # the noise encoder, with the flow decoder's terms on the upper half
            "temporal-gan",
            "--model temporal-gan-tiny-flow --frame-discriminator frame-tiny "
            "--sequence-discriminator sequence-tiny --sync-discriminator sync-tiny "
            "--noise-encoder noise-encoder-tiny --steps-per-epoch 2 --val-clips 1 "
            "--sequence 11 --encoder-weight 1 --attention-weight 1 --flow-weight 1 "
            "--maps-region upper".split(),
            marks=SLOW,
        ),
    ],
)
def test_recipe_trains_from_yaml_and_resumes(recipe, flags, grid_cache, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(f"cache: {grid_cache}\nout: {tmp_path / 'run'}\nbatch_size: 2\n")
    first = talkface("train", recipe, "-c", config, *flags, "--epochs", "1")
    assert first.returncode == 0, first.stderr
    again = talkface("train", recipe, "-c", config, *flags, "--epochs", "2", "--resume")
    assert again.returncode == 0, again.stderr
    run = tmp_path / "run"
    rows = _rows(run / "log.csv")
    assert [r["epoch"] for r in rows] == ["0", "1"]
    flow = "--flow-weight" in flags
    logged = {  # the flow decoder's terms, when asked for
        "attention": "--attention-weight" in flags,
        "flow": flow and "upper" not in flags,  # drawn noise's flow: lower half
        "coded_flow": flow and "--encoder-weight" in flags,
    }
    for term, asked in logged.items():
        if recipe == "temporal-gan":  # logged when asked for, and only then
            assert asked == (term in rows[0]), term
        if asked:
            assert all(float(r[term]) > 0 for r in rows), term
    for name in ("best.pt", "last.pt", "config.yaml", "loss.png"):
        assert (run / name).exists(), name
    if "--synthetic-voices" in flags:  # espeak-ng twins made once, kept in the run
        voices = flags[flags.index("--synthetic-voices") + 1] != "0"
        assert (run / "synthetic.npz").exists() == voices
    assert list((run / "tensorboard").iterdir())
    saved = torch.load(run / "last.pt", weights_only=True)
    assert saved["train_config"]["batch_size"] == 2 and saved["epoch"] == 1
    if "--context" in flags:  # the model was built with it and saved its config
        assert saved["config"]["context"] == int(flags[flags.index("--context") + 1])
    if "--average" in flags:  # the trained weights travel beside it, for --resume
        averaged, trained = saved["model"], saved["trained"]
        assert averaged.keys() == trained.keys()
        assert any(not torch.equal(averaged[k], trained[k]) for k in averaged)


@pytest.mark.slow
def test_a_discriminator_added_to_a_resumed_run_starts_fresh(grid_cache, tmp_path):
    """A temporal GAN run resumed with the eye-motion discriminator and the noise encoder (not
    in its checkpoint) keeps its generator and other discriminators and trains the new ones
    from scratch."""
    flags = (
        "--model temporal-gan-tiny --frame-discriminator frame-tiny "
        "--sequence-discriminator sequence-tiny --sync-discriminator sync-tiny "
        "--steps-per-epoch 2 --val-clips 1 --sequence 11 --batch-size 2".split()
    )
    run = tmp_path / "run"
    common = ["--cache", grid_cache, "--out", run, *flags]
    first = talkface("train", "temporal-gan", *common, "--epochs", "1")
    assert first.returncode == 0, first.stderr
    before = torch.load(run / "last.pt", weights_only=True)
    assert "eye_discriminator" not in before
    eyes = ["--eye-weight", "1", "--eye-discriminator", "eye-tiny"]
    encoder = "--encoder-weight 10 --noise-encoder noise-encoder-tiny --kl-delay 1"
    again = talkface(
        "train", "temporal-gan", *common, *eyes, *encoder.split(), "--epochs", "2",
        "--resume",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = torch.load(run / "last.pt", weights_only=True)
    assert after["epoch"] == 1 and "optimizer_eye" in after
    assert {"noise_encoder", "optimizer_encoder"} <= set(after)
    trained = _rows(run / "log.csv")[1]
    assert set(after["eye_discriminator"]) and float(trained["d_eye"]) > 0
    assert float(trained["coded_l1"]) > 0 and float(trained["kl_nats"]) > 0
    frame = [k for k in before["discriminators"] if k.startswith("frame.")]
    assert any(
        not torch.equal(before["discriminators"][k], after["discriminators"][k])
        for k in frame
    )  # resumed and trained on


@pytest.mark.slow
def test_two_processes_train_in_lock_step(grid_cache, tmp_path):
    """torchrun starts 2 ranks (gloo) that train on different batches; DDP averages their
    gradients and rank 0 alone logs and saves, so the weights differ from one process's."""
    common = [
        "--cache", grid_cache, "--model", "blink-tiny", "--epochs", "1",
        "--steps-per-epoch", "4", "--batch-size", "4", "--val-sequences", "8",
    ]  # fmt: skip
    torchrun = (sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", "-m", "talkface")  # fmt: skip
    two = talkface(
        "train", "blinks", *common, "--out", tmp_path / "two", launcher=torchrun
    )
    assert two.returncode == 0, two.stderr
    rows = _rows(tmp_path / "two" / "log.csv")
    assert len(rows) == 1 and rows[0]["processes"] == "2"
    state = torch.load(tmp_path / "two" / "last.pt", weights_only=True)["model"]
    assert all(torch.isfinite(v).all() for v in state.values())
    one = talkface("train", "blinks", *common, "--out", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    single = torch.load(tmp_path / "one" / "last.pt", weights_only=True)["model"]
    assert _rows(tmp_path / "one" / "log.csv")[0]["processes"] == "1"
    moved = [not torch.equal(state[k], single[k]) for k in state if "rnn" in k]
    assert np.any(moved)


def test_mmd_is_zero_for_one_distribution_and_grows_with_the_gap():
    from talkface.train.blinks import minmax_penalty, mmd2

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 20, 3, generator=g)
    y = torch.randn(64, 20, 3, generator=g)
    assert abs(mmd2(x, x, (1.0,)).item()) < 1e-6
    near, far = mmd2(x, y, (1.0,)), mmd2(x, y + 1.0, (1.0,))
    assert 0 < near < far
    # moving the generated samples towards the real ones lowers it: a usable training signal
    shift = torch.zeros(1, requires_grad=True)
    mmd2(x, y + 1.0 + shift, (1.0,)).backward()
    assert shift.grad.item() > 0
    low, high = -torch.ones(3), torch.ones(3)
    assert minmax_penalty(torch.zeros(5, 3), low, high) == 0
    assert minmax_penalty(torch.full((5, 3), 2.0), low, high) > 0


def test_ear_profile_sees_blinks_wherever_they_fall_and_how_fast_they_close():
    from talkface.train.blinks import ear_profile, mmd2

    def blinks(*starts, shape=(0.25, 0.15, 0.1, 0.2)):
        trace = torch.full((1, 40, 1), 0.3)
        for t in starts:
            trace[0, t : t + len(shape), 0] = torch.tensor(shape)
        return trace

    early, late = ear_profile(blinks(5)), ear_profile(blinks(30))
    for a, b in zip(early, late):
        torch.testing.assert_close(a, b)  # where a blink falls does not matter
    open_eyes = ear_profile(blinks())
    slow = ear_profile(blinks(5, shape=(0.28, 0.25, 0.2, 0.15, 0.1, 0.15, 0.2, 0.25)))
    assert not torch.equal(early[0], open_eyes[0])
    assert early[1].min() < slow[1].min()  # the fast closing's steepest step
    # as a distribution: half the sequences blinking is far from none blinking
    real = torch.cat([blinks(5 + i % 20) if i % 2 else blinks() for i in range(32)])
    none = torch.cat([blinks()] * 32) + 0.001 * torch.randn(32, 40, 1)
    same = torch.cat([blinks(10 + i % 20) if i % 2 else blinks() for i in range(32)])

    def distance(x, y):
        return sum(mmd2(a, b, (1.0,)) for a, b in zip(ear_profile(x), ear_profile(y)))

    assert distance(real, same) < 0.1 * distance(real, none)


def test_landmark_losses_separate_position_and_temporal_terms():
    from talkface.train.atnet import landmark_losses

    target = torch.randn(2, 5, 68, 2, generator=torch.Generator().manual_seed(0))
    lmark, temp = landmark_losses(target + 0.01, target, mouth_weight=3.0)
    assert lmark > 0 and temp.abs() < 1e-8  # a constant offset is no temporal error
    jitter = target.clone()
    jitter[:, ::2] += 0.01
    lmark2, temp2 = landmark_losses(jitter, target, mouth_weight=3.0)
    assert temp2 > 0 and lmark2 < lmark


def test_weight_average_moves_a_decay_step_towards_the_model():
    from talkface.train.run import WeightAverage

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    average = WeightAverage(model, 0.75)
    before = {k: v.clone() for k, v in average.module.state_dict().items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)
    model(torch.randn(4, 3))  # moves the norm's running statistics and its step counter
    average.update(model)
    current = model.state_dict()
    for name, value in average.module.state_dict().items():
        if value.is_floating_point():
            expected = 0.75 * before[name] + 0.25 * current[name]
            assert torch.allclose(value, expected), name
        else:
            assert torch.equal(value, current[name]), name
    assert not torch.equal(model[0].weight, average.module[0].weight)
    assert not any(p.requires_grad for p in average.module.parameters())
