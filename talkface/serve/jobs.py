"""Generation jobs: a bounded FIFO queue in front of a fixed number of worker threads.

Each job owns a folder under the server's temporary root, named by its server-made id, with
fixed file names inside (inputs.IMAGE_FILE, AUDIO_FILE, RESULT_FILE). A job goes

    queued -> running -> done | failed | cancelled      (queued -> cancelled, too)

Its inputs are deleted when it leaves `running`, its result `result_ttl` seconds after it
finished (sweep()), and everything when the server stops (shutdown()).

Threads, not processes: the pipeline (torch) is loaded once per process and shared, and a
worker stops a job between two frames (Video.save's on_frame), which is as often as cancel
and timeout need. The work before the first frame (face, speech features, motion) is short
and bounded by the audio-length limit.
"""

from __future__ import annotations

import enum
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import talkface
from talkface.errors import TalkfaceError
from talkface.io.image import load_image
from talkface.pipelines.options import GenerateOptions
from talkface.serve.inputs import AUDIO_FILE, IMAGE_FILE
from talkface.serve.settings import ServeSettings

RESULT_FILE = "result.mp4"

log = logging.getLogger("talkface.serve")


class State(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (State.DONE, State.FAILED, State.CANCELLED)


class QueueFull(Exception):
    """Every worker is busy and the queue holds `queue_length` jobs (HTTP 429)."""


class _Stop(Exception):
    """Raised between frames to end a cancelled or timed-out job."""


@dataclass(frozen=True)
class JobRequest:
    """What to generate; the photo is read from the job's folder when the job runs."""

    speech: (
        np.ndarray
    )  # (N,) float32 mono at 16 kHz, already checked (inputs.read_speech)
    model: str  # a shipped model name
    renderer: str  # "warp" or a shipped renderer name
    options: GenerateOptions


@dataclass
class Job:
    id: str
    folder: Path
    request: JobRequest | None  # dropped when the job ends: its speech is megabytes
    number: int  # submission order: the queue is FIFO
    state: State = State.QUEUED
    frames_done: int = 0
    frames_total: int | None = None  # known once the motion is computed
    error: str | None = None
    deadline: float = float("inf")  # time.monotonic() by which a running job must end
    finished_at: float | None = None  # time.monotonic()
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None

    @property
    def result(self) -> Path:
        return self.folder / RESULT_FILE


@dataclass(frozen=True)
class JobStatus:
    """A consistent snapshot of a job, for the API."""

    id: str
    state: State
    frames_done: int
    frames_total: int | None
    queue_position: int | None  # 1 = next to run; None unless queued
    error: str | None

    @property
    def progress(self) -> float:
        """Frames rendered / total, 0..1 (1 only when done)."""
        if self.state is State.DONE:
            return 1.0
        if not self.frames_total:
            return 0.0
        # the last frame still has to be encoded and the file renamed: not yet 1
        return min(self.frames_done / self.frames_total, 0.99)


class JobQueue:
    """The job table of one server process (jobs are not shared between processes)."""

    def __init__(self, settings: ServeSettings, root: Path):
        self.settings = settings
        self.root = root
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._submitted = 0
        self._executor = ThreadPoolExecutor(
            max_workers=settings.max_jobs, thread_name_prefix="talkface-job"
        )

    # -- the API's operations -------------------------------------------------------------

    @contextmanager
    def new_folder(self) -> Iterator[tuple[str, Path]]:
        """A fresh job id and its empty folder, removed again unless the block submits it."""
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir()
        try:
            yield job_id, folder
        finally:
            if job_id not in self._jobs:
                shutil.rmtree(folder, ignore_errors=True)

    def check_capacity(self) -> None:
        """Raise QueueFull now rather than after a slow upload check, when it is full."""
        with self._lock:
            self._check_capacity()

    def submit(self, job_id: str, folder: Path, request: JobRequest) -> JobStatus:
        with self._lock:
            self._check_capacity()
            self._submitted += 1
            job = Job(job_id, folder, request, self._submitted)
            self._jobs[job_id] = job
            job.future = self._executor.submit(self._run, job)
            return self._status(job)

    def status(self, job_id: str) -> JobStatus:
        """KeyError for an unknown (or expired) id."""
        with self._lock:
            return self._status(self._jobs[job_id])

    def result(self, job_id: str) -> Path | None:
        """The finished video's path; None while the job is not done."""
        with self._lock:
            job = self._jobs[job_id]
            return job.result if job.state is State.DONE else None

    def cancel(self, job_id: str) -> JobStatus:
        """Cancel a queued or running job (its partial output is never shown). A finished job
        is deleted with its files instead. KeyError for an unknown id."""
        with self._lock:
            job = self._jobs[job_id]
            if job.state in FINISHED:
                del self._jobs[job_id]
                shutil.rmtree(job.folder, ignore_errors=True)
                return self._status(job)
            job.cancel_requested.set()
            # a queued job never starts; a running one stops at its next frame, and its
            # result, should it complete meanwhile, is deleted by the worker
            if job.future is not None:
                job.future.cancel()
            self._finish(job, State.CANCELLED, None)
            return self._status(job)

    def sweep(self) -> None:
        """Delete the jobs that finished more than `result_ttl` seconds ago."""
        expiry = time.monotonic() - self.settings.result_ttl
        with self._lock:
            expired = [
                job
                for job in self._jobs.values()
                if job.finished_at is not None and job.finished_at < expiry
            ]
            for job in expired:
                del self._jobs[job.id]
        for job in expired:
            shutil.rmtree(job.folder, ignore_errors=True)

    def shutdown(self) -> None:
        """Cancel every job, wait for the workers to stop, delete all files."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel_requested.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals ------------------------------------------------------------------------

    def _check_capacity(self) -> None:
        queued = sum(job.state is State.QUEUED for job in self._jobs.values())
        running = sum(job.state is State.RUNNING for job in self._jobs.values())
        # a job just submitted is "queued" until a free worker takes it
        if queued + running >= self.settings.max_jobs + self.settings.queue_length:
            raise QueueFull(
                f"the server is busy ({running} running, {queued} queued): "
                "try again in a minute"
            )

    def _status(self, job: Job) -> JobStatus:
        position = None
        if job.state is State.QUEUED:
            position = 1 + sum(
                other.state is State.QUEUED and other.number < job.number
                for other in self._jobs.values()
            )
        return JobStatus(
            job.id,
            job.state,
            job.frames_done,
            job.frames_total,
            position,
            job.error,
        )

    def _finish(self, job: Job, state: State, error: str | None) -> None:
        """Move a job to a final state (under the lock) and free its inputs."""
        job.state, job.error, job.finished_at = state, error, time.monotonic()
        job.request = None
        for name in (IMAGE_FILE, AUDIO_FILE):
            (job.folder / name).unlink(missing_ok=True)

    def _run(self, job: Job) -> None:
        with self._lock:
            if job.state is not State.QUEUED:  # cancelled while waiting
                return
            job.state = State.RUNNING
            job.deadline = time.monotonic() + self.settings.job_timeout
            request = job.request
        try:
            self._generate(job, request)
        except _Stop:
            error = None
            if not job.cancel_requested.is_set():
                error = f"timed out after {self.settings.job_timeout:g} s"
            self._end(job, State.FAILED if error else State.CANCELLED, error)
        except TalkfaceError as e:
            self._end(job, State.FAILED, str(e))
        except Exception:
            log.exception("job %s failed", job.id)
            self._end(job, State.FAILED, "internal error: see the server's log")
        else:
            self._end(job, State.DONE, None)

    def _generate(self, job: Job, request: JobRequest) -> None:
        photo = load_image(job.folder / IMAGE_FILE)
        # face, speech features and motion (about a second), then frames as they are encoded
        video = talkface.generate(
            photo,
            request.speech,
            model=request.model,
            renderer=request.renderer,
            **asdict(request.options),
        )
        job.frames_total = len(video)
        self._check(job)

        def on_frame(n: int) -> None:
            job.frames_done = n
            self._check(job)

        video.save(job.result, on_frame=on_frame)

    def _check(self, job: Job) -> None:
        if job.cancel_requested.is_set() or time.monotonic() > job.deadline:
            raise _Stop

    def _end(self, job: Job, state: State, error: str | None) -> None:
        with self._lock:
            if job.state is State.CANCELLED:
                # cancelled while the last frames were encoded: the video is never shown
                job.result.unlink(missing_ok=True)
                return
            self._finish(job, state, error)
