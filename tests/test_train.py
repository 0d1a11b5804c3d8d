"""Preprocess a few real GRID clips, then train, checkpoint and resume the AT-net recipe."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import PREPROCESS_ARGS


def talkface(*args):
    return subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, args)],
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_preprocess_train_resume(tmp_path, grid_dir, grid_cache):
    cache = grid_cache
    files = sorted(cache.rglob("*.npz"))
    assert len(files) == 3
    clip = np.load(files[0])
    assert clip["landmarks"].shape[1:] == (68, 2) and clip["landmarks"].shape[0] == 75
    assert not np.isnan(clip["landmarks"]).any()
    assert abs(len(clip["wav"]) / 16000 - 3.0) < 0.05 and clip["words"][0] == "sil"
    # aligned crops: the eyes land where the mean face puts them, at every size
    from talkface.face.align import mean_face

    for key, (h, w) in {"96x128": (96, 128), "128x128": (128, 128)}.items():
        assert clip[f"crop_{key}"].shape == (75, h, w, 3)
        eyes = clip[f"crop_landmarks_{key}"][:, [36, 45]].mean(0)
        expected = mean_face()[[36, 45]] * w + [0, (h - w) / 2]
        assert np.abs(eyes - expected).max() < 0.05 * w
    n_feat = len(clip["wav"]) // 160 + 1  # 100 Hz, centred STFT frames
    assert clip["mfcc"].shape == (n_feat, 12) and clip["log_mel"].shape == (n_feat, 40)
    assert clip["pose"].shape == (75, 6) and np.abs(clip["pose"][:, :3]).max() < 30
    assert 0.2 < np.median(clip["ear"]) < 0.45 and clip["face_found"].all()
    assert clip["boxes"].shape == (75, 4)
    # a second run skips finished clips
    stamp = files[0].stat().st_mtime_ns
    assert talkface("preprocess", grid_dir, cache, *PREPROCESS_ARGS).returncode == 0
    assert files[0].stat().st_mtime_ns == stamp
    # other settings into the same cache are refused rather than mixed
    other = talkface("preprocess", grid_dir, cache, "--shard", "0/340", "-q")
    assert other.returncode == 1 and "other settings" in other.stderr

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

    from talkface.data.preprocess import grid_layout, preprocess, read_manifest

    preprocess(grid_dir, tmp_path, shard=(5, 1000), progress=False)
    preprocess(grid_dir, tmp_path, shard=(6, 1000), progress=False)
    # each shard of a job array writes its own manifest; readers see their union
    manifest = json.loads((tmp_path / "manifest.5of1000.json").read_text())
    settings = manifest["settings"]
    assert settings["layout"] == "grid" and settings["sample_rate"] == 16000
    assert settings["crop_sizes"] == [[128, 128]]
    assert "dlib" in manifest["versions"] and "opencv" in manifest["versions"]
    clips = grid_layout(grid_dir)
    assert len(read_manifest(tmp_path)["clips"]) == len(clips[5::1000] + clips[6::1000])
    with open(grid_dir / "splits.csv") as f:
        assert len(grid_layout(grid_dir)) == len(list(csv.DictReader(f)))


def test_folder_tree_layouts(tmp_path):
    from talkface.data.preprocess import LAYOUTS

    for path in [
        "lrw/ABOUT/train/ABOUT_00001.mp4",
        "lrw/ABOUT/test/ABOUT_00002.mp4",
        "lrw/ABOUT/notes/skip.mp4",
        "vox/dev/mp4/id00012/abcDEF/00001.mp4",
        "vox/test/mp4/id00017/xyz/00003.mp4",
    ]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    lrw = LAYOUTS["lrw"](tmp_path / "lrw")
    assert [(c.speaker, c.split, c.name) for c in lrw] == [
        ("ABOUT", "test", "ABOUT_00002"),
        ("ABOUT", "train", "ABOUT_00001"),
    ]
    vox = LAYOUTS["voxceleb2"](tmp_path / "vox")
    assert [(c.speaker, c.split, c.name) for c in vox] == [
        ("id00012", "train", "abcDEF_00001"),
        ("id00017", "test", "xyz_00003"),
    ]


def test_a_run_can_start_from_earlier_weights_of_the_same_generator(tmp_path):
    from talkface.models.vougioukas import PRESETS, TemporalGANConfig, TemporalGenerator
    from talkface.train.checkpoint import save_checkpoint
    from talkface.train.renderer_data import start_from

    torch.manual_seed(0)
    trained = TemporalGenerator(PRESETS["temporal-gan-tiny"])
    save_checkpoint(tmp_path / "g.pt", trained)
    fresh = TemporalGenerator(PRESETS["temporal-gan-tiny"])
    start_from(fresh, str(tmp_path / "g.pt"))
    for (name, a), b in zip(trained.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name
    other = TemporalGenerator(TemporalGANConfig(size=32, channels=8))
    with pytest.raises(ValueError, match="another config"):
        start_from(other, str(tmp_path / "g.pt"))
    # a flow head added to trained weights starts at no motion: the same frames as before
    grown = TemporalGenerator(PRESETS["temporal-gan-tiny-flow"])
    start_from(grown, str(tmp_path / "g.pt"))
    assert not grown.decoder.flow.weight.any()
    still, audio = torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, 4, 3200)
    noise = torch.randn(2, 4, 3)
    torch.testing.assert_close(
        grown.eval()(still, audio, noise),
        trained.eval()(still, audio, noise),
        atol=1e-5,
        rtol=0,
    )
    # but weights with a flow do not load into a model without one
    save_checkpoint(tmp_path / "flow.pt", grown)
    with pytest.raises(ValueError, match="another config"):
        start_from(
            TemporalGenerator(PRESETS["temporal-gan-tiny"]), str(tmp_path / "flow.pt")
        )
    # weights with a learned noise prior start a run without it (fitted again afterwards)
    from dataclasses import replace

    fitted = TemporalGenerator(
        replace(PRESETS["temporal-gan-tiny"], prior_hidden=4, prior_components=3)
    )
    fitted.load_state_dict(trained.state_dict(), strict=False)
    save_checkpoint(tmp_path / "prior.pt", fitted)
    plain = TemporalGenerator(PRESETS["temporal-gan-tiny"])
    start_from(plain, str(tmp_path / "prior.pt"))
    assert plain.noise_prior is None
    for (name, a), b in zip(trained.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), name
