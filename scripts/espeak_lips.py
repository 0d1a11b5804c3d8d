"""Do the lips open for open vowels, close for p/b/m, rest in silence and keep time with speech?

    python scripts/espeak_lips.py --model atnet-grid sinha-grid dirfa-grid

Seven sentences in three espeak-ng voices through each model's motion step on the bundled
sample face (talkface/eval/articulation.py); p/b/m and open-vowel openings pooled over the
sentences, with the range of the per-sentence ratios beside them.
"""

import argparse

import talkface
from talkface.eval.articulation import VOICES, articulation

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--model", nargs="+", default=["atnet-grid"])
args = parser.parse_args()

print(
    "| model | voice | p/b/m | open vowels | ratio | ratio per sentence "
    "| max in silence | lag (frames) |"
)
print("|---|---|---|---|---|---|---|---|")
for name in args.model:
    pipe = talkface.load_pipeline(name)
    face = pipe.prepare_face(talkface.sample_paths()[0])
    for voice in VOICES:
        m = articulation(pipe, face, voice)
        low, high = m["sentence_ratios"]
        print(
            f"| {name} | {voice} | {m['bilabial']:.2f} | {m['vowel']:.2f} | {m['ratio']:.2f} "
            f"| {low:.2f} - {high:.2f} | {m['silence']:.2f} | {m['lag']} |"
        )
