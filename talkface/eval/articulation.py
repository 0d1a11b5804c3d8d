"""Articulation on synthetic speech with known phoneme times: do the lips open for open vowels,
close for p/b/m, rest in silence and keep time with the speech?

espeak-ng speaks a sentence (phoneme onsets known), padded with 0.6 s of silence on each side;
a pipeline's full motion step (motion scale and speech gate included) animates it. Measured on
the inner-lip opening (canonical units x100): the opening one frame after each p/b/m and each
open-vowel onset, the largest opening in the silences, and the lag (frames) at which the opening
best correlates with a phoneme-derived openness target (open vowels 1, other vowels 0.6, other
consonants 0.3, p/b/m and silence 0). One sentence holds only 4-6 bilabials, so its median
swings (ratios 0.2-1.0 for the same model and voice): pool the onsets of several sentences.
"""

from __future__ import annotations

import numpy as np

from talkface.data.tts import synthesize
from talkface.face.landmarks import inner_lip_opening
from talkface.features.align import SAMPLE_RATE, seconds_to_frame
from talkface.io.audio import resample
from talkface.pipelines.options import GenerateOptions

BILABIALS = {"p", "b", "m"}
OPEN_VOWELS = {"a", "aI", "aU", "A:", "O:", "a#", "V", "E", "{"}
VOWELS = OPEN_VOWELS | {
    "i:",
    "I",
    "u:",
    "U",
    "e",
    "eI",
    "oU",
    "@",
    "3:",
    "OI",
    "i",
    "@L",
}
SENTENCES = (
    "Please open the window and put the book on the table.",
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "A pot of tea helps to pass the evening.",
    "The box was thrown beside the parked truck.",
    "Bring me the map and a bottle of milk.",
    "My mother bought a palm tree at the market.",
)
PAD = 0.6  # seconds of silence before and after
VOICES = ("en-us", "en-gb-x-rp+f3", "en+m3")
MAX_LAG = 5
FPS = 25.0


def openings_at(opening: np.ndarray, phonemes: list, names: set) -> np.ndarray:
    """The opening one frame after each onset of `names`: articulation leads the sound."""
    last = len(opening) - 1
    frames = [
        min(int(seconds_to_frame(t, FPS)) + 1, last)
        for p, t in phonemes
        if p.strip("'") in names
    ]
    return opening[frames]


def openness_target(phonemes: list, n: int, end: float) -> np.ndarray:
    target = np.zeros(n)
    times = [t for _, t in phonemes] + [end]
    for (name, start), stop in zip(phonemes, times[1:]):
        name = name.strip("'")
        value = (
            1.0
            if name in OPEN_VOWELS
            else 0.6
            if name in VOWELS
            else 0.0
            if name in BILABIALS or name in ("_", "")
            else 0.3
        )
        a, b = int(seconds_to_frame(start, FPS)), int(seconds_to_frame(stop, FPS))
        target[a : max(b, a + 1)] = value
    return target


def best_lag(opening: np.ndarray, target: np.ndarray) -> int:
    """Frames by which the lips lead (negative) or trail (positive) the phoneme target."""
    scores = {
        lag: np.corrcoef(
            opening[max(lag, 0) : len(opening) + min(lag, 0)],
            target[max(-lag, 0) : len(target) + min(-lag, 0)],
        )[0, 1]
        for lag in range(-MAX_LAG, MAX_LAG + 1)
    }
    return max(scores, key=scores.get)


def measure_sentence(pipe, face, text: str, voice: str) -> dict:
    """One sentence through `pipe`'s motion step on the prepared `face`."""
    speech = synthesize(text, voice=voice)
    pad = np.zeros(int(PAD * SAMPLE_RATE), np.float32)
    wav = np.concatenate([pad, resample(speech.wav, speech.sample_rate), pad])
    phonemes = [(p, t + PAD) for p, t in speech.phonemes]
    motion = pipe.motion(wav, face, GenerateOptions(fps=FPS, seed=0))
    opening = inner_lip_opening(motion.displacements) * 100
    silent = int(PAD * FPS) - 3  # frames before the lips prepare the first word
    target = openness_target(phonemes, len(opening), len(wav) / SAMPLE_RATE)
    return {
        "bilabial": openings_at(opening, phonemes, BILABIALS),
        "vowel": openings_at(opening, phonemes, OPEN_VOWELS),
        "silence": max(np.abs(opening[:silent]).max(), np.abs(opening[-silent:]).max()),
        "lag": best_lag(opening, target),
    }


def articulation(pipe, face, voice: str, sentences=SENTENCES) -> dict:
    """Pooled over `sentences`: median openings at p/b/m and open vowels, their ratio (target
    <= 0.5), the range of the per-sentence ratios, the largest opening in silence and the median
    lag in frames (positive: the lips trail)."""
    runs = [measure_sentence(pipe, face, text, voice) for text in sentences]
    bilabial = float(np.median(np.concatenate([r["bilabial"] for r in runs])))
    vowel = float(np.median(np.concatenate([r["vowel"] for r in runs])))
    ratios = [np.median(r["bilabial"]) / np.median(r["vowel"]) for r in runs]
    return {
        "bilabial": bilabial,
        "vowel": vowel,
        "ratio": bilabial / vowel,
        "sentence_ratios": (float(min(ratios)), float(max(ratios))),
        "silence": float(max(r["silence"] for r in runs)),
        "lag": int(np.median([r["lag"] for r in runs])),
    }
