"""The GRID evaluation protocol: the current default `generate` on s1 `test` and the unseen
`val` speakers s26 and s31, side by side with the baselines, measured by one code path.

For every clip its first frame is the photo and its own audio the speech (the clip's fps and
size, and a seed from the clip's name: reproducible, yet every clip gets its own blinks and
head motion, so a set's blink statistics sample the generator rather than one seed's 3 s). The generated video, the static photo (first frame repeated, real sound) and the
real video re-encoded by talkface's H.264 writer (the codec's noise floor) are each compared
with the real video by eval.runner.evaluate_pair; the real video's own measurements (landmarks,
CPBD, sync) are made once per clip and shared.

    talkface evaluate --protocol grid -o docs/eval/protocol.json --results docs/results.md
"""

from __future__ import annotations

import csv
import datetime
import tempfile
import zlib
from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.eval.runner import (
    BASELINES,
    evaluate_pair,
    fingerprint,
    load_sync_expert,
    measure_video,
    summarise,
)

GRID_SETS = {  # name: (speaker, split)
    "s1-test": ("s1", "test"),
    "s26-val": ("s26", "val"),
    "s31-val": ("s31", "val"),
}
PROTOCOL_BASELINES = ("static", "reencoded")
DEFAULT_CPBD_EVERY = (
    3  # CPBD costs ~0.1 s a frame; every 3rd frame estimates the clip mean
)


def grid_clips(grid_dir: str | Path, speaker: str, split: str) -> list[Path]:
    grid_dir = Path(grid_dir)
    with open(grid_dir / "splits.csv") as f:
        return [
            grid_dir / r["video"]
            for r in csv.DictReader(f)
            if r["speaker"] == speaker and r["split"] == split
        ]


def clip_seed(video: Path, offset: int = 0) -> int:
    """The generation seed of a clip: a checksum of its name (+ `offset`: another draw)."""
    return (zlib.crc32(video.stem.encode()) + offset) % 2**31


def generate_for_clip(
    pipeline,
    video: Path,
    photo: np.ndarray,
    fps: float,
    seed_offset: int = 0,
    **options,
):
    """(frames, audio) of the pipeline's video for one clip: its first frame + its audio,
    drawn with the clip's seed (moved by `seed_offset` to sample other draws of a set)."""
    from talkface.io.audio import load_audio
    from talkface.io.video import read_video

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "generated.mp4"
        pipeline(
            photo, str(video), fps=fps, seed=clip_seed(video, seed_offset), **options
        ).save(out)
        return read_video(out)[0], load_audio(out)


SYSTEMS = ("talkface", *PROTOCOL_BASELINES)


def evaluate_clip(
    pipeline, video: Path, expert=None, cpbd_every: int = DEFAULT_CPBD_EVERY, **options
) -> dict:
    """{system: metrics} of one clip for the pipeline and the baselines, or {"skipped": why}
    when the pipeline cannot animate it (e.g. a corrupt clip whose first frame has no face)."""
    from talkface.io.audio import load_audio
    from talkface.io.video import read_video

    real, fps = read_video(video)
    audio = load_audio(video)
    try:
        generated = generate_for_clip(pipeline, video, real[0], fps, **options)
    except TalkfaceError as e:
        return {"skipped": str(e)}
    reference = measure_video(real, audio, fps, expert, cpbd_every)
    candidates = {"talkface": generated}
    candidates.update({b: (BASELINES[b](real), audio) for b in PROTOCOL_BASELINES})
    return {
        system: {
            "clip": video.stem,
            **evaluate_pair(
                frames,
                real,
                fps,
                sound,
                audio,
                expert,
                reference_measures=reference,
                cpbd_every=cpbd_every,
            ),
        }
        for system, (frames, sound) in candidates.items()
    }


_WORKER = {}  # per worker process: the pipeline and the sync expert, loaded once


def _init_worker(
    model: str | None, renderer: str, options: dict, cpbd_every: int
) -> None:
    import torch

    import talkface

    torch.set_num_threads(1)  # one process per core
    _WORKER.update(
        pipeline=talkface.load_pipeline(model, renderer),
        expert=load_sync_expert(),
        options=options,
        cpbd_every=cpbd_every,
    )


def _evaluate_in_worker(video: Path) -> tuple[Path, dict]:
    w = _WORKER
    return video, evaluate_clip(
        w["pipeline"], video, w["expert"], w["cpbd_every"], **w["options"]
    )


