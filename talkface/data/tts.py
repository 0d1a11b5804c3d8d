"""Synthetic speech with phoneme timings, from libespeak-ng (the `espeakng-loader` wheel).

Used for test audio and the bundled sample. The phoneme times come from libespeak-ng's phoneme
events (the `espeak-ng` command line prints no timing), through its C API via ctypes.
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass

import numpy as np

from talkface.errors import TalkfaceError

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS
_PHONEME_EVENTS = 1  # espeakINITIALIZE_PHONEME_EVENTS
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _PITCH, _RANGE = (
    1,
    3,
    4,
)  # espeakRATE (words per minute), espeakPITCH, espeakRANGE (0-100)


class _EventId(ctypes.Union):
    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Speech:
    """wav: (N,) float32 mono; phonemes: (name, start seconds) in order; word_starts: seconds."""

    wav: np.ndarray
    sample_rate: int
    phonemes: list[tuple[str, float]]
    word_starts: list[float]


@functools.cache
def _library() -> tuple[ctypes.CDLL, int]:
    try:
        import espeakng_loader
    except ImportError:
        raise TalkfaceError(
            "speech synthesis needs espeakng-loader: pip install espeakng-loader"
        ) from None
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_void_p,
    ]
    rate = lib.espeak_Initialize(
        _SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), _PHONEME_EVENTS
    )
    if rate <= 0:
        raise TalkfaceError("libespeak-ng failed to initialise")
    return lib, rate


def synthesize(
    text: str,
    voice: str = "en-us",
    words_per_minute: int = 150,
    pitch: int = 50,
    pitch_range: int = 50,
) -> Speech:
    """Speak `text` with an espeak-ng voice (e.g. "en-us", "en-gb-x-rp+f3"); pitch and its
    range are 0-100. Returns audio, phoneme onsets and word onsets."""
    lib, rate = _library()
    chunks: list[np.ndarray] = []
    phonemes: list[tuple[str, float]] = []
    words: list[float] = []

    def on_audio(wav, n, events) -> int:
        if n > 0:
            chunks.append(
                np.ctypeslib.as_array(wav, shape=(n,)).astype(np.float32) / 32768.0
            )
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_PHONEME:
                phonemes.append(
                    (
                        events[i].id.string.decode(errors="replace"),
                        events[i].sample / rate,
                    )
                )
            elif events[i].type == _EVENT_WORD:
                words.append(events[i].sample / rate)
            i += 1
        return 0

    callback = _CALLBACK(on_audio)  # keep a reference while synthesising
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise TalkfaceError(f"unknown espeak-ng voice {voice!r}")
    lib.espeak_SetParameter(_RATE, words_per_minute, 0)
    lib.espeak_SetParameter(_PITCH, pitch, 0)
    lib.espeak_SetParameter(_RANGE, pitch_range, 0)
    data = text.encode() + b"\0"
    lib.espeak_Synth(data, len(data), 0, 0, 0, 0, None, None)
    lib.espeak_Synchronize()
    wav = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return Speech(wav, rate, phonemes, words)
