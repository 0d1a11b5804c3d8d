"""Read video frames and write H.264 + AAC mp4 files atomically (PyAV, bundled FFmpeg)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.io.files import atomic_output


def _import_av():
    try:
        import av
    except ImportError:
        raise TalkfaceError("PyAV is missing: pip install av") from None
    return av


def iter_video_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Yield the frames of a video file as (H, W, 3) uint8 RGB arrays."""
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise TalkfaceError(f"{path} has no video track")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as e:
        raise TalkfaceError(f"cannot read video {path}: {e}") from None


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames of a video as (T, H, W, 3) uint8 RGB, and its frame rate."""
    av = _import_av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25)
    frames = list(iter_video_frames(path))
    if not frames:
        raise TalkfaceError(f"video {path} has no frames")
    return np.stack(frames), fps


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | Callable[[], np.ndarray] | None = None,
    sample_rate: int = 16000,
    crf: int = 18,
) -> Path:
    """Encode frames (each (H, W, 3) uint8 RGB, even H and W) as H.264 yuv420p + AAC in mp4.

    `audio` is an (N,) float32 array or a function returning one, called after the last frame
    (for streams, whose sound is complete only then).

    The file is written to a temporary name beside `path` and renamed into place only when
    complete, so a crash or error never leaves a half-written video. `frames` may be a generator:
    frames are encoded as they arrive.
    """
    av = _import_av()
    path = check_output_path(path)
    with atomic_output(path, suffix=".mp4.part") as tmp_name:
        _encode(av, tmp_name, frames, fps, audio, sample_rate, crf)
    return path


def check_output_path(path: str | Path) -> Path:
    """Fail early, before any work, if an mp4 cannot be written at `path`."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise TalkfaceError(f"output must be an .mp4 file, got {path}")
    if path.is_dir():
        raise TalkfaceError(f"output {path} is a folder")
    directory = path.parent
    if not directory.is_dir():
        raise TalkfaceError(f"output folder does not exist: {directory}")
    if not os.access(directory, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise TalkfaceError(f"output is not writable: {path}")
    return path


def _encode(av, filename, frames, fps, audio, sample_rate, crf) -> None:
    # moov atom first: browsers can start playing before the whole file arrives
    with av.open(
        filename, mode="w", format="mp4", options={"movflags": "+faststart"}
    ) as container:
        video = container.add_stream("libx264", rate=_fps_fraction(fps))
        video.pix_fmt = "yuv420p"
        video.options = {"crf": str(crf), "preset": "veryfast"}
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=sample_rate)
            sound.layout = "mono"
        n = 0
        for frame in frames:
            if n == 0:
                h, w = frame.shape[:2]
                if h % 2 or w % 2:
                    raise ValueError(
                        f"frame size must be even for yuv420p, got {w}x{h}"
                    )
                video.width, video.height = w, h
            container.mux(
                video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24"))
            )
            n += 1
        if n == 0:
            raise ValueError("no frames to write")
        container.mux(video.encode())
        if sound is not None:
            _encode_audio(av, container, sound, audio, sample_rate)


def _encode_audio(av, container, stream, audio, sample_rate) -> None:
    audio = (
        audio() if callable(audio) else audio
    )  # a stream's sound is known at its end
    pcm = np.clip(np.asarray(audio, dtype=np.float32), -1, 1)
    block = 1024  # AAC frame size
    for start in range(0, len(pcm), block):
        chunk = pcm[start : start + block][None, :]
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def probe_video(path: str | Path) -> dict:
    """Facts about an mp4: frame count, fps, size, codecs and durations (seconds)."""
    av = _import_av()
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        n_frames = sum(1 for _ in container.decode(v))
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        info = {
            "frames": n_frames,
            "fps": float(v.average_rate),
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "video_codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "video_duration": n_frames / float(v.average_rate),
        }
        if container.streams.audio:
            a = container.streams.audio[0]
            if (
                a.duration is not None
            ):  # what players play: AAC priming and padding excluded
                seconds = float(a.duration * a.time_base)
            else:
                seconds = (
                    sum(f.samples for f in container.decode(a))
                    / a.codec_context.sample_rate
                )
            info.update(
                audio_codec=a.codec_context.name,
                sample_rate=a.codec_context.sample_rate,
                audio_duration=seconds,
            )
    return info
