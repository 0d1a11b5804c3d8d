"""Turn raw talking-face clips into training-ready cached data.

One `.npz` per clip under OUT_DIR/<speaker>/<clip>.npz holding:
    boxes      (T, 4)        float32  face box per frame (left, top, right, bottom), source px
    landmarks  (T, 68, 2)    float32  dlib landmarks in source-video pixels
    face_found (T,)          bool     False where no face was found (landmarks carried over
                                      from the nearest frame with one, NaN if none has)
    crop_HxW   (T, H, W, 3)  uint8    similarity-aligned face crops, one array per crop size
    crop_landmarks_HxW (T, 68, 2) float32  landmarks in that crop's pixels
    pose       (T, 6)        float32  yaw, pitch, roll (deg), tx, ty, tz (mm); face/pose.py
    ear        (T,)          float32  mean eye aspect ratio of both eyes
    fps        ()            float64
    wav        (N,)          float32  mono at SAMPLE_RATE
    mfcc       (F, 12)       float32  c1..c12 at FEATURE_RATE (4 per frame at 25 fps)
    log_mel    (F, 40)       float32  natural-log mel power at FEATURE_RATE
    words      (W,)          str      word labels ('sil' / 'sp' mark silence)
    word_times (W, 2)        float64  start, end in seconds
Finished clips are skipped, so an interrupted run resumes where it stopped.

A dataset layout is a function `raw_dir -> list[ClipSource]` registered in LAYOUTS; see
docs/preprocess.md for the GRID and folder-tree (LRW / VoxCeleb2) layouts.
"""

from __future__ import annotations

import csv
import json
import platform
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.face.align import crop_face
from talkface.face.detect import detect_faces
from talkface.face.landmarks import detect_landmarks, eye_aspect_ratio
from talkface.face.pose import head_pose
from talkface.features.align import SAMPLE_RATE
from talkface.io.audio import load_audio
from talkface.io.files import atomic_output
from talkface.io.video import read_video

GRID_ALIGN_UNITS = 25000.0  # GRID .align times are in 1/25000 s
FORMAT_VERSION = 2  # bump when the stored arrays change


@dataclass(frozen=True)
class PreprocessConfig:
    """What gets stored per clip; recorded in the manifest so a cache is never mixed."""

    crop_sizes: tuple[tuple[int, int], ...] = ((128, 128),)  # (height, width) each
    # frames between face detections; GRID heads barely move and detection is 20x dearer
    # than landmarks
    redetect_every: int = 5


def parse_crop_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """'96x128,128' -> ((96, 128), (128, 128)): HxW or a single side for a square."""
    sizes = []
    for part in text.split(","):
        h, _, w = part.strip().lower().partition("x")
        try:
            sizes.append((int(h), int(w or h)))
        except ValueError:
            raise TalkfaceError(
                f"bad crop size {part!r}: expected HxW or S, e.g. 96x128,128"
            ) from None
    if any(min(s) < 16 or max(s) > 1024 for s in sizes):
        raise TalkfaceError("crop sizes must be between 16 and 1024 pixels")
    return tuple(sizes)


def crop_key(size: tuple[int, int], what: str = "crop") -> str:
    """Array name of the crops of `size` (what="crop") or of their landmarks
    (what="crop_landmarks")."""
    return f"{what}_{size[0]}x{size[1]}"


@dataclass(frozen=True)
class ClipSource:
    """One raw clip: its video, optional word alignment, speaker and split."""

    video: Path
    alignment: Path | None
    speaker: str
    split: str
    name: str = field(default="")

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.video.stem)


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


def lrw_layout(raw_dir: str | Path) -> list[ClipSource]:
    """LRW's tree WORD/{train,val,test}/WORD_00001.mp4; the word stands in for the speaker."""
    return [
        ClipSource(video, None, video.parts[-3], video.parts[-2])
        for video in sorted(Path(raw_dir).glob("*/*/*.mp4"))
        if video.parts[-2] in ("train", "val", "test")
    ]


def voxceleb2_layout(raw_dir: str | Path) -> list[ClipSource]:
    """VoxCeleb2's tree {dev,test}/mp4/SPEAKER/VIDEO_ID/00001.mp4 ('dev' becomes 'train')."""
    return [
        ClipSource(
            video,
            None,
            video.parts[-3],
            "train" if video.parts[-5] == "dev" else video.parts[-5],
            name=f"{video.parts[-2]}_{video.stem}",
        )
        for video in sorted(Path(raw_dir).glob("*/mp4/*/*/*.mp4"))
    ]


LAYOUTS = {"grid": grid_layout, "lrw": lrw_layout, "voxceleb2": voxceleb2_layout}


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


