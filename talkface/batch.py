"""Many videos in one run: a CSV of jobs (image, audio, output per row), one loaded pipeline.

    image,audio,output,seed
    alice.jpg,hello.wav,out/alice.mp4,1
    bob.png,speech.m4a,out/bob.mp4,

Relative paths are relative to the CSV's folder. Optional columns name GenerateOptions fields
(seed, fps, face, blink_rate, head_motion, crop_size, motion_scale) and override the run's
options for their row; empty cells keep them. Outputs that already exist are skipped (writes are
atomic, so an existing file is a finished one): a re-run after a failure or an interruption
does only what is left. A failing job never stops the others.
"""

from __future__ import annotations

import csv
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from talkface.errors import TalkfaceError
from talkface.pipelines.options import GenerateOptions

REQUIRED = ("image", "audio", "output")
OPTION_TYPES = {
    "seed": int,
    "fps": float,
    "face": int,
    "blink_rate": float,
    "head_motion": float,
    "crop_size": int,
    "motion_scale": float,
}
MAX_JOBS = 10_000


@dataclass(frozen=True)
class Job:
    image: Path
    audio: Path
    output: Path
    options: dict  # this row's GenerateOptions fields


@dataclass(frozen=True)
class JobResult:
    job: Job
    status: str  # "done", "skipped" (output existed) or "failed"
    reason: str = ""
    seconds: float = 0.0


def read_jobs(path: str | Path) -> list[Job]:
    """The jobs of a CSV file; a malformed file is one TalkfaceError naming the row."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
            columns = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise TalkfaceError(f"cannot read batch file {path}: {e}") from e
    missing = [c for c in REQUIRED if c not in columns]
    if not rows or missing:
        raise TalkfaceError(
            f"{path}: needs a header with {', '.join(REQUIRED)} and at least one row"
            + (f" (missing: {', '.join(missing)})" if rows else "")
        )
    unknown = sorted(set(columns) - set(REQUIRED) - set(OPTION_TYPES))
    if unknown:
        raise TalkfaceError(
            f"{path}: unknown column(s) {', '.join(unknown)}; "
            f"options are {', '.join(OPTION_TYPES)}"
        )
    if len(rows) > MAX_JOBS:
        raise TalkfaceError(f"{path}: more than {MAX_JOBS} jobs")
    jobs, outputs = [], set()
    for number, row in enumerate(rows, start=2):  # the header is line 1
        where = f"{path} line {number}"
        if any(not (row[c] or "").strip() for c in REQUIRED):
            raise TalkfaceError(f"{where}: image, audio and output must all be given")
        image, audio, output = (path.parent / row[c].strip() for c in REQUIRED)
        if output.suffix.lower() != ".mp4":
            raise TalkfaceError(f"{where}: output must be an .mp4 file, got {output}")
        if output.resolve() in outputs:
            raise TalkfaceError(
                f"{where}: output {output} is written by an earlier row"
            )
        outputs.add(output.resolve())
        options = {}
        for name, kind in OPTION_TYPES.items():
            value = (row.get(name) or "").strip()
            if value:
                try:
                    options[name] = kind(value)
                except ValueError:
                    raise TalkfaceError(
                        f"{where}: {name} must be a{'n integer' if kind is int else ' number'}, "
                        f"got {value!r}"
                    ) from None
        try:
            GenerateOptions(**options)
        except TalkfaceError as e:
            raise TalkfaceError(f"{where}: {e}") from None
        jobs.append(Job(image, audio, output, options))
    return jobs


def run_batch(
    jobs: list[Job],
    model: str | None = None,
    renderer: str = "warp",
    progress: bool = True,
    **options,
) -> list[JobResult]:
    """Make every job's video with one pipeline (jobs' own options over `options`); one
    progress bar for the whole batch."""
    from tqdm import tqdm

    import talkface
    from talkface.io.video import check_output_path

    GenerateOptions(**options)  # the shared options are checked once, before any work
    pipeline = talkface.load_pipeline(model, renderer)
    results = []
    bar = tqdm(jobs, desc="batch", unit="video", disable=not progress)
    for job in bar:
        bar.set_postfix_str(job.output.name)
        if job.output.exists():
            results.append(JobResult(job, "skipped"))
            continue
        start = time.time()
        try:
            check_output_path(job.output)
            chosen = dataclasses.replace(GenerateOptions(**options), **job.options)
            pipeline(str(job.image), str(job.audio), chosen).save(job.output)
        except Exception as e:  # one job's failure never stops the batch
            reason = (
                str(e) if isinstance(e, TalkfaceError) else f"{type(e).__name__}: {e}"
            )
            results.append(JobResult(job, "failed", reason, time.time() - start))
        else:
            results.append(JobResult(job, "done", seconds=time.time() - start))
    return results


def summary(results: list[JobResult]) -> str:
    """A readable account: counts, then each failure with its reason."""
    counts = {
        s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")
    }
    lines = [
        f"batch: {counts['done']} made, {counts['skipped']} already there, "
        f"{counts['failed']} failed"
    ]
    lines += [
        f"  failed {r.job.output}: {r.reason}" for r in results if r.status == "failed"
    ]
    return "\n".join(lines)
