"""Uploaded files, checked by what their bytes are, never by their name or declared type.

Uploads are saved under fixed names (IMAGE_FILE, AUDIO_FILE) in a folder the server made:
nothing a client sends ever becomes part of a path. Error messages never show that folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkface.errors import TalkfaceError
from talkface.features.align import SAMPLE_RATE
from talkface.io.audio import load_audio
from talkface.io.image import load_image

IMAGE_FILE = "image"
AUDIO_FILE = "audio"

# Pillow formats a phone or camera photo comes in (JPEG includes phones' multi-picture
# MPO files); the others Pillow knows (EPS through Ghostscript, PSD, ...) are no face photos
# and would only add decoders a stranger's bytes could reach
PHOTO_FORMATS = ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"]
# FFmpeg demuxers of speech recordings and of videos with sound (matroska: the webm of a
# browser's MediaRecorder). Playlist and concat demuxers (hls, concat) would open further
# files or URLs named inside the upload, so automatic probing must not reach them.
SPEECH_DEMUXERS = "wav,w64,mp3,ogg,flac,mov,matroska,aac,aiff,caf,avi"


class UnsupportedMedia(TalkfaceError):
    """An upload that is not the kind of file asked for (HTTP 415)."""


def read_photo(path: Path) -> np.ndarray:
    """The uploaded photo as (H, W, 3) uint8 RGB.

    Raises UnsupportedMedia when the bytes are not an image of PHOTO_FORMATS, TalkfaceError
    when they are one that cannot be used (truncated, too small, too large).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path, formats=PHOTO_FORMATS):
            pass
    except UnidentifiedImageError:
        raise UnsupportedMedia(
            "the photo is not an image file (JPEG, PNG, WebP, BMP, GIF or TIFF)"
        ) from None
    return _without_path(lambda: load_image(path), path, "the photo")


def read_speech(path: Path, max_seconds: float) -> np.ndarray:
    """The uploaded recording as (N,) float32 mono in [-1, 1] at SAMPLE_RATE Hz.

    Decoding stops as soon as the sound runs past `max_seconds` (the container's own
    duration is not trusted: a browser's webm recording has none). Raises UnsupportedMedia
    when FFmpeg finds no sound track in the bytes, TalkfaceError when the sound is too long,
    empty or damaged.
    """
    import av

    chunks: list[np.ndarray] = []
    n_samples = 0
    try:
        with av.open(
            str(path),
            options={"format_whitelist": SPEECH_DEMUXERS, "protocol_whitelist": "file"},
        ) as container:
            if not container.streams.audio:
                raise UnsupportedMedia("the audio file has no sound track")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    n_samples += out.samples
                if n_samples > max_seconds * SAMPLE_RATE:
                    raise TalkfaceError(
                        f"the recording is longer than the limit of {max_seconds:g} s"
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError:
        if not chunks:
            raise UnsupportedMedia(
                "the audio is not a sound file (wav, mp3, m4a, ogg, flac, webm, "
                "or a video with sound)"
            ) from None
        raise TalkfaceError("the audio file is damaged: it stops mid-stream") from None
    wav = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if len(wav) > max_seconds * SAMPLE_RATE:
        raise TalkfaceError(
            f"the recording is longer than the limit of {max_seconds:g} s"
        )
    # the same checks and range as a file given to the CLI
    return _without_path(
        lambda: np.clip(load_audio(wav, SAMPLE_RATE), -1.0, 1.0), path, "the audio"
    )


def _without_path(read, path: Path, name: str):
    """read(), with the server's folder in a TalkfaceError's message replaced by `name`."""
    try:
        return read()
    except UnsupportedMedia:
        raise
    except TalkfaceError as e:
        raise TalkfaceError(str(e).replace(str(path), name)) from None
