"""Motion as JSON: export what a pipeline decided, edit it, render it again.

    {"format": "talkface-motion", "version": 1, "fps": 25.0, "frames": T,
     "displacements": T x 68 x [dx, dy]   canonical landmark displacements from the neutral face
                                          (mean-face units: the mean face spans the unit square)
     "blink": T                           eyelid closure, 0 = open, 1 = shut
     "pose": T x [yaw, pitch, roll, tx, ty]  head pose relative to the photo's: degrees, then
                                          canonical units
     "landmarks": T x 68 x [x, y]         (export only) the rendered landmarks in photo pixels}

Import reads displacements, blink, pose and fps; "landmarks" is for other tools and ignored (the
photo it refers to may not be the one rendered next).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.io.files import atomic_output
from talkface.types import Motion

FORMAT, VERSION = "talkface-motion", 1
MAX_FRAMES = 10 * 60 * 120  # 10 minutes at the highest frame rate


def save_motion(
    path: str | Path, motion: Motion, landmarks: np.ndarray | None = None
) -> Path:
    """Write `motion` (and the (T, 68, 2) photo-pixel landmarks it rendered) atomically."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise TalkfaceError(f"motion file must be a .json file, got {path}")
    data = {
        "format": FORMAT,
        "version": VERSION,
        "fps": float(motion.fps),
        "frames": len(motion),
        "displacements": np.round(motion.displacements, 6).tolist(),
        "blink": np.round(motion.blink, 4).tolist(),
        "pose": np.round(motion.pose, 4).tolist(),
    }
    if landmarks is not None:
        data["landmarks"] = np.round(landmarks, 2).tolist()
    with atomic_output(path, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(data, separators=(",", ":")))
    return path


def load_motion(path: str | Path) -> Motion:
    """Read a motion file; any inconsistency is a one-line TalkfaceError naming the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TalkfaceError(f"cannot read motion file {path}: {e}") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TalkfaceError(f"{path} is not a talkface motion file")
    if data.get("version") != VERSION:
        raise TalkfaceError(
            f"{path}: motion format version {data.get('version')} (this talkface reads {VERSION})"
        )
    fps = data.get("fps")
    if not isinstance(fps, (int, float)) or not 1 <= fps <= 120:
        raise TalkfaceError(f"{path}: fps must be a number between 1 and 120")
    arrays = {}
    for name, tail in (("displacements", (68, 2)), ("blink", ()), ("pose", (5,))):
        try:
            value = np.asarray(data[name], np.float32)
        except (KeyError, ValueError, TypeError) as e:
            raise TalkfaceError(f"{path}: {name} is missing or not numeric") from e
        if value.ndim != 1 + len(tail) or value.shape[1:] != tail:
            raise TalkfaceError(
                f"{path}: {name} must be frames x {' x '.join(map(str, tail)) or 'one value'}, "
                f"got shape {value.shape}"
            )
        if not np.isfinite(value).all():
            raise TalkfaceError(f"{path}: {name} holds NaN or infinite values")
        arrays[name] = value
    frames = {len(a) for a in arrays.values()}
    if len(frames) != 1 or not 1 <= frames.pop() <= MAX_FRAMES:
        raise TalkfaceError(
            f"{path}: displacements, blink and pose need the same number of frames "
            f"(1 to {MAX_FRAMES})"
        )
    return Motion(
        arrays["displacements"],
        np.clip(arrays["blink"], 0, 1),
        float(fps),
        arrays["pose"],
    )
