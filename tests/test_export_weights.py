"""scripts/export_weights.py: what ships into the package (float16, config kept, blends)."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from talkface.models.dirfa import DIRFA, PRESETS
from talkface.train.checkpoint import save_checkpoint

SCRIPT = Path(__file__).parents[1] / "scripts" / "export_weights.py"


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True
    )


def tiny_checkpoint(path: Path, seed: int, **config) -> dict:
    torch.manual_seed(seed)
    model = DIRFA(dataclasses.replace(PRESETS["dirfa-tiny"], **config))
    save_checkpoint(path, model, epoch=seed)
    return model.state_dict()


def test_blend_ships_the_weighted_mean_in_float16(tmp_path):
    a = tiny_checkpoint(tmp_path / "a.pt", seed=0)
    b = tiny_checkpoint(tmp_path / "b.pt", seed=1)
    out = tmp_path / "out.pt"
    done = export(tmp_path / "a.pt", out, "--blend", tmp_path / "b.pt", "0.25")
    assert done.returncode == 0, done.stderr
    shipped = torch.load(out, weights_only=True)
    assert shipped["blend"] == {
        "with": str(tmp_path / "b.pt"),
        "epoch": 1,
        "weight": 0.25,
    }
    weight = shipped["model"]["head.weight"]
    assert weight.dtype == torch.float16
    expected = 0.75 * a["head.weight"] + 0.25 * b["head.weight"]
    torch.testing.assert_close(weight.float(), expected, atol=1e-3, rtol=1e-3)
    assert not torch.allclose(weight.float(), a["head.weight"], atol=1e-3)


def test_blend_refuses_another_config_and_writes_nothing(tmp_path):
    tiny_checkpoint(tmp_path / "a.pt", seed=0)
    tiny_checkpoint(tmp_path / "b.pt", seed=1, bins=16)
    out = tmp_path / "out.pt"
    done = export(tmp_path / "a.pt", out, "--blend", tmp_path / "b.pt", "0.5")
    assert done.returncode != 0
    assert "cannot blend" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("weight", ["0", "1"])
def test_blend_ends_are_the_checkpoints(tmp_path, weight):
    a = tiny_checkpoint(tmp_path / "a.pt", seed=0)
    b = tiny_checkpoint(tmp_path / "b.pt", seed=1)
    out = tmp_path / "out.pt"
    assert (
        export(tmp_path / "a.pt", out, "--blend", tmp_path / "b.pt", weight).returncode
        == 0
    )
    end = a if weight == "0" else b
    shipped = torch.load(out, weights_only=True)["model"]["head.weight"].float()
    torch.testing.assert_close(shipped, end["head.weight"], atol=1e-3, rtol=1e-3)
