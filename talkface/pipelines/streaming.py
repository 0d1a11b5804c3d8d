"""Streaming generation: audio arrives in chunks, frames leave as soon as their audio is heard.

    session = open_stream(talkface.load_pipeline(), "face.jpg", seed=0)
    for chunk in chunks:                 # (N,) float32 mono 16 kHz, any chunk size
        for frame in session.push(chunk):
            show(frame)                  # (H, W, 3) uint8
    for frame in session.finish():
        show(frame)

What differs from the whole-file pipeline, and why:
- A frame waits for audio past its centre: DEFAULT_LOOKAHEAD_MS (80 ms) of the motion window's
  140 ms, plus half an STFT window; the rest of the window repeats the last frame heard. That
  look-ahead, not compute, dominates the latency of a live microphone.
- MFCC/log-mel normalisation uses the statistics of the speech heard so far (the file pipeline
  uses the whole utterance's), and the silence gate the loudest level so far.
- The motion stage (motion.stage.MotionStage) is the file pipeline's, fed chunk by chunk: the
  AT-net's LSTM state and DIRFA's last tau windows and animations carry over, so their motion
  equals one pass over the same normalised features. Blinks and brows come from the blink
  generator in blocks of BLINK_BLOCK frames.
- The temporal GAN (TemporalGANStreamingSession) reads raw audio, not features: a frame waits
  for its 0.2 s window's end (100 ms past its centre) up to the look-ahead, the unheard rest is
  silence; its GRU states and noise carry over, so with the whole window heard its frames are
  the file pipeline's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import torch

from talkface.errors import TalkfaceError
from talkface.face.align import PasteBack, paste_mask
from talkface.face.prepare import PreparedFace
from talkface.features.align import (
    HOP_LENGTH,
    SAMPLE_RATE,
    audio_windows,
    frame_centres,
    n_video_frames,
)
from talkface.features.audio import N_FFT, feature_dims, log_mel, mfcc_from_log_mel
from talkface.io.audio import is_silent
from talkface.models.vougioukas import AUDIO_WINDOW
from talkface.pipelines.options import DEFAULT_LOOKAHEAD_MS, GenerateOptions
from talkface.pipelines.temporal_gan import TemporalGANPipeline
from talkface.pipelines.two_stage import TwoStagePipeline, speech_gate
from talkface.render.temporal_gan import GANStream, NoiseTrack

BLINK_BLOCK = 250  # frames of blinks generated at a time (10 s at 25 fps)
PASTE_GROW = 0.2  # the paste mask is fixed up front: grown enough for the jaw to open


class AudioStream(ABC):
    """What every streaming session shares: the audio heard so far, the frames emitted, and
    push() / finish(). A session says how many frames the audio so far completes
    (_ready_frames), keeps what it derives from the audio up to date (_heard) and makes the
    frames (_emit)."""

    face: PreparedFace
    options: GenerateOptions

    def __init__(self, options: GenerateOptions | None, overrides: dict):
        import dataclasses

        self.options = dataclasses.replace(options or GenerateOptions(), **overrides)
        self.wav = np.zeros(0, np.float32)
        self.done = 0  # frames emitted

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of every frame."""
        return self.face.photo.shape[:2]

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Add (N,) float32 mono 16 kHz samples; returns the frames they complete."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        self.wav = np.concatenate([self.wav, samples])
        self._heard(final=False)
        return self._emit(self._ready_frames())

    def finish(self) -> list[np.ndarray]:
        """The remaining frames, up to round(duration x fps), once the audio has ended."""
        if not len(self.wav):
            raise TalkfaceError("no audio arrived: nothing to animate")
        self._heard(final=True)
        return self._emit(n_video_frames(len(self.wav), self.options.fps))

    def _heard(self, final: bool) -> None:  # noqa: B027 (optional: a session may derive nothing)
        """Bring what the session derives from the audio up to date (`final`: it has ended)."""

    @abstractmethod
    def _ready_frames(self) -> int:
        """How many frames the audio so far completes."""

    @abstractmethod
    def _emit(self, upto: int) -> list[np.ndarray]:
        """Frames self.done..upto-1 (and self.done = upto)."""


