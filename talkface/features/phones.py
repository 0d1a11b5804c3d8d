"""Phone identity per feature frame, from pocketsphinx's packaged en-us acoustic model.

Sinha et al. feed DeepSpeech's character logits: a recogniser trained on many voices hears the
sound and not the speaker. Those weights cannot be had; pocketsphinx ships an acoustic model
trained on many American voices, and its free phone decoding (allphone search with the phone
language model) gives a phone for every 10 ms frame. It gets about half the phones wrong, but
mostly for neighbours (b for p, m for n), which a mouth mostly shares.

phone_frames(wav, n_frames) -> (n_frames, len(PHONES)) one-hot rows at FEATURE_RATE, aligned
with audio.log_mel's frames.
"""

from __future__ import annotations

import functools
import os
import threading

import numpy as np

from talkface.features.align import HOP_LENGTH, SAMPLE_RATE

# CMU dictionary phones; "SIL" also stands for pocketsphinx's noise and filler phones
PHONES = (
    "SIL AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T "
    "TH UH UW V W Y Z ZH"
).split()
_INDEX = {p: i for i, p in enumerate(PHONES)}

# pocketsphinx frames start every 10 ms with a 25.6 ms window, so frame i is centred 12.8 ms
# after log_mel's frame i (centred windows): one frame later, to the nearest frame
_SPHINX_LAG = 1
_DECODING = threading.Lock()  # one decoder per process; the web app calls from threads


def _import_pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportError(
            "phone features need pocketsphinx: pip install pocketsphinx"
        ) from err
    return pocketsphinx


@functools.cache
def _decoder():
    ps = _import_pocketsphinx()
    model = ps.get_model_path()
    return ps.Decoder(
        hmm=os.path.join(model, "en-us", "en-us"),
        allphone=os.path.join(model, "en-us", "en-us-phone.lm.bin"),
        lm=None,
        lw=2.0,
        beam=1e-20,
        pbeam=1e-20,
        samprate=SAMPLE_RATE,
        loglevel="FATAL",
    )


def phone_segments(wav: np.ndarray) -> list[tuple[str, int, int]]:
    """(phone, first frame, last frame) of a mono SAMPLE_RATE waveform, pocketsphinx frames."""
    assert HOP_LENGTH * 100 == SAMPLE_RATE, "pocketsphinx decodes 100 frames a second"
    pcm = (np.clip(np.asarray(wav, np.float32), -1, 1) * 32767).astype(np.int16)
    with _DECODING:
        decoder = _decoder()
        decoder.reinit_feat()  # forget the last recording's noise and cepstral means
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()
        return [(s.word, s.start_frame, s.end_frame) for s in decoder.seg()]


def phone_frames(wav: np.ndarray, n_frames: int) -> np.ndarray:
    """(n_frames, len(PHONES)) float32 one-hot phone of each feature frame (silence where the
    decoder gives nothing)."""
    labels = np.zeros(n_frames, np.int64)
    for phone, start, end in phone_segments(wav):
        start, end = start + _SPHINX_LAG, end + _SPHINX_LAG + 1
        labels[max(start, 0) : max(min(end, n_frames), 0)] = _INDEX.get(phone, 0)
    return np.eye(len(PHONES), dtype=np.float32)[labels]
