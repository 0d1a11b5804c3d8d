"""The real command on real media: bundled samples, GRID s31, espeak-ng speech, bad input."""

import subprocess
import sys
import wave

import numpy as np
import pytest
from PIL import Image

from talkface.data.preprocess import track_landmarks
from talkface.face.landmarks import eye_aspect_ratio, inner_lip_opening
from talkface.features.align import n_video_frames
from talkface.io.audio import load_audio
from talkface.io.video import probe_video, read_video


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "talkface", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def write_wav(path, wav, rate=16000):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes((np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def assert_video_contract(path, audio_seconds, fps, width, height):
    info = probe_video(path)
    assert info["frames"] == n_video_frames(int(round(audio_seconds * 16000)), fps)
    assert info["fps"] == pytest.approx(fps, rel=1e-3)
    assert (info["width"], info["height"]) == (width, height)
    assert info["video_codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac"
    assert abs(info["audio_duration"] - info["video_duration"]) <= 1 / fps
    return info


@pytest.fixture(scope="module")
def sample_video(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out.mp4"
    # a still head: what moves is then only what speech and blinks move (the sway has its
    # own test)
    result = run("generate", "-o", out, "--seed", "0", "--head-motion", "0")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr and "Traceback" not in result.stderr
    return out


def test_help_lists_subcommands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("generate", "preprocess", "train", "list-models"):
        assert command in result.stdout
    listing = run("list-models").stdout
    assert "atnet-grid (default)" in listing and "syncnet-grid (evaluation)" in listing
    refused = run("generate", "--model", "syncnet-grid", "-o", "never.mp4")
    assert refused.returncode == 1 and "not a speech -> motion model" in refused.stderr
    part = run("generate", "--model", "blink-grid", "-o", "never.mp4")
    assert part.returncode == 1 and "not a speech -> motion model" in part.stderr


def test_generate_on_bundled_samples(sample_video, samples):
    seconds = len(load_audio(samples[1])) / 16000
    assert_video_contract(sample_video, seconds, 25, 512, 512)
    assert not list(sample_video.parent.glob("*.part"))


def test_face_outside_mouth_and_eyes_stays_close_to_the_photo(sample_video, face_photo):
    frames, _ = read_video(sample_video)
    from talkface.face.detect import detect_faces
    from talkface.face.landmarks import detect_landmarks

    lm = detect_landmarks(face_photo, detect_faces(face_photo)[0])
    x0, x1 = int(lm[:, 0].min()), int(lm[:, 0].max())
    y0, nose = int(lm[19:25, 1].min()) - 30, int(lm[33, 1])
    upper_face = np.zeros(face_photo.shape[:2], bool)
    upper_face[y0:nose, x0:x1] = True
    # eyes blink and brows move: leave them out
    for part in (lm[36:42], lm[42:48], lm[17:22], lm[22:27]):
        ex0, ey0 = part.min(0).astype(int) - 8
        ex1, ey1 = part.max(0).astype(int) + 8
        upper_face[ey0:ey1, ex0:ex1] = False
    diff = np.abs(frames.astype(np.int16) - face_photo[None].astype(np.int16))[
        :, upper_face
    ]
    # the floor: the photo itself through the same H.264 encoder
    from talkface.io.video import write_video

    write_video(sample_video.parent / "photo.mp4", [face_photo] * 2, 25)
    floor = np.abs(
        read_video(sample_video.parent / "photo.mp4")[0][1].astype(np.int16)
        - face_photo
    )[upper_face]
    assert diff.mean() < floor.mean() + 1.0
    # and the picture far from the face is the photo itself (up to the codec)
    assert np.abs(frames[:, -60:].astype(int) - face_photo[-60:]).mean() < 3.0


def test_mouth_moves_with_speech_and_rests_in_silence(tmp_path, speech):
    import talkface
    from talkface.features.audio import SAMPLE_RATE

    wav = load_audio(write_wav(tmp_path / "s.wav", speech.wav, speech.sample_rate))
    padded = np.concatenate(
        [np.zeros(SAMPLE_RATE, np.float32), wav, np.zeros(SAMPLE_RATE, np.float32)]
    )
    video = talkface.generate(talkface.sample_paths()[0], padded, seed=1, blink_rate=0)
    frames = video.frames()
    opening = inner_lip_opening(track_landmarks(frames))
    rest = np.concatenate([opening[:20], opening[-20:]])
    speaking = opening[30:-30]
    # silent: lips still (dlib's fit wobbles a little as the brows move: < 0.5 px)
    assert rest.std() < 0.5
    assert speaking.max() - speaking.min() > 2.0  # pixels, on a face about 90 px wide
    assert speaking.mean() > rest.mean() + 1.0  # the mouth opens to speak
    # and the lip targets themselves do not move at all in the silence
    from talkface.face.landmarks import MOUTH
    from talkface.pipelines.options import GenerateOptions

    pipe = talkface.load_pipeline()
    face = pipe.prepare_face(talkface.sample_paths()[0])
    motion = pipe.motion(padded, face, GenerateOptions(seed=1, blink_rate=0))
    assert np.abs(motion.displacements[:20, MOUTH]).max() < 1e-3
    assert np.abs(motion.displacements[30:-30, MOUTH]).max() > 0.01


def test_grid_first_frame_and_its_audio(tmp_path, grid_dir):
    clip = sorted((grid_dir / "s31").glob("*.mp4"))[0]
    real, _ = read_video(clip)
    Image.fromarray(real[0]).save(tmp_path / "first.png")
    out = tmp_path / "grid.mp4"
    result = run(
        "generate", "--image", tmp_path / "first.png", "--audio", clip, "-o", out, "-q"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet
    assert_video_contract(out, len(load_audio(clip)) / 16000, 25, 360, 288)
    # lips follow the real speech and rest in the leading silence
    from talkface.data.preprocess import read_grid_alignment

    words, times = read_grid_alignment(
        grid_dir / "s31" / "align" / f"{clip.stem}.align"
    )
    onset = int(times[1][0] * 25)  # the first word after the leading "sil"
    generated = inner_lip_opening(track_landmarks(read_video(out)[0]))
    real = inner_lip_opening(track_landmarks(real))
    assert np.ptp(generated[: onset - 3]) <= 1.5  # dlib jitter only
    assert generated[onset:].std() > 3 * generated[: onset - 3].std()
    assert np.corrcoef(generated, real[: len(generated)])[0, 1] > 0.3


def test_fps_and_seed(tmp_path, samples):
    import talkface

    a = talkface.generate(samples[0], samples[1], fps=30, seed=5, crop_size=128)
    b = talkface.generate(samples[0], samples[1], fps=30, seed=5, crop_size=128)
    c = talkface.generate(samples[0], samples[1], fps=30, seed=6, crop_size=128)
    assert len(a) == n_video_frames(len(load_audio(samples[1])), 30)
    ear = lambda v: eye_aspect_ratio(track_landmarks(v.frames()))  # noqa: E731
    ear_a, ear_b, ear_c = ear(a), ear(b), ear(c)
    np.testing.assert_array_equal(ear_a, ear_b)
    assert not np.array_equal(ear_a, ear_c)  # blinks fall elsewhere


def test_silent_audio_gives_a_still_closed_mouth_that_blinks(tmp_path, samples):
    silent = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 6, np.float32))
    out = tmp_path / "still.mp4"
    result = run(
        "generate",
        "--audio",
        silent,
        "-o",
        out,
        "--seed",
        "2",
        "--blink-rate",
        "0.5",
        "-q",
    )
    assert result.returncode == 0, result.stderr
    landmarks = track_landmarks(read_video(out)[0])
    assert np.ptp(inner_lip_opening(landmarks)) < 1.5
    ear = eye_aspect_ratio(landmarks)
    assert ear.min() < 0.75 * np.median(ear)  # at least one blink


def _error(result, *needles):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("talkface: error:")
    for needle in needles:
        assert needle in errors[0]


def test_user_errors_are_one_line_and_leave_nothing(tmp_path, samples):
    out = tmp_path / "out.mp4"
    noface = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(noface)
    _error(run("generate", "--image", noface, "-o", out), "no face", "wall.png")
    notimage = tmp_path / "notes.jpg"
    notimage.write_text("hello")
    _error(run("generate", "--image", notimage, "-o", out), "notes.jpg")
    badaudio = tmp_path / "voice.m4a"
    badaudio.write_bytes(b"\x00" * 1000)
    _error(run("generate", "--audio", badaudio, "-o", out), "voice.m4a")
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    _error(run("generate", "--audio", empty, "-o", out), "empty")
    _error(run("generate", "--face", "3", "-o", out), "face 3", "1 face")
    _error(run("generate", "-o", tmp_path / "missing" / "out.mp4"), "does not exist")
    _error(run("generate", "-o", tmp_path / "out.avi"), ".mp4")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        if not __import__("os").access(
            readonly, __import__("os").W_OK
        ):  # root can write anyway
            _error(run("generate", "-o", readonly / "out.mp4"), "not writable")
    finally:
        readonly.chmod(0o700)
    assert not out.exists() and not list(tmp_path.rglob("*.part"))


def test_interrupted_write_leaves_no_file(tmp_path):
    from talkface.io.video import write_video

    def frames():
        yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        write_video(tmp_path / "x.mp4", frames(), 25, np.zeros(1600, np.float32))
    assert list(tmp_path.iterdir()) == []


def test_several_faces_largest_first_and_face_flag(tmp_path, face_photo):
    import cv2

    head = face_photo[20:230, 110:320]  # the astronaut's head, 210 px square
    group = np.full((480, 800, 3), 200, np.uint8)
    group[30:450, :420] = cv2.resize(head, (420, 420), interpolation=cv2.INTER_CUBIC)
    group[100:352, 500:752] = cv2.resize(
        head, (252, 252), interpolation=cv2.INTER_CUBIC
    )
    Image.fromarray(group).save(tmp_path / "group.png")
    from talkface.face.detect import detect_faces

    boxes = detect_faces(group)
    assert (
        len(boxes) == 2
        and boxes[0].area > boxes[1].area
        and boxes[0].right < 420 < boxes[1].left
    )
    out = tmp_path / "second.mp4"
    assert (
        run(
            "generate",
            "--image",
            tmp_path / "group.png",
            "--face",
            "1",
            "-o",
            out,
            "-q",
        ).returncode
        == 0
    )
    frames = read_video(out)[0]
    # only the second (right-hand) face moves; the first stays the photo
    moving = np.abs(frames.astype(np.int16) - frames[:1]).max(0).max(-1) > 40
    ys, xs = np.nonzero(moving)
    assert xs.min() > 420


def test_import_is_light():
    code = "import sys, talkface; print(sorted(m for m in ('torch', 'dlib', 'av', 'cv2') if m in sys.modules))"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True
        ).stdout.strip()
        == "[]"
    )


def test_outputs_get_ordinary_file_permissions(sample_video):
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(sample_video.stat().st_mode) == 0o666 & ~umask


@pytest.mark.slow
def test_texture_renderer_checkpoint_and_debug_video(tmp_path):
    """--renderer takes a texture generator checkpoint; --debug writes crop + landmarks |
    attention | colour panels for the same motion, next to the normal video."""
    import torch

    from talkface.models.sinha import TEXTURE_PRESETS, TextureGenerator
    from talkface.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(
        tmp_path / "tex.pt", TextureGenerator(TEXTURE_PRESETS["texture-tiny"])
    )
    out, debug = tmp_path / "out.mp4", tmp_path / "debug.mp4"
    args = ["--crop-size", "128", "--seed", "1", "-o", out, "--debug", debug]
    result = run("generate", "--renderer", tmp_path / "tex.pt", *args)
    assert result.returncode == 0, result.stderr
    assert probe_video(out)["width"] == Image.open(_sample_face()).size[0]
    info = probe_video(debug)
    assert (info["width"], info["height"]) == (3 * 128, 128)
    assert info["frames"] == probe_video(out)["frames"]
    frames, _ = read_video(debug)
    attention = frames[:, :, 128:256].astype(int)
    assert np.abs(attention - attention[..., :1]).max() <= 12  # grey map (+ codec)
    warp = run("generate", *args[:-2], "--debug", tmp_path / "warp.mp4")
    assert warp.returncode == 0, warp.stderr
    assert probe_video(tmp_path / "warp.mp4")["width"] == 2 * 128  # no maps: landmarks


def test_bad_renderer_is_a_clear_error(tmp_path):
    result = run("generate", "--renderer", "no-such-renderer", "-o", tmp_path / "x.mp4")
    assert result.returncode != 0 and "unknown model" in result.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_unreadable_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    result = run(
        "generate", "--model", tmp_path / "broken.pt", "-o", tmp_path / "x.mp4"
    )
    assert result.returncode != 0
    assert "not a readable talkface checkpoint" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.mp4").exists()


def _sample_face():
    import talkface

    return talkface.sample_paths()[0]


def test_saved_motion_renders_again_and_edits_take_effect(tmp_path, samples):
    """--save-motion writes what the video shows; --motion FILE renders it again (the same
    frames), and an edited file (lips and eyelids at rest, a 5 degree head roll) is what the
    new video shows."""
    import json

    from talkface.io.motion import load_motion

    args = ["--crop-size", "128", "-q"]
    first, motion = tmp_path / "a.mp4", tmp_path / "m.json"
    result = run("generate", "--seed", "4", "-o", first, "--save-motion", motion, *args)
    assert result.returncode == 0, result.stderr
    loaded = load_motion(motion)
    original, _ = read_video(first)
    assert len(loaded) == len(original) and loaded.fps == 25
    data = json.loads(motion.read_text())
    assert np.array(data["landmarks"]).shape == (len(original), 68, 2)
    tracked = track_landmarks(original[::10])
    mouth = np.array(data["landmarks"])[::10, 48:]
    assert np.median(np.abs(tracked[:, 48:] - mouth)) < 3  # photo pixels, as dlib sees
    again = tmp_path / "b.mp4"
    result = run("generate", "--motion", motion, "-o", again, *args)
    assert result.returncode == 0, result.stderr
    replayed, _ = read_video(again)
    assert np.abs(replayed.astype(int) - original).mean() < 0.5
    # edit: everything at rest, the head rolled by 5 degrees
    n = len(original)
    data["displacements"] = np.zeros((n, 68, 2)).tolist()
    data["blink"] = [0.0] * n
    data["pose"] = [[0, 0, 5.0, 0, 0]] * n
    motion.write_text(json.dumps(data))
    edited = tmp_path / "c.mp4"
    result = run("generate", "--motion", motion, "-o", edited, *args)
    assert result.returncode == 0, result.stderr
    points = track_landmarks(read_video(edited)[0][::15])
    assert np.ptp(inner_lip_opening(points)) < 1.5
    photo = track_landmarks(np.asarray(Image.open(samples[0]).convert("RGB"))[None])
    eyes = lambda p: np.degrees(np.arctan2(*(p[:, 45] - p[:, 36])[:, ::-1].T))  # noqa: E731
    assert np.all(np.abs(eyes(points) - eyes(photo) - 5) < 1.5)


def test_bad_motion_files_are_one_line_errors(tmp_path):
    out = tmp_path / "x.mp4"
    _error(run("generate", "--motion", "wobble", "-o", out), "atvgnet", ".json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "talkface-motion", "version": 1, "fps": 25, '
                   '"displacements": [], "blink": [0.0], "pose": [[0, 0, 0, 0, 0]]}')  # fmt: skip
    _error(run("generate", "--motion", bad, "-o", out), "displacements")
    (tmp_path / "x.json").write_text("not json")
    _error(run("generate", "--motion", tmp_path / "x.json", "-o", out), "x.json")
    _error(run("generate", "--save-motion", tmp_path / "m.txt", "-o", out), ".json")
    assert not out.exists()


@pytest.mark.slow
def test_idle_is_a_silent_loop_with_closed_mouth_blinks_and_head_sway(tmp_path):
    out = tmp_path / "idle.mp4"
    args = ["--seconds", "4", "--seed", "1", "--crop-size", "128", "--blink-rate", "1"]
    result = run("idle", *args, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    frames, fps = read_video(out)
    assert len(frames) == 100 and np.abs(load_audio(out)).max() < 1e-3
    points = track_landmarks(frames)
    assert np.ptp(inner_lip_opening(points)) < 1.5
    ear = eye_aspect_ratio(points)
    assert ear.min() < 0.75 * np.median(ear)  # blinks
    nose = points[:, 30]
    assert np.ptp(nose[:, 0]) > 1.0  # the head sways
    steps = np.abs(np.diff(nose, axis=0)).max(1)
    assert np.abs(nose[-1] - nose[0]).max() <= 2 * np.percentile(steps, 90) + 0.5
    still = tmp_path / "still.mp4"
    result = run("idle", *args, "--head-motion", "0", "-o", still, "-q")
    assert result.returncode == 0, result.stderr
    assert np.ptp(track_landmarks(read_video(still)[0])[:, 30, 0]) < 1.0


def test_batch_makes_every_video_reports_failures_and_resumes(tmp_path, samples):
    face = samples[0]
    Image.new("RGB", (200, 200), (120, 130, 140)).save(tmp_path / "wall.png")
    write_wav(tmp_path / "short.wav", 0.1 * np.sin(np.arange(16000) * 0.05))
    (tmp_path / "out").mkdir()
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "image,audio,output,seed,fps\n"
        f"{face},short.wav,out/a.mp4,1,\n"
        "wall.png,short.wav,out/b.mp4,,\n"
        f"{face},short.wav,out/c.mp4,,20\n"
    )
    first = run("generate", "--batch", jobs, "--crop-size", "128", "-q")
    assert first.returncode == 1 and "Traceback" not in first.stderr
    assert "2 made, 0 already there, 1 failed" in first.stderr
    assert "b.mp4: no face found in" in first.stderr
    assert probe_video(tmp_path / "out" / "a.mp4")["frames"] == 25
    assert probe_video(tmp_path / "out" / "c.mp4")["frames"] == 20  # the row's own fps
    assert not (tmp_path / "out" / "b.mp4").exists()
    made = (tmp_path / "out" / "a.mp4").stat().st_mtime_ns
    again = run("generate", "--batch", jobs, "--crop-size", "128", "-q")
    assert "0 made, 2 already there, 1 failed" in again.stderr
    assert (tmp_path / "out" / "a.mp4").stat().st_mtime_ns == made


def test_bad_batch_files_are_one_line_errors(tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("image,audio\nface.jpg,a.wav\n")
    _error(run("generate", "--batch", jobs), "output")
    jobs.write_text("image,audio,output,seed\nface.jpg,a.wav,o.mp4,soon\n")
    _error(run("generate", "--batch", jobs), "line 2", "seed")
    jobs.write_text("image,audio,output,mood\nface.jpg,a.wav,o.mp4,happy\n")
    _error(run("generate", "--batch", jobs), "mood")
    jobs.write_text("image,audio,output\nface.jpg,a.wav,o.mp4\n")
    _error(run("generate", "--batch", jobs, "--image", "x.jpg"), "--image")


@pytest.mark.parametrize("choice", [("--renderer", "sinha"), ("--renderer", "atvgnet"),
                                    ("--model", "temporal-gan")])  # fmt: skip
def test_shipped_renderers_and_the_temporal_gan_make_videos(tmp_path, choice):
    out = tmp_path / "out.mp4"
    result = run(
        "generate", *choice, "--crop-size", "128", "--seed", "0", "-o", out, "-q"
    )
    assert result.returncode == 0, result.stderr
    info = probe_video(out)
    assert info["width"] == Image.open(_sample_face()).size[0] and info["frames"] > 100