def track_faces(frames, redetect_every: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (T, 4) and landmarks (T, 68, 2) of the largest face per frame; NaN where none."""
    boxes = np.full((len(frames), 4), np.nan, np.float32)
    landmarks = np.full((len(frames), 68, 2), np.nan, np.float32)
    box = None
    for i, frame in enumerate(frames):
        if box is None or i % redetect_every == 0:
            found = detect_faces(frame, upsample=0)
            box = found[0] if found else box
        if box is not None:
            boxes[i] = (box.left, box.top, box.right, box.bottom)
            landmarks[i] = detect_landmarks(frame, box)
    return boxes, landmarks


def track_landmarks(frames, redetect_every: int = 5) -> np.ndarray:
    """(T, 68, 2) landmarks of the largest face per frame; NaN where none is found."""
    return track_faces(frames, redetect_every)[1]


def fill_missing(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Copy the nearest found frame's landmarks into frames without a face."""
    found = np.isfinite(landmarks).all(axis=(1, 2))
    if not found.any() or found.all():
        return landmarks, found
    index = np.flatnonzero(found)
    nearest = index[np.abs(np.arange(len(landmarks))[:, None] - index[None]).argmin(1)]
    return landmarks[nearest], found


def extract_clip(
    source: ClipSource, config: PreprocessConfig = PreprocessConfig()
) -> dict:
    """Everything stored in one clip's .npz (see the module docstring)."""
    from talkface.features.audio import log_mel, mfcc_from_log_mel

    frames, fps = read_video(source.video)
    boxes, raw_landmarks = track_faces(frames, config.redetect_every)
    landmarks, found = fill_missing(raw_landmarks)
    wav = load_audio(source.video, SAMPLE_RATE)
    mel = log_mel(wav)
    words, times = (
        read_grid_alignment(source.alignment)
        if source.alignment
        else ([], np.zeros((0, 2)))
    )
    data = {
        "boxes": boxes,
        "landmarks": landmarks,
        "face_found": found,
        "pose": head_pose(landmarks, frames.shape[1:3]),
        "ear": eye_aspect_ratio(landmarks).astype(np.float32),
        "fps": np.float64(fps),
        "wav": wav,
        "mfcc": mfcc_from_log_mel(mel).numpy(),
        "log_mel": mel.numpy(),
        "words": np.array(words, dtype=str),
        "word_times": times,
    }
    if found.any():
        for height, width in config.crop_sizes:
            crops = [
                crop_face(f, lm, width, height) for f, lm in zip(frames, landmarks)
            ]
            data[crop_key((height, width))] = np.stack([c.image for c in crops])
            data[crop_key((height, width), "crop_landmarks")] = np.stack(
                [c.landmarks for c in crops]
            )
    return data


def clip_output_path(out_dir: Path, source: ClipSource) -> Path:
    return Path(out_dir) / source.speaker / f"{source.name}.npz"


def _process(args: tuple[ClipSource, Path, PreprocessConfig]) -> str:
    source, out_dir, config = args
    target = clip_output_path(out_dir, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = extract_clip(source, config)
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
    config: PreprocessConfig = PreprocessConfig(),
) -> list[ClipSource]:
    """Extract every clip of `raw_dir` into `out_dir`, skipping clips already done.

    `shard=(i, n)` processes only every n-th clip starting at i, for cluster job arrays.
    Returns the clips of this shard.
    """
    from tqdm import tqdm

    if layout not in LAYOUTS:
        raise TalkfaceError(f"unknown layout {layout!r}; choose from {sorted(LAYOUTS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = LAYOUTS[layout](raw_dir)[shard[0] :: shard[1]]
    if not clips:
        raise TalkfaceError(f"no clips found in {raw_dir} for the {layout!r} layout")
    _check_settings(out_dir, layout, config)
    todo = [c for c in clips if not clip_output_path(out_dir, c).exists()]
    _write_manifest(out_dir, layout, clips, config, shard)
    bar = tqdm(total=len(todo), desc="preprocess", unit="clip", disable=not progress)
    tasks = [(c, out_dir, config) for c in todo]
    if jobs > 1:
        with Pool(jobs) as pool:
            for _ in pool.imap_unordered(_process, tasks):
                bar.update()
    else:
        for task in tasks:
            _process(task)
            bar.update()
    bar.close()
    return clips


def _settings(layout: str, config: PreprocessConfig) -> dict:
    return {
        "format": FORMAT_VERSION,
        "layout": layout,
        "sample_rate": SAMPLE_RATE,
        **json.loads(json.dumps(asdict(config))),
    }


def _manifest_path(out_dir: Path, shard: tuple[int, int]) -> Path:
    # one manifest per shard, so a job array never races on one file
    suffix = "" if shard == (0, 1) else f".{shard[0]}of{shard[1]}"
    return out_dir / f"manifest{suffix}.json"


def _check_settings(out_dir: Path, layout: str, config: PreprocessConfig) -> None:
    for path in out_dir.glob("manifest*.json"):
        old = json.loads(path.read_text()).get("settings")
        if old != _settings(layout, config):
            raise TalkfaceError(
                f"{out_dir} holds clips made with other settings ({path.name}: {old}); "
                "use a new output folder"
            )


def _write_manifest(
    out_dir: Path,
    layout: str,
    clips: list[ClipSource],
    config: PreprocessConfig,
    shard: tuple[int, int],
) -> None:
    import av
    import cv2
    import dlib

    from talkface import __version__

    manifest = {
        "talkface": __version__,
        "settings": _settings(layout, config),
        "landmarks": "dlib shape_predictor_68_face_landmarks, HOG detector upsample 0",
        "versions": {
            "dlib": dlib.__version__,
            "av": av.__version__,
            "opencv": cv2.__version__,
            "numpy": np.__version__,
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
    (out_dir / _manifest_path(out_dir, shard).name).write_text(
        json.dumps(manifest, indent=1)
    )


def read_manifest(out_dir: str | Path) -> dict:
    """The cache's manifest, with the clips of every shard's manifest merged."""
    paths = sorted(Path(out_dir).glob("manifest*.json"))
    if not paths:
        raise TalkfaceError(
            f"{out_dir} has no manifest: run `talkface preprocess` first"
        )
    manifests = [json.loads(p.read_text()) for p in paths]
    merged = dict(manifests[0])
    merged["clips"] = [c for m in manifests for c in m["clips"]]
    return merged


def load_clip(path: str | Path, keys: tuple[str, ...] | None = None) -> dict:
    """A clip's arrays (only `keys` if given; each array is decompressed on demand)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in (keys or z.files)}
