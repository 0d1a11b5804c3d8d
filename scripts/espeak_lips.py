"""Do the lips open for open vowels, close for p/b/m, rest in silence and keep time with speech?

    python scripts/espeak_lips.py --model atnet-grid sinha-grid dirfa-grid

Speaks a sentence with three espeak-ng voices (known phoneme times), padded with 0.6 s of
silence on each side, runs each model's full motion step (motion scale and speech gate
included, on the bundled sample face) and reports the inner-lip opening (canonical units x100):
median one frame after p/b/m onsets and after open-vowel onsets, the largest opening in the
silences, and the lag (frames) at which the opening best correlates with a phoneme-derived
openness target (open vowels 1, other vowels 0.6, other consonants 0.3, p/b/m and silence 0).
"""

import argparse

import numpy as np

import talkface
from talkface.data.tts import synthesize
from talkface.face.landmarks import inner_lip_opening
from talkface.features.align import seconds_to_frame
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
TEXT = "Please open the window and put the book on the table."
PAD = 0.6  # seconds of silence before and after
MAX_LAG = 5


def median_at(opening: np.ndarray, phonemes: list, names: set) -> float:
    """Median opening one frame after the onsets of `names`: articulation leads the sound."""
    last = len(opening) - 1
    frames = [
        min(int(seconds_to_frame(t, 25)) + 1, last)
        for p, t in phonemes
        if p.strip("'") in names
    ]
    return float(np.median(opening[frames]))


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
        a, b = int(seconds_to_frame(start, 25)), int(seconds_to_frame(stop, 25))
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


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", nargs="+", default=["atnet-grid"])
args = parser.parse_args()

print("| model | voice | p/b/m | open vowels | ratio | max in silence | lag (frames) |")
print("|---|---|---|---|---|---|---|")
for name in args.model:
    pipe = talkface.load_pipeline(name)
    face = pipe.prepare_face(talkface.sample_paths()[0])
    for voice in ["en-us", "en-gb-x-rp+f3", "en+m3"]:
        speech = synthesize(TEXT, voice=voice)
        pad = np.zeros(int(PAD * 16000), np.float32)
        wav = np.concatenate([pad, resample(speech.wav, speech.sample_rate), pad])
        phonemes = [(p, t + PAD) for p, t in speech.phonemes]
        motion = pipe.motion(wav, face, GenerateOptions(seed=0))
        opening = inner_lip_opening(motion.displacements) * 100
        silent = int(PAD * 25) - 3  # frames before the lips prepare the first word
        silence = max(np.abs(opening[:silent]).max(), np.abs(opening[-silent:]).max())
        target = openness_target(phonemes, len(opening), len(wav) / 16000)
        bilabial = median_at(opening, phonemes, BILABIALS)
        vowel = median_at(opening, phonemes, OPEN_VOWELS)
        print(
            f"| {name} | {voice} | {bilabial:.2f} | {vowel:.2f} | {bilabial / vowel:.2f} "
            f"| {silence:.2f} | {best_lag(opening, target)} |"
        )
