"""All audio <-> feature <-> video timing math lives here, and only here.

A video frame i covers [i / fps, (i + 1) / fps) seconds; its audio context is centred on the
middle of that interval. Audio features come at FEATURE_RATE frames per second.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000  # Hz, the rate every model sees
HOP_LENGTH = 160  # samples between feature frames: 10 ms
WIN_LENGTH = 400  # samples per STFT window: 25 ms
FEATURE_RATE = SAMPLE_RATE // HOP_LENGTH  # 100 feature frames per second
CONTEXT_FRAMES = (
    28  # feature frames per video frame window: 280 ms (ATVGnet, paper 004 sec. 4)
)


def n_video_frames(n_samples: int, fps: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Number of video frames for `n_samples` of audio: round(duration x fps), halves up, >= 1."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return max(1, int(np.floor(n_samples / sample_rate * fps + 0.5)))


def n_feature_frames(n_samples: int) -> int:
    """Feature frames the STFT yields for `n_samples` (centred frames, one per hop)."""
    return n_samples // HOP_LENGTH + 1


def frame_centres(n_frames: int, fps: float) -> np.ndarray:
    """(n_frames,) float64 centre times in seconds of video frames 0..n_frames-1."""
    return (np.arange(n_frames) + 0.5) / fps


def feature_windows(
    features: np.ndarray, n_frames: int, fps: float, context: int = CONTEXT_FRAMES
) -> np.ndarray:
    """Cut a feature window of `context` frames centred on each video frame.

    Args:
        features: (T_feat, D) features at FEATURE_RATE.
        n_frames: number of video frames.
        fps: video frame rate.
        context: window length in feature frames.
    Returns:
        (n_frames, context, D) windows; frames past either end repeat the edge frame, which
        continues the silence that surrounds speech.
    """
    centre = np.round(frame_centres(n_frames, fps) * FEATURE_RATE).astype(np.int64)
    offsets = np.arange(context) - context // 2
    index = np.clip(centre[:, None] + offsets[None, :], 0, len(features) - 1)
    return features[index]


def audio_windows(
    wav: np.ndarray,
    n_frames: int,
    fps: float,
    window: int,
    first: int = 0,
    rate: float = 1.0,
) -> np.ndarray:
    """(n_frames - first, window) raw-audio windows centred on video frames first..n_frames-1
    (Vougioukas et al.: hop = SAMPLE_RATE / fps); samples before the start or past the end are
    silence (zeros). The work is that of the windows asked for, so a stream can ask for its
    newest frames' windows as the audio grows.

    `rate` != 1 plays each window `rate` times as fast about its centre (interpolated): pitch,
    formants and speaking rate scale by `rate` while every window stays centred on its frame,
    a voice augmentation that keeps the audio in sync."""
    centres = frame_centres(n_frames, fps)[first:] * SAMPLE_RATE
    if rate != 1.0:
        offsets = rate * (np.arange(window) - window // 2)
        return np.interp(
            np.round(centres)[:, None] + offsets, np.arange(len(wav)), wav, 0.0, 0.0
        ).astype(wav.dtype)
    start = np.round(centres).astype(np.int64)
    start -= window // 2
    if not len(start):
        return np.zeros((0, window), wav.dtype)
    lo, hi = start[0], start[-1] + window  # the samples these windows span
    span = np.zeros(hi - lo, wav.dtype)
    heard = slice(max(lo, 0), min(hi, len(wav)))
    if heard.stop > heard.start:
        span[heard.start - lo : heard.stop - lo] = wav[heard]
    return span[(start - lo)[:, None] + np.arange(window)]


def frame_to_feature_index(frame: np.ndarray | int, fps: float) -> np.ndarray:
    """Feature frame nearest to the centre of video frame(s) `frame`."""
    return np.round((np.asarray(frame) + 0.5) / fps * FEATURE_RATE).astype(np.int64)


def seconds_to_frame(seconds: np.ndarray | float, fps: float) -> np.ndarray:
    """Index of the video frame containing time `seconds`."""
    return np.floor(np.asarray(seconds) * fps + 1e-9).astype(np.int64)


SYNC_FPS = 25.0  # the sync expert's video rate (joonson's windows assume it)
SYNC_WINDOW = 5  # video frames per sync window: 0.2 s


def sync_windows(n_frames: int, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Start indices of joonson's sync windows at SYNC_FPS.

    Window i pairs video frames i..i+4 with feature frames 4i..4i+19 (both 0.2 s). As in
    joonson's SyncNetInstance, there are min(#frames, #samples // 640) - 5 windows.
    Returns (video starts, feature starts), each (n_windows,).
    """
    per_frame = int(FEATURE_RATE / SYNC_FPS)  # 4 feature frames per video frame
    samples_per_frame = int(SAMPLE_RATE / SYNC_FPS)
    count = max(0, min(n_frames, n_samples // samples_per_frame) - SYNC_WINDOW)
    starts = np.arange(count)
    return starts, starts * per_frame


def shift_audio(wav: np.ndarray, lead_frames: int, fps: float = SYNC_FPS) -> np.ndarray:
    """Make the audio lead the video by `lead_frames` (negative: lag), keeping its length.

    The sound that was at time t plays at t - lead / fps; the gap is filled with silence.
    """
    shift = int(round(lead_frames * SAMPLE_RATE / fps))
    out = np.zeros_like(wav)
    if shift >= 0:
        out[: len(wav) - shift] = wav[shift:]
    else:
        out[-shift:] = wav[: len(wav) + shift]
    return out
