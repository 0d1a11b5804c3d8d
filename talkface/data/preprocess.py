"""Extract per-frame dlib landmarks and 16 kHz audio from raw talking-face clips.

One `.npz` per clip under OUT_DIR/<speaker>/<clip>.npz holding:
    landmarks (T, 68, 2) float32  source-video pixels (NaN rows where no face was found)
    fps       ()         float64
    wav       (N,)       float32  mono at SAMPLE_RATE
    words     (W,)       str      word labels ('sil' / 'sp' mark silence)
    word_times (W, 2)    float64  start, end in seconds
Finished clips are skipped, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import json
import platform
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from talkface.face.detect import detect_faces
from talkface.face.landmarks import detect_landmarks
from talkface.features.align import SAMPLE_RATE
from talkface.io.audio import load_audio
from talkface.io.files import atomic_output
from talkface.io.video import read_video

REDETECT_EVERY = (
    5  # frames; GRID heads barely move, and detection is 20x dearer than landmarks
)
GRID_ALIGN_UNITS = 25000.0  # GRID .align times are in 1/25000 s


@dataclass(frozen=True)
class ClipSource:
    """One raw clip: its video, optional word alignment, speaker and split."""

    video: Path
    alignment: Path | None
    speaker: str
    split: str

    @property
    def name(self) -> str:
        return self.video.stem


def grid_layout(raw_dir: str | Path) -> list[ClipSource]:
    """The clips of a GRID folder as listed in its `splits.csv`."""
    raw_dir = Path(raw_dir)
    with open(raw_dir / "splits.csv") as f:
        rows = list(csv.DictReader(f))
    return [
        ClipSource(
            raw_dir / r["video"], raw_dir / r["alignment"], r["speaker"], r["split"]
        )
        for r in rows
    ]


LAYOUTS = {"grid": grid_layout}


def read_grid_alignment(path: Path) -> tuple[list[str], np.ndarray]:
    words, times = [], []
    for line in Path(path).read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3:
            times.append(
                (float(parts[0]) / GRID_ALIGN_UNITS, float(parts[1]) / GRID_ALIGN_UNITS)
            )
            words.append(parts[2])
    return words, np.array(times, dtype=np.float64).reshape(-1, 2)


def track_landmarks(frames) -> np.ndarray:
    """(T, 68, 2) float32 landmarks of the largest face in each frame; NaN where none is found."""
    out, box = [], None
    for i, frame in enumerate(frames):
        if box is None or i % REDETECT_EVERY == 0:
            boxes = detect_faces(frame, upsample=0)
            box = boxes[0] if boxes else box
        out.append(
            detect_landmarks(frame, box)
            if box is not None
            else np.full((68, 2), np.nan, np.float32)
        )
    return np.stack(out).astype(np.float32)


def extract_clip(source: ClipSource) -> dict:
    """Landmarks, audio and words of one clip, as stored in its .npz."""
    frames, fps = read_video(source.video)
    landmarks = track_landmarks(frames)
    wav = load_audio(source.video, SAMPLE_RATE)
    words, times = (
        read_grid_alignment(source.alignment)
        if source.alignment
        else ([], np.zeros((0, 2)))
    )
    return {
        "landmarks": landmarks,
        "fps": np.float64(fps),
        "wav": wav,
        "words": np.array(words, dtype=str),
        "word_times": times,
    }


def clip_output_path(out_dir: Path, source: ClipSource) -> Path:
    return Path(out_dir) / source.speaker / f"{source.name}.npz"


def _process(args: tuple[ClipSource, Path]) -> str:
    source, out_dir = args
    target = clip_output_path(out_dir, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = extract_clip(source)
    # atomic: a killed run never leaves a truncated clip behind, so resuming is safe
    with atomic_output(target, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **data)
    return source.name


def preprocess(
    raw_dir: str | Path,
    out_dir: str | Path,
    layout: str = "grid",
    jobs: int = 1,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
) -> list[ClipSource]:
    """Extract every clip of `raw_dir` into `out_dir`, skipping clips already done.

    `shard=(i, n)` processes only every n-th clip starting at i, for cluster job arrays.
    Returns the clips of this shard.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = LAYOUTS[layout](raw_dir)[shard[0] :: shard[1]]
    todo = [c for c in clips if not clip_output_path(out_dir, c).exists()]
    _write_manifest(out_dir, layout, clips)
    bar = tqdm(total=len(todo), desc="preprocess", unit="clip", disable=not progress)
    if jobs > 1:
        with Pool(jobs) as pool:
            for _ in pool.imap_unordered(_process, [(c, out_dir) for c in todo]):
                bar.update()
    else:
        for clip in todo:
            _process((clip, out_dir))
            bar.update()
    bar.close()
    return clips


def _write_manifest(out_dir: Path, layout: str, clips: list[ClipSource]) -> None:
    import av
    import dlib

    from talkface import __version__

    manifest = {
        "talkface": __version__,
        "layout": layout,
        "sample_rate": SAMPLE_RATE,
        "redetect_every": REDETECT_EVERY,
        "landmarks": "dlib shape_predictor_68_face_landmarks, HOG detector upsample 0",
        "versions": {
            "dlib": dlib.__version__,
            "av": av.__version__,
            "python": platform.python_version(),
        },
        "clips": [
            {
                "speaker": c.speaker,
                "split": c.split,
                "name": c.name,
                "file": str(clip_output_path(Path("."), c)),
            }
            for c in clips
        ],
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))


def load_clip(path: str | Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
