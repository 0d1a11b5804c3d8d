"""Make the bundled samples in talkface/assets/ (run once; the outputs are committed).

- sample_face.jpg: scikit-image's `astronaut` (NASA portrait of Eileen Collins, public domain).
- sample_speech.wav: a sentence spoken by espeak-ng (voice en-us), via talkface.data.tts.

    pip install scikit-image espeakng-loader && python scripts/make_samples.py
"""

import wave
from pathlib import Path

import numpy as np
from PIL import Image

from talkface.data.tts import synthesize

ASSETS = Path(__file__).resolve().parents[1] / "talkface" / "assets"
TEXT = "Hello! I am a talking face, made from one photo and one voice recording."

import skimage.data  # noqa: E402

Image.fromarray(skimage.data.astronaut()).save(ASSETS / "sample_face.jpg", quality=92)
speech = synthesize(TEXT, voice="en-us", words_per_minute=150)
with wave.open(str(ASSETS / "sample_speech.wav"), "wb") as f:
    f.setnchannels(1)
    f.setsampwidth(2)
    f.setframerate(speech.sample_rate)
    f.writeframes((np.clip(speech.wav, -1, 1) * 32767).astype("<i2").tobytes())
print(
    f"wrote {ASSETS}/sample_face.jpg and sample_speech.wav ({len(speech.wav) / speech.sample_rate:.1f} s)"
)
