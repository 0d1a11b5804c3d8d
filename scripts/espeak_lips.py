"""Does the motion model open the lips for open vowels and close them for p/b/m?

    python scripts/espeak_lips.py [--model talkface/assets/atnet_grid.pt or runs/.../best.pt]

Speaks a sentence with three espeak-ng voices, runs the AT-net (canonical output, before
motion scale and gating) and reports the inner-lip opening at phoneme onsets.
"""

import argparse

import numpy as np
import torch

from talkface.data.tts import synthesize
from talkface.face.landmarks import inner_lip_opening
from talkface.features.align import feature_windows, n_video_frames, seconds_to_frame
from talkface.features.audio import speech_features
from talkface.io.audio import resample
from talkface.pipelines.two_stage import TwoStagePipeline

BILABIALS = {"p", "b", "m"}
OPEN_VOWELS = {"a", "aI", "aU", "A:", "O:", "a#", "V", "E", "{"}
TEXT = "Please open the window and put the book on the table."


def median_at(opening: np.ndarray, phonemes: list, names: set) -> float:
    """Median opening one frame after the onsets of `names`: articulation leads the sound."""
    last = len(opening) - 1
    frames = [
        min(int(seconds_to_frame(t, 25)) + 1, last)
        for p, t in phonemes
        if p.strip("'") in names
    ]
    return float(np.median(opening[frames]))


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", default="atnet-grid")
args = parser.parse_args()
model = TwoStagePipeline.from_pretrained(args.model).motion_model

for voice in ["en-us", "en-gb-x-rp+f3", "en+m3"]:
    speech = synthesize(TEXT, voice=voice)
    wav = resample(speech.wav, speech.sample_rate)
    n = n_video_frames(len(wav), 25)
    mfcc, _ = speech_features(wav)
    with torch.no_grad():
        displacements, _ = model(
            torch.from_numpy(feature_windows(mfcc.numpy(), n, 25))[None],
            torch.zeros(1, model.config.n_components),
        )
    opening = inner_lip_opening(displacements[0].numpy())

    bilabial = median_at(opening, speech.phonemes, BILABIALS)
    vowel = median_at(opening, speech.phonemes, OPEN_VOWELS)
    print(
        f"{voice:16s} opening std {opening.std():.4f}  p/b/m {bilabial:.4f}  open vowels {vowel:.4f}"
    )
