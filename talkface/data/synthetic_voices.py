"""Synthetic twins of training clips: the same sentence in many espeak-ng voices, with the real
speaker's lip motion time-warped onto the synthetic audio.

GRID gives each clip's word timings. espeak-ng speaks the same words in a random voice, pitch
and speed and reports when each word starts. A piecewise-linear map between the two word
timelines (slope 1 through the silences around the sentence) carries every synthetic video frame
to a moment of the real clip, whose canonical landmark displacements it takes. The motion model
then hears many voices saying what one face does, which makes it less tied to the one voice it
was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkface.data.tts import synthesize
from talkface.features.align import SAMPLE_RATE, frame_centres, n_video_frames
from talkface.io.audio import resample

ACCENTS = ["en-us", "en", "en-gb-x-rp", "en-029", "en-gb-scotland", "en-us-nyc"]
VARIANTS = [
    "",
    "+f1",
    "+f2",
    "+f3",
    "+f4",
    "+f5",
    "+m1",
    "+m2",
    "+m3",
    "+m4",
    "+m5",
    "+m6",
    "+m7",
]
SILENT = ("sil", "sp")


def warp_times(tau: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Map times `tau` through anchors source[i] -> target[i]; slope 1 outside the anchors."""
    inside = np.interp(tau, source, target)
    before = target[0] - (source[0] - tau)
    after = target[-1] + (tau - source[-1])
    return np.where(tau < source[0], before, np.where(tau > source[-1], after, inside))


def synthetic_twin(
    words: list[str],
    word_times: np.ndarray,
    motion: np.ndarray,
    fps: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(wav (N,) at SAMPLE_RATE, motion (T', ...)) of the clip spoken by a random voice, its
    (T, ...) per-frame motion time-warped onto the new timeline, or None when espeak-ng's words
    cannot be matched with the clip's."""
    spoken = [(w, t) for w, t in zip(words, word_times) if w not in SILENT]
    if not spoken:
        return None
    voice = str(rng.choice(ACCENTS)) + str(rng.choice(VARIANTS))
    speech = synthesize(
        " ".join(w for w, _ in spoken),
        voice=voice,
        words_per_minute=int(rng.integers(130, 200)),
        pitch=int(rng.integers(15, 85)),
        pitch_range=int(rng.integers(20, 90)),
    )
    if len(speech.word_starts) != len(spoken) or not speech.phonemes:
        return None
    # a word starts at its first phoneme (word events come a little before it)
    onsets = np.array([p[1] for p in speech.phonemes if not p[0].startswith("_")])
    starts = np.array(
        [
            onsets[np.searchsorted(onsets, w - 1e-6)] if w <= onsets[-1] else w
            for w in speech.word_starts
        ]
    )
    pauses = [
        p[1] for p in speech.phonemes if p[0].startswith("_") and p[1] > starts[-1]
    ]
    end = pauses[0] if pauses else len(speech.wav) / speech.sample_rate
    lead, tail = rng.uniform(0.3, 0.9), rng.uniform(0.2, 0.6)
    wav = resample(speech.wav[: int(end * speech.sample_rate)], speech.sample_rate)
    noise = float(np.abs(wav).max()) * 10 ** (-rng.uniform(45, 65) / 20)
    wav = np.concatenate(
        [
            np.zeros(int(lead * SAMPLE_RATE), np.float32),
            wav,
            np.zeros(int(tail * SAMPLE_RATE), np.float32),
        ]
    )
    wav = wav + rng.normal(0, noise, len(wav)).astype(np.float32)

    source = np.append(starts, end) + lead  # synthetic timeline
    target = np.append([t[0] for _, t in spoken], spoken[-1][1][1])  # the real clip's
    if np.any(np.diff(source) <= 0) or np.any(np.diff(target) <= 0):
        return None
    n = n_video_frames(len(wav), fps)
    real_time = warp_times(frame_centres(n, fps), source, target)
    position = np.clip(real_time * fps - 0.5, 0, len(motion) - 1)  # fractional frame
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, len(motion) - 1)
    w = (position - lo).reshape(-1, *[1] * (motion.ndim - 1))
    return wav, ((1 - w) * motion[lo] + w * motion[hi]).astype(np.float32)


def synthetic_twins(
    clips: list[dict],
    motions: list[np.ndarray],
    per_clip: int,
    cache: Path,
    seed: int,
    progress: bool = True,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(index of the source clip, wav, motion) of `per_clip` twins of each clip (a cache dict
    with name, words, word_times, fps) and its (T, ...) motion; made once, then read from
    `cache` (.npz)."""
    from tqdm import tqdm

    if cache.exists():
        with np.load(cache) as z:
            stored = {k: z[k] for k in z.files}
    else:
        rng = np.random.default_rng(seed)
        stored = {}
        for clip, motion in tqdm(
            list(zip(clips, motions)),
            desc="synthetic voices",
            disable=not progress,
            leave=False,
        ):
            for k in range(per_clip):
                twin = synthetic_twin(
                    list(clip["words"]), clip["word_times"], motion, clip["fps"], rng
                )
                if twin is not None:
                    key = f"{clip['name']}~{k}"
                    stored[f"{key}~wav"], stored[f"{key}~motion"] = twin
        np.savez(cache, **stored)
    index = {clip["name"]: i for i, clip in enumerate(clips)}
    return [
        (index[key.split("~")[0]], stored[key], stored[key[:-4] + "~motion"])
        for key in stored
        if key.endswith("~wav") and key.split("~")[0] in index
    ]