def evaluate_set(
    videos: list[Path],
    model: str | None = None,
    cpbd_every: int = DEFAULT_CPBD_EVERY,
    jobs: int = 1,
    progress: bool = True,
    name: str = "",
    renderer: str = "warp",
    **options,
) -> dict:
    """{system: report} for the model ('talkface') with `renderer` and PROTOCOL_BASELINES on
    `videos`, clips spread over `jobs` processes."""
    from multiprocessing import Pool

    from tqdm import tqdm

    bar = tqdm(total=len(videos), desc=name, unit="clip", disable=not progress)
    results = {}
    init = (model, renderer, options, cpbd_every)
    if jobs > 1:
        # a model that cannot load must fail here: a Pool replaces workers whose
        # initializer raises, forever
        import talkface

        talkface.load_pipeline(model, renderer)
        with Pool(jobs, initializer=_init_worker, initargs=init) as pool:
            for video, result in pool.imap_unordered(_evaluate_in_worker, videos):
                results[video] = result
                bar.update()
    else:
        _init_worker(*init)
        for video in videos:
            results[video] = _evaluate_in_worker(video)[1]
            bar.update()
    bar.close()
    ordered = [results[v] for v in videos]  # the listed order, whatever finished first
    skipped = [
        {"clip": v.stem, "reason": r["skipped"]}
        for v, r in zip(videos, ordered)
        if "skipped" in r
    ]
    stamp = fingerprint(cpbd_every, sync=True)
    reports = {}
    for system in SYSTEMS:
        clips = [r[system] for r in ordered if "skipped" not in r]
        reports[system] = {
            "fingerprint": stamp,
            "clips": clips,
            "skipped": skipped,
            **summarise(clips),
        }
    return reports


def run_protocol(
    grid_dir: str | Path,
    model: str | None = None,
    sets: tuple[str, ...] = tuple(GRID_SETS),
    limit: int | None = None,
    cpbd_every: int = DEFAULT_CPBD_EVERY,
    jobs: int = 1,
    progress: bool = True,
    renderer: str = "warp",
    **options,
) -> dict:
    """The whole protocol: {"model", "renderer", "date", "sets": {set: {system: report}}}."""
    from talkface.registry import DEFAULT_MODEL

    if not (Path(grid_dir) / "splits.csv").exists():
        raise TalkfaceError(f"no GRID data at {grid_dir} (splits.csv missing)")
    unknown = set(sets) - set(GRID_SETS)
    if unknown:
        raise TalkfaceError(
            f"unknown sets {sorted(unknown)}; choose from {list(GRID_SETS)}"
        )
    results = {}
    for name in sets:
        videos = grid_clips(grid_dir, *GRID_SETS[name])[:limit]
        results[name] = evaluate_set(
            videos, model, cpbd_every, jobs, progress, name, renderer, **options
        )
    return {
        "model": model or DEFAULT_MODEL,
        "renderer": renderer,
        "options": options,
        "date": datetime.date.today().isoformat(),
        "sets": results,
    }


def results_markdown(protocol: dict) -> str:
    """The protocol's tables for docs/results.md: one per set, one row per system."""
    from talkface.eval.report import table_markdown

    lines = [
        f"Model `{protocol['model']}`, renderer `{protocol.get('renderer', 'warp')}`"
        + (f" with {protocol['options']}" if protocol["options"] else "")
        + f", run on {protocol['date']} by `talkface evaluate --protocol grid`."
        " LMD ratio = mouth LMD / the static photo's (lower is better; < 1 beats the"
        " still photo). Sync conf and offset error come from talkface's own sync expert,"
        " so they compare systems here, not with the papers' SyncNet numbers.",
    ]
    for name, systems in protocol["sets"].items():
        static = systems["static"]["mean"].get("lmd_mouth", np.nan)
        ratios = ", ".join(
            f"{s} {r['mean']['lmd_mouth'] / static:.3f}"
            for s, r in systems.items()
            if s != "static" and "lmd_mouth" in r["mean"]
        )
        skipped = systems["talkface"]["skipped"]
        lines += [
            f"### {name}"
            + (
                f" ({len(skipped)} clip(s) skipped: {skipped[0]['reason']})"
                if skipped
                else ""
            ),
            table_markdown(systems),
            f"LMD ratio vs static: {ratios}.",
        ]
    return "\n\n".join(lines)


def write_results(protocol: dict, results_md: str | Path) -> None:
    """Replace the protocol section of `results_md` with fresh tables (appended when the file
    has none)."""
    from talkface.eval.report import replace_section

    replace_section(results_md, "protocol", results_markdown(protocol), "GRID protocol")
