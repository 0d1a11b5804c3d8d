"""Decode any audio file (or a video's audio track) to mono float32 at a chosen sample rate.

PyAV decodes and resamples in-process with its bundled FFmpeg; no ffmpeg binary is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.features.align import SAMPLE_RATE

MAX_AUDIO_SECONDS = (
    600.0  # 10 minutes: longer input is refused rather than exhausting memory
)


def load_audio(
    audio: str | Path | np.ndarray, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Read speech into a (N,) float32 mono waveform in [-1, 1] at `sample_rate` Hz.

    Any container/codec FFmpeg decodes works (wav, mp3, m4a, flac, ogg, or the audio of a video);
    all channels are averaged to mono. An array is taken as already mono at `sample_rate`.
    """
    if isinstance(audio, np.ndarray):
        wav = np.asarray(audio, dtype=np.float32)
        if wav.ndim != 1:
            raise TalkfaceError(f"audio array must be 1-D mono, got shape {wav.shape}")
    else:
        wav = _decode(Path(audio), sample_rate)
    if wav.size == 0:
        raise TalkfaceError(
            f"audio {audio if not isinstance(audio, np.ndarray) else ''} is empty"
        )
    if wav.size > MAX_AUDIO_SECONDS * sample_rate:
        raise TalkfaceError(
            f"audio is {wav.size / sample_rate:.0f} s long; the limit is {MAX_AUDIO_SECONDS:.0f} s"
        )
    return wav


def _decode(path: Path, sample_rate: int) -> np.ndarray:
    import av

    if not path.exists():
        raise TalkfaceError(f"audio not found: {path}")
    chunks = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise TalkfaceError(f"{path} has no audio track")
            stream = container.streams.audio[0]
            if (
                container.duration is not None
                and container.duration / 1e6 > MAX_AUDIO_SECONDS + 1
            ):
                raise TalkfaceError(
                    f"audio {path} is {container.duration / 1e6:.0f} s long; the limit is {MAX_AUDIO_SECONDS:.0f} s"
                )
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except TalkfaceError:
        raise
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as e:
        raise TalkfaceError(f"cannot read audio {path}: {e}") from None
    if not chunks:
        raise TalkfaceError(f"audio {path} is empty")
    return np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)


def resample(wav: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """(N,) float32 waveform at `rate` Hz -> float32 at `target` Hz (polyphase filter)."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(target, rate)
    return resample_poly(wav, target // g, rate // g).astype(np.float32)


def is_silent(wav: np.ndarray, threshold_db: float = -50.0) -> bool:
    """True when the loudest 20 ms of `wav` stays below `threshold_db` dBFS (RMS)."""
    return bool(frame_rms_db(wav, SAMPLE_RATE // 50).max(initial=-120.0) < threshold_db)


def frame_rms_db(wav: np.ndarray, frame_length: int) -> np.ndarray:
    """RMS level of consecutive non-overlapping frames of `frame_length` samples, in dBFS."""
    n = len(wav) // frame_length
    if n == 0:
        frames = wav[None, :]
    else:
        frames = wav[: n * frame_length].reshape(n, frame_length)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))
