from pathlib import Path

import numpy as np
import pytest

GRID = Path(__file__).resolve().parents[2] / "shared" / "data" / "grid"


@pytest.fixture(scope="session")
def grid_dir() -> Path:
    if not (GRID / "splits.csv").exists():
        pytest.skip(
            f"GRID data not found at {GRID} (../shared/data/grid beside the project)"
        )
    return GRID


PREPROCESS_ARGS = ("--shard", "0/340", "--crop-sizes", "96x128,128", "-q")


@pytest.fixture(scope="session")
def grid_cache(grid_dir, tmp_path_factory) -> Path:
    """Three real GRID clips preprocessed once per test session (shard 0 of 340)."""
    import subprocess
    import sys

    cache = tmp_path_factory.mktemp("grid") / "cache"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "talkface",
            "preprocess",
            grid_dir,
            cache,
            *PREPROCESS_ARGS,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return cache


@pytest.fixture(scope="session")
def samples() -> tuple[str, str]:
    import talkface

    return talkface.sample_paths()


@pytest.fixture(scope="session")
def speech():
    """(wav float32, sample rate, phonemes) of an espeak-ng sentence."""
    from talkface.data.tts import synthesize

    s = synthesize("Bin blue at F two now. Please open the window.", voice="en-us")
    return s


@pytest.fixture(scope="session")
def face_photo(samples) -> np.ndarray:
    from talkface.io.image import load_image

    return load_image(samples[0])
