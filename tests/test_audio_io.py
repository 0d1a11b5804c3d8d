import wave

import numpy as np
import pytest

from talkface.errors import TalkfaceError
from talkface.io.audio import is_silent, load_audio


def _write_with_pyav(path, wav, rate, codec, channels=1, stream_rate=None):
    """Encode `wav` with any FFmpeg audio encoder, converting to the codec's sample format."""
    import av

    layout = "mono" if channels == 1 else "stereo"
    stream_rate = stream_rate or rate
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=stream_rate)
        stream.layout = layout
        resampler = av.AudioResampler(
            format=stream.codec_context.codec.audio_formats[0].name,
            layout=layout,
            rate=stream_rate,
        )
        interleaved = (
            np.repeat(wav[:, None], channels, 1).reshape(1, -1).astype(np.float32)
        )
        frame = av.AudioFrame.from_ndarray(interleaved, format="flt", layout=layout)
        frame.sample_rate = rate
        for converted in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.fixture(scope="module")
def tone():
    rate = 44100
    t = np.arange(int(1.5 * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * 440 * t) * (t > 0.5)).astype(np.float32), rate


@pytest.mark.parametrize(
    "suffix, codec, channels, stream_rate",
    [
        ("m4a", "aac", 2, None),
        ("mp3", "libmp3lame", 1, None),
        ("flac", "flac", 2, None),
        ("ogg", "libopus", 1, 48000),
        ("mkv", "aac", 1, 22050),
    ],
)
def test_formats_decode_to_mono_16k(
    tmp_path, tone, suffix, codec, channels, stream_rate
):
    wav, rate = tone
    path = tmp_path / f"tone.{suffix}"
    _write_with_pyav(path, wav, rate, codec, channels, stream_rate)
    out = load_audio(path)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(len(out) / 16000 - 1.5) < 0.08  # codec padding only
    # silent first half, tone in the second
    assert np.abs(out[:7000]).max() < 0.02
    assert 0.2 < np.abs(out[10000:20000]).max() < 0.6


def test_wav_any_rate_and_channels(tmp_path, tone):
    wav, rate = tone
    stereo = np.stack([wav, wav], 1)
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((stereo * 32767).astype("<i2").tobytes())
    out = load_audio(path)
    assert abs(len(out) - 24000) <= 2
    # resampling keeps the 440 Hz tone
    spectrum = np.abs(np.fft.rfft(out[12000:24000]))
    assert abs(np.argmax(spectrum) * 16000 / 12000 - 440) < 3


def test_audio_track_of_a_video(grid_dir):
    out = load_audio(
        grid_dir / "s31" / sorted(p.name for p in (grid_dir / "s31").glob("*.mp4"))[0]
    )
    assert abs(len(out) / 16000 - 3.0) < 0.1


def test_missing_unreadable_and_empty(tmp_path):
    with pytest.raises(TalkfaceError, match="not found"):
        load_audio(tmp_path / "nope.wav")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"this is not audio" * 100)
    with pytest.raises(TalkfaceError, match="garbage.mp3"):
        load_audio(garbage)
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
    with pytest.raises(TalkfaceError, match="empty"):
        load_audio(empty)


def test_video_without_audio_track(tmp_path):
    from talkface.io.video import write_video

    path = write_video(
        tmp_path / "silent.mp4", [np.zeros((64, 64, 3), np.uint8)] * 5, 25
    )
    with pytest.raises(TalkfaceError, match="no audio"):
        load_audio(path)


def test_silence_detection(tone):
    wav, _ = tone
    assert is_silent(np.zeros(16000, np.float32))
    assert is_silent(np.full(16000, 1e-4, np.float32))
    assert not is_silent(wav)


def test_too_long_audio_is_refused(tmp_path):
    from talkface.io import audio

    path = tmp_path / "long.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes(np.zeros(8000 * 30, "<i2").tobytes())
    limit = audio.MAX_AUDIO_SECONDS
    try:
        audio.MAX_AUDIO_SECONDS = 20.0
        with pytest.raises(TalkfaceError, match="limit is 20 s"):
            load_audio(path)
    finally:
        audio.MAX_AUDIO_SECONDS = limit
