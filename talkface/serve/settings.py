"""The limits a deployment of the web app sets: every one has a default fit for a 2-core box."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

from talkface.errors import TalkfaceError


@dataclass(frozen=True)
class ServeSettings:
    """Limits of one server process (`talkface serve --help` lists them as flags)."""

    max_upload_mb: float = field(
        default=20.0,
        metadata={"help": "largest request body (photo + audio + form), MiB"},
    )
    max_audio_seconds: float = field(
        default=60.0, metadata={"help": "longest speech recording accepted, seconds"}
    )
    # one job already keeps both cores of a small machine busy (torch, OpenCV and x264
    # are multi-threaded); more running jobs would only share them
    max_jobs: int = field(default=1, metadata={"help": "jobs generating at once"})
    queue_length: int = field(
        default=8,
        metadata={"help": "jobs waiting beyond those; more are refused (429)"},
    )
    job_timeout: float = field(
        default=300.0, metadata={"help": "seconds a running job may take"}
    )
    result_ttl: float = field(
        default=3600.0,
        metadata={"help": "seconds a finished job and its video are kept"},
    )

    def __post_init__(self):
        for name in ("max_upload_mb", "max_audio_seconds", "job_timeout", "result_ttl"):
            if not getattr(self, name) > 0:
                raise TalkfaceError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.max_jobs < 1:
            raise TalkfaceError(f"max_jobs must be >= 1, got {self.max_jobs}")
        if self.queue_length < 0:
            raise TalkfaceError(f"queue_length must be >= 0, got {self.queue_length}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--host, --port and one flag per ServeSettings field (default and help from the field)."""
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="default: 8000")
    for spec in dataclasses.fields(ServeSettings):
        parser.add_argument(
            f"--{spec.name.replace('_', '-')}",
            type=type(spec.default),
            default=spec.default,
            help=f"{spec.metadata['help']} (default: {spec.default:g})",
        )


def from_arguments(args: argparse.Namespace) -> dict:
    """run()'s keyword arguments from parsed add_arguments flags."""
    names = ["host", "port", *(f.name for f in dataclasses.fields(ServeSettings))]
    return {name: getattr(args, name) for name in names}
