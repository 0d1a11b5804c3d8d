"""`talkface evaluate` on real GRID video: the ground truth against itself, and a still photo."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from talkface.eval.runner import evaluate_pair
from talkface.io.video import read_video, write_video


def evaluate_cli(generated, reference, output, *flags):
    command = [
        "evaluate",
        "--generated",
        generated,
        "--reference",
        reference,
        "-o",
        output,
    ]
    return subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, command), *flags],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def clip(grid_dir):
    return sorted((grid_dir / "s31").glob("*.mp4"))[0]


def test_ground_truth_against_itself(clip):
    frames, fps = read_video(clip)
    out = evaluate_pair(frames, frames, fps)
    assert (
        out["psnr_identical_frames"] == len(frames)
        and out["psnr_of_mean_mse"] == np.inf
    )
    assert out["ssim"] == pytest.approx(1.0)
    assert out["lmd_mouth"] == 0.0 and out["lmd_face"] == 0.0
    assert (
        out["identity"] < 0.4
    )  # the real frames drift from the first frame, same person
    assert out["cpbd"] == out["cpbd_reference"]
    assert out["ear"] == out["ear_reference"]


def test_cli_on_a_still_photo_video(clip, tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "ref").mkdir()
    shutil.copy(clip, tmp_path / "ref" / clip.name)
    frames, fps = read_video(clip)
    write_video(tmp_path / "gen" / clip.name, [frames[0]] * len(frames), fps)
    report_path = tmp_path / "report.json"
    result = evaluate_cli(
        tmp_path / "gen",
        tmp_path / "ref",
        report_path,
        "-q",
        "--side-by-side",
        tmp_path / "sbs",
        "--report",
        tmp_path / "report",
    )
    assert result.returncode == 0, result.stderr
    assert "| system | clips | PSNR" in result.stdout
    side, _ = read_video(tmp_path / "sbs" / clip.name)
    assert side.shape[1:3] == (frames.shape[1], 2 * frames.shape[2])
    for name in [
        "report.md",
        "report.html",
        "lmd_per_clip.png",
        "opening.png",
        "blinks.png",
    ]:
        assert (tmp_path / "report" / name).stat().st_size > 500
    assert "opening.png" in (tmp_path / "report" / "report.md").read_text()
    report = json.loads(report_path.read_text())
    mean = report["mean"]
    assert 20 < mean["psnr"] < 45 and mean["ssim"] < 0.99
    assert mean["lmd_mouth"] > 0.5  # the real lips move, the photo's do not
    assert mean["identity"] < 0.2  # but it is the same person
    assert report["blinks"]["rate"] == 0.0
    assert (
        "cpbd" in report["fingerprint"] and "dlib" in report["fingerprint"]["versions"]
    )
    # the sync expert: the real clip is in sync with its sound, the still photo is not
    clip_result = report["clips"][0]
    assert abs(clip_result["sync_offset_reference"]) <= 1
    assert clip_result["sync_confidence"] < clip_result["sync_confidence_reference"] / 2


def test_no_matching_names_is_a_clear_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write_video(tmp_path / "a" / "x.mp4", [np.zeros((64, 64, 3), np.uint8)] * 3, 25)
    result = evaluate_cli(tmp_path / "a", tmp_path / "b", tmp_path / "r.json")
    assert result.returncode == 1 and "namesake" in result.stderr


def test_static_baseline_is_measured_by_the_same_code(clip, tmp_path):
    (tmp_path / "ref").mkdir()
    shutil.copy(clip, tmp_path / "ref" / clip.name)
    report_path = tmp_path / "static.json"
    command = ["evaluate", "--reference", tmp_path / "ref", "--baseline", "static"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "talkface",
            *map(str, command),
            "-o",
            str(report_path),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["mean"]["identity"] == 0.0  # the very first frame, unencoded
    assert report["mean"]["lmd_mouth"] > 0.5 and report["blinks"]["blinks"] == 0
    assert report["blinks_reference"]["blinks"] >= 1


def test_reencoded_baseline_is_the_codec_noise_floor(clip):
    from talkface.eval.runner import BASELINES

    frames, fps = read_video(clip)
    still = evaluate_pair(BASELINES["static"](frames), frames, fps)
    again = evaluate_pair(BASELINES["reencoded"](frames), frames, fps)
    assert again["psnr_identical_frames"] == 0 and 30 < again["psnr"] < 60
    assert again["lmd_mouth"] < still["lmd_mouth"] / 2
    assert again["opening_corr"] > 0.8


def test_protocol_writes_its_tables_into_results(grid_dir, tmp_path):
    results = tmp_path / "results.md"
    results.write_text("# Results\n\nkept above\n")
    command = [
        "evaluate",
        "--protocol",
        "grid",
        "--grid",
        grid_dir,
        "--sets",
        "s31-val",
        "--limit",
        "2",
        "--jobs",
        "2",
        "-o",
        tmp_path / "protocol.json",
        "--results",
        results,
        "-q",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, command)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    protocol = json.loads((tmp_path / "protocol.json").read_text())
    systems = protocol["sets"]["s31-val"]
    assert list(systems) == ["talkface", "static", "reencoded"]
    assert systems["talkface"]["skipped"] == []
    from talkface.eval.protocol import grid_clips

    expected = [v.stem for v in grid_clips(grid_dir, "s31", "val")[:2]]
    assert [c["clip"] for c in systems["talkface"]["clips"]] == expected  # listed order
    static, ours = systems["static"]["mean"], systems["talkface"]["mean"]
    assert ours["lmd_mouth"] < static["lmd_mouth"]  # the model moves the lips like s31
    assert ours["sync_confidence"] > static["sync_confidence"]
    text = results.read_text()
    assert "kept above" in text and text.count("| talkface | 2 |") == 1
    # a second run replaces the section instead of appending another
    from talkface.eval.protocol import write_results

    write_results(protocol, results)
    assert results.read_text().count("| talkface | 2 |") == 1


def test_protocol_seeds_are_per_clip_and_reproducible():
    """One seed for every clip would give every clip the same blinks at the same times."""
    from pathlib import Path

    from talkface.eval.protocol import clip_seed

    a, b = Path("s31/bgiq6p.mp4"), Path("s31/bgix8n.mp4")
    assert clip_seed(a) == clip_seed(Path("elsewhere/bgiq6p.mp4"))
    assert clip_seed(a) != clip_seed(b)
    assert 0 <= clip_seed(a) < 2**31
    # an offset draws the set again, other seeds for every clip, still reproducible
    assert clip_seed(a, 1000) not in (clip_seed(a), clip_seed(b))
    assert clip_seed(a, 1000) == clip_seed(a, 1000)
    assert 0 <= clip_seed(a, 2**31 - 1) < 2**31


def test_protocol_with_a_model_that_cannot_load_fails_at_once(tmp_path):
    """Pool workers whose initializer raises are replaced forever: the model must be loaded
    (and fail) before any worker starts. In a subprocess, so the bug fails instead of hangs."""
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    code = (
        "import sys; from talkface.eval.protocol import evaluate_set; "
        "evaluate_set([sys.argv[1] + '/clip.mpg'], sys.argv[1] + '/broken.pt', jobs=2)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "not a readable talkface checkpoint" in result.stderr
