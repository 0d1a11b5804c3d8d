"""Streaming: features equal the whole-file ones, frames come as audio arrives, and the CLI
streams a file or raw PCM from stdin."""

import subprocess
import sys

import numpy as np
import pytest

import talkface
from talkface.data.preprocess import track_landmarks
from talkface.face.landmarks import inner_lip_opening
from talkface.features.align import n_video_frames
from talkface.features.audio import mfcc
from talkface.io.audio import load_audio
from talkface.io.video import probe_video, read_video
from talkface.pipelines.streaming import StreamingSession


@pytest.fixture(scope="module")
def speech():
    return load_audio(talkface.sample_paths()[1])


def test_streamed_features_equal_the_whole_file_features_and_frames_come_early(speech):
    session = StreamingSession(
        talkface.load_pipeline(), talkface.sample_paths()[0], seed=0, crop_size=128
    )
    frames, first = [], None
    for i in range(0, len(speech), 997):  # odd chunks: no alignment with hops or frames
        out = session.push(speech[i : i + 997])
        if out and first is None:
            first = i + 997
        frames += out
    frames += session.finish()
    np.testing.assert_allclose(session.features, mfcc(speech).numpy(), atol=1e-3)
    assert len(frames) == n_video_frames(len(speech), 25)
    assert frames[0].shape == session.frame_size + (3,)
    assert first <= 0.25 * 16000  # frame 0 needs ~0.2 s of audio, not the whole file
    with pytest.raises(talkface.errors.TalkfaceError, match="no audio"):
        StreamingSession(talkface.load_pipeline(), talkface.sample_paths()[0]).finish()

    with pytest.raises(talkface.errors.TalkfaceError, match="phones decoded"):
        StreamingSession(
            talkface.load_pipeline("sinha-grid"), talkface.sample_paths()[0]
        )


def run(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, args)], capture_output=True, **kw
    )


@pytest.mark.slow
def test_cli_streams_a_file_and_stdin_pcm_with_the_lips_of_the_file_pipeline(
    tmp_path, speech
):
    streamed, piped, whole = (tmp_path / f"{n}.mp4" for n in "spw")
    args = ["--seed", "0", "--crop-size", "128"]
    result = run("stream", "-o", streamed, "--chunk-ms", "40", *args)
    assert result.returncode == 0, result.stderr
    assert b"first frame" in result.stderr and b"real-time factor" in result.stderr
    pcm = (np.clip(speech, -1, 1) * 32767).astype("<i2").tobytes()
    result = run("stream", "--audio", "-", "-o", piped, *args, "-q", input=pcm)
    assert result.returncode == 0, result.stderr
    result = run("generate", "-o", whole, *args, "-q")
    assert result.returncode == 0, result.stderr
    n = n_video_frames(len(speech), 25)
    for path in (streamed, piped):
        info = probe_video(path)
        assert info["frames"] == n
        assert abs(info["audio_duration"] - len(speech) / 16000) < 0.05
    opening = [
        inner_lip_opening(track_landmarks(read_video(p)[0])) for p in (streamed, whole)
    ]
    assert np.corrcoef(*opening)[0, 1] > 0.9
    empty = run("stream", "--audio", "-", "-o", tmp_path / "e.mp4", input=b"")
    assert empty.returncode == 1 and b"no audio" in empty.stderr
    assert not (tmp_path / "e.mp4").exists()


def test_a_shorter_look_ahead_answers_sooner(speech):
    """The first frame waits for its window's audio up to the look-ahead, no longer."""
    pipe, photo = talkface.load_pipeline(), talkface.sample_paths()[0]
    firsts = {}
    for lookahead in (None, 80, 0):
        session = StreamingSession(pipe, photo, lookahead_ms=lookahead, crop_size=128)
        for i in range(0, len(speech), 320):  # 20 ms chunks
            if session.push(speech[i : i + 320]):
                firsts[lookahead] = (i + 320) / 16  # ms of audio heard
                break
    assert firsts == {None: 180, 80: 120, 0: 40}
    with pytest.raises(talkface.errors.TalkfaceError, match="look-ahead"):
        StreamingSession(pipe, photo, lookahead_ms=-5)