class StreamingSession(AudioStream):
    """One face, one live audio stream: push() audio, get the frames it completes."""

    def __init__(
        self,
        pipeline: TwoStagePipeline,
        image,
        options: GenerateOptions | None = None,
        lookahead_ms: float | None = DEFAULT_LOOKAHEAD_MS,
        **overrides,
    ):
        """`lookahead_ms`: how much audio past a frame's centre it waits for; None = the
        model's whole window (AT-net: 140 ms). Less answers sooner; the window's missing end
        repeats the last feature frame heard, as the file pipeline does at the audio's end."""
        from talkface.render.neural import NeuralRenderer
        from talkface.render.warp import WarpRenderer

        if not isinstance(pipeline, TwoStagePipeline):
            raise TalkfaceError(
                "a landmark pipeline streams here; open_stream() takes any pipeline"
            )
        super().__init__(options, overrides)
        self.pipeline = pipeline
        self.face = pipeline.prepare_face(
            image, self.options.face, self.options.crop_size
        )
        self.kind = pipeline.motion_model.config.features
        if self.kind.endswith("+phones"):
            raise TalkfaceError(
                "this motion model reads phones decoded from the whole recording "
                "(pocketsphinx), which a live stream does not have yet; stream with "
                "--motion atvgnet"
            )
        self.context = pipeline.motion_model.config.context
        self.reach = (
            self.context // 2
        )  # feature frames a frame waits for past its centre
        if lookahead_ms is not None:
            wanted = int(np.ceil(lookahead_samples(lookahead_ms) / HOP_LENGTH))
            self.reach = min(self.reach, wanted)
        self.stage = pipeline.motion_stage(self.options, blink_block=BLINK_BLOCK)
        # 1. audio (AudioStream) and features so far
        self.features = np.zeros((0, feature_dims(self.kind)), np.float32)
        self.energy = np.zeros(0, np.float32)
        # 2. the renderer, built once (VG-net carries its own state from frame to frame)
        crop = self.face.crop
        self.renderer = (
            WarpRenderer(crop)
            if pipeline.renderer_model is None
            else NeuralRenderer(crop, pipeline.renderer_model)
        )
        mask = paste_mask(crop.landmarks, crop.size, grow=PASTE_GROW)
        self.paste = PasteBack(self.face.photo, crop.to_crop, mask)
        import scipy.signal  # noqa: F401  (blink detection's import: ~2 s once, not in push())

    # -- internals ---------------------------------------------------------------------------

    def _heard(self, final: bool) -> None:
        """Compute the feature frames whose STFT window is complete (all of them when final)."""
        have = len(self.features)
        # feature frame f is centred on sample f * HOP and needs N_FFT // 2 samples after it
        complete = len(self.wav) // HOP_LENGTH + 1
        if not final:
            complete = max(0, (len(self.wav) - N_FFT // 2) // HOP_LENGTH + 1)
        if complete <= have:
            return
        # recompute from 2 hops before: the first new frame's window then lies inside the
        # slice (the STFT reflects at slice edges, as the file pipeline does at the audio's)
        first = min(have, 2)
        start = (have - first) * HOP_LENGTH
        mel = log_mel(self.wav[start:])[first : first + complete - have]
        features = mfcc_from_log_mel(mel) if self.kind == "mfcc" else mel
        self.features = np.concatenate([self.features, features.numpy()])
        self.energy = np.concatenate([self.energy, torch.logsumexp(mel, dim=1).numpy()])

    def _ready_frames(self) -> int:
        """How many frames have their feature window, up to the look-ahead, computed."""
        fps = self.options.fps
        n = n_video_frames(len(self.wav), fps) + 1
        centres = np.round(frame_centres(n, fps) * (SAMPLE_RATE / HOP_LENGTH))
        reach = centres + self.reach
        return int(np.searchsorted(reach, len(self.features) - 1, side="right"))

    def _normalised(self) -> np.ndarray:
        """The features so far, normalised with the statistics of the speech so far."""
        active = self.energy > self.energy.max() - np.log(1e4)
        ref = self.features[active] if active.sum() > 10 else self.features
        return (self.features - ref.mean(0)) / (ref.std(0) + 1e-3)

    def _emit(self, upto: int) -> list[np.ndarray]:
        if upto <= self.done or not len(self.features):
            return []
        fps = self.options.fps
        frames = np.arange(self.done, upto)
        centres = np.round(frame_centres(upto, fps) * (SAMPLE_RATE / HOP_LENGTH))[
            frames
        ]
        offsets = np.arange(self.context) - self.context // 2
        index = np.clip(
            centres[:, None].astype(int) + offsets, 0, len(self.features) - 1
        )
        windows = torch.from_numpy(self._normalised()[index]).float()
        gate = speech_gate(self.energy, upto, fps)[frames] * (not is_silent(self.wav))
        motion = self.stage(windows, gate)
        targets = self.pipeline.target_landmarks(self.face, motion)
        self.done = upto
        return [self.paste(self.renderer(t)) for t in targets]


class TemporalGANStreamingSession(AudioStream):
    """One face, one live audio stream through the temporal GAN: push() audio, get the frames
    it completes (the same interface as StreamingSession)."""

    def __init__(
        self,
        pipeline: TemporalGANPipeline,
        image,
        options: GenerateOptions | None = None,
        lookahead_ms: float | None = DEFAULT_LOOKAHEAD_MS,
        **overrides,
    ):
        """`lookahead_ms`: how much audio past a frame's centre it waits for; None = the
        window's whole second half (100 ms); the unheard rest of the window is silence."""
        super().__init__(options, overrides)
        pipeline.check_options(self.options)
        self.pipeline = pipeline
        self.face = pipeline.prepare_face(
            image, self.options.face, self.options.crop_size
        )
        self.reach = AUDIO_WINDOW - AUDIO_WINDOW // 2  # samples past a frame's centre
        if lookahead_ms is not None:
            self.reach = min(self.reach, lookahead_samples(lookahead_ms))
        self.gan = GANStream(pipeline.model, pipeline.still(self.face))
        self.noise = NoiseTrack(pipeline.model, self.options.random_generator())
        self.paste = pipeline.paste(self.face)

    def _ready_frames(self) -> int:
        """How many frames have heard their window, up to the look-ahead."""
        fps = self.options.fps
        centres = np.round(
            frame_centres(n_video_frames(len(self.wav), fps) + 1, fps) * SAMPLE_RATE
        )
        return int(np.searchsorted(centres + self.reach, len(self.wav), side="right"))

    def _emit(self, upto: int) -> list[np.ndarray]:
        if upto <= self.done:
            return []
        fps = self.options.fps
        audio = audio_windows(self.wav, upto, fps, AUDIO_WINDOW, first=self.done)
        crops = self.gan(audio, self.noise.take(upto - self.done))
        self.done = upto
        return [self.paste(crop) for crop in crops]


def open_stream(
    pipeline: TwoStagePipeline | TemporalGANPipeline,
    image,
    options: GenerateOptions | None = None,
    lookahead_ms: float | None = DEFAULT_LOOKAHEAD_MS,
    **overrides,
) -> StreamingSession | TemporalGANStreamingSession:
    """The streaming session of any pipeline `talkface.load_pipeline` returns."""
    session = (
        TemporalGANStreamingSession
        if isinstance(pipeline, TemporalGANPipeline)
        else StreamingSession
    )
    return session(pipeline, image, options, lookahead_ms, **overrides)


def lookahead_samples(lookahead_ms: float) -> int:
    """Samples of audio a frame may wait for past its centre."""
    if lookahead_ms < 0:
        raise TalkfaceError(f"look-ahead must be >= 0 ms, got {lookahead_ms}")
    return int(np.ceil(lookahead_ms / 1000 * SAMPLE_RATE))


def stream_frames(session, chunks) -> Iterator[np.ndarray]:
    """Frames as the audio `chunks` ((N,) float32 arrays) arrive, then the rest at the end."""
    for chunk in chunks:
        yield from session.push(chunk)
    yield from session.finish()


def pcm_chunks(stream: BinaryIO, samples: int) -> Iterator[np.ndarray]:
    """Raw 16 kHz mono signed 16-bit little-endian PCM from a byte stream (e.g. stdin), in
    chunks of `samples` (the last may be shorter)."""
    while True:
        data = stream.read(2 * samples)
        if not data:
            return
        data = data[: len(data) // 2 * 2]
        yield np.frombuffer(data, "<i2").astype(np.float32) / 32768
