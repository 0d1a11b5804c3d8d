"""Preprocess a few real GRID clips, then train, checkpoint and resume the AT-net recipe."""

import csv
import subprocess
import sys

import numpy as np


def talkface(*args):
    return subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_preprocess_train_resume(tmp_path, grid_dir):
    cache = tmp_path / "cache"
    result = talkface(
        "preprocess", grid_dir, cache, "--shard", "0/340", "--jobs", "1", "-q"
    )
    assert result.returncode == 0, result.stderr
    files = sorted(cache.rglob("*.npz"))
    assert len(files) == 3
    clip = np.load(files[0])
    assert clip["landmarks"].shape[1:] == (68, 2) and clip["landmarks"].shape[0] == 75
    assert not np.isnan(clip["landmarks"]).any()
    assert abs(len(clip["wav"]) / 16000 - 3.0) < 0.05 and clip["words"][0] == "sil"
    # a second run skips finished clips
    stamp = files[0].stat().st_mtime_ns
    assert (
        talkface("preprocess", grid_dir, cache, "--shard", "0/340", "-q").returncode
        == 0
    )
    assert files[0].stat().st_mtime_ns == stamp

    run = tmp_path / "run"
    common = [
        "--cache",
        cache,
        "--out",
        run,
        "--model",
        "tiny",
        "--batch-size",
        "2",
        "--sequence",
        "8",
    ]
    result = talkface("train", "atnet", *common, "--epochs", "1")
    assert result.returncode == 0, result.stderr
    assert (run / "last.pt").exists() and (run / "best.pt").exists()
    result = talkface("train", "atnet", *common, "--epochs", "2", "--resume")
    assert result.returncode == 0, result.stderr
    with open(run / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert all(np.isfinite(float(r["train_lmark"])) for r in rows)
    # the trained checkpoint drives the whole pipeline
    out = tmp_path / "out.mp4"
    result = talkface("generate", "--model", run / "best.pt", "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_manifest_records_settings(tmp_path, grid_dir):
    import json

    from talkface.data.preprocess import grid_layout, preprocess

    preprocess(grid_dir, tmp_path, shard=(5, 1000), progress=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["layout"] == "grid" and manifest["sample_rate"] == 16000
    assert "dlib" in manifest["versions"]
    with open(grid_dir / "splits.csv") as f:
        assert len(grid_layout(grid_dir)) == len(list(csv.DictReader(f)))
