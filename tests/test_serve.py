"""The web app and HTTP API (talkface.serve): good and bad requests through FastAPI's
TestClient, the job queue's cancel / queue-full / timeout / clean-up paths, and one run of
the page in a real headless Chromium."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import talkface
from talkface.features.align import n_video_frames
from talkface.io.audio import load_audio
from talkface.io.video import probe_video
from talkface.registry import MODELS
from talkface.serve import ServeSettings, create_app
from talkface.types import Video

CHROMIUM = Path("/usr/bin/chromium")
FAST = {"crop_size": "128", "seed": "0"}  # a small crop keeps every job ~1 s


@pytest.fixture
def serve():
    """serve(**settings) -> a TestClient of a running app (lifespan started); all are
    stopped at the end of the test."""
    clients = []

    def start(**settings) -> TestClient:
        client = TestClient(create_app(ServeSettings(**settings)))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def files(samples, image: bytes | None = None, audio: bytes | None = None) -> dict:
    photo, speech = samples
    return {
        "image": ("me.jpg", image or Path(photo).read_bytes(), "image/jpeg"),
        "audio": ("hello.wav", audio or Path(speech).read_bytes(), "audio/wav"),
    }


def wait_for(
    client: TestClient, job_id: str, *states: str, timeout: float = 60
) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"/api/jobs/{job_id}").json()
        if status["state"] in states:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}: {status}")


def job_folder(client: TestClient, job_id: str) -> Path:
    return client.app.state.jobs.root / job_id


# -- the page and the schema ------------------------------------------------------------------


def test_openapi_lists_every_endpoint(serve):
    schema = serve().get("/openapi.json").json()
    paths = {path: set(ops) for path, ops in schema["paths"].items()}
    assert paths == {
        "/api/models": {"get"},
        "/api/faces": {"post"},
        "/api/jobs": {"post"},
        "/api/jobs/{job_id}": {"get", "delete"},
        "/api/jobs/{job_id}/events": {"get"},
        "/api/jobs/{job_id}/result": {"get"},
    }
    submit = schema["paths"]["/api/jobs"]["post"]
    assert {"202", "400", "413", "415", "429"} <= set(submit["responses"])
    assert "422" not in submit["responses"]  # bad fields answer 400
    form = submit["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][form.split("/")[-1]]["properties"]
    assert {"image", "audio", "model", "seed", "head_motion", "blink_rate"} <= set(
        fields
    )


def test_page_loads_nothing_from_elsewhere(serve):
    client = serve()
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "style.css"):
        assert f'"static/{name}"' in page.text
    texts = [page.text] + [
        client.get(f"/static/{n}").text for n in ("app.js", "style.css")
    ]
    for text in texts:  # no URL with a host name: everything comes from this server
        assert re.findall(r"//[a-z0-9-]+\.[a-z]", text, re.IGNORECASE) == []
    assert client.get("/static/..%2fapp.py").status_code == 404
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_models_lists_the_shipped_choices(serve):
    choices = serve().get("/api/models").json()
    assert {m["name"] for m in choices["models"]} == set(talkface.available_models())
    assert choices["renderers"][0] == "warp"
    assert choices["defaults"]["head_motion"] == 1.0
    assert choices["limits"]["max_audio_seconds"] == 60


# -- faces ------------------------------------------------------------------------------------


def test_faces_gives_the_pipelines_landmarks_and_a_preview(serve, samples):
    from talkface.face.prepare import prepare_face

    answer = serve().post("/api/faces", files={"image": files(samples)["image"]})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["width"], found["height"]) == (512, 512)
    (face,) = found["faces"]
    expected = prepare_face(samples[0]).landmarks
    np.testing.assert_allclose(np.array(face["landmarks"]), expected, atol=0.5)
    left, top, right, bottom = face["box"]
    assert left < expected[:, 0].mean() < right and top < expected[:, 1].mean() < bottom
    png = found["preview"].removeprefix("data:image/png;base64,")
    preview = Image.open(io.BytesIO(base64.b64decode(png)))
    assert preview.format == "PNG" and max(preview.size) == 480


def test_faces_checks_content_not_name(serve, samples):
    client = serve()
    text = ("face.jpg", b"this is not a photo " * 100, "image/jpeg")
    answer = client.post("/api/faces", files={"image": text})
    assert answer.status_code == 415
    assert "not an image" in answer.json()["detail"]
    # a format Pillow reads, but no photo format: decoders beyond the list stay unreachable
    ppm = io.BytesIO()
    Image.open(samples[0]).save(ppm, format="PPM")
    answer = client.post("/api/faces", files={"image": ("face.jpg", ppm.getvalue())})
    assert answer.status_code == 415
    grey = io.BytesIO()
    Image.new("RGB", (256, 256), (128, 128, 128)).save(grey, format="PNG")
    answer = client.post("/api/faces", files={"image": ("g.png", grey.getvalue())})
    assert answer.status_code == 400
    assert answer.json()["detail"] == "no face found in the photo"


class Watch:
    """dlib's detector, counting how many threads are inside run() at once. (Two at once
    crash the process: three threads of detect_faces on photos of different sizes do.)"""

    def __init__(self, detector):
        self.detector = detector
        self.calls = self.inside = self.most = 0
        self.count = threading.Lock()
        self.own = threading.Lock()  # so that this test itself never crashes

    def run(self, *args):
        with self.count:
            self.calls += 1
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)  # a detection takes this long; others would arrive meanwhile
        with self.own:
            found = self.detector.run(*args)
        with self.count:
            self.inside -= 1
        return found


def test_faces_are_found_by_one_thread_at_a_time(serve, samples, monkeypatch):
    from talkface.face import detect

    watch = Watch(detect.face_detector())
    monkeypatch.setattr(detect, "face_detector", lambda: watch)
    client = serve(max_jobs=2)  # two jobs find their faces at once too
    photo = files(samples)["image"]
    answers = []
    requests = [
        lambda: client.post("/api/faces", files={"image": photo}),
        lambda: client.post("/api/jobs", files=files(samples), data=FAST),
    ] * 2
    threads = [
        threading.Thread(target=lambda r=r: answers.append(r())) for r in requests
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 200, 202, 202]
    for answer in answers:
        if answer.status_code == 202:
            wait_for(client, answer.json()["id"], "done")
    assert watch.calls == 6 and watch.most == 1  # 2 previews, 2 submits, 2 jobs


# -- a job from start to finish ---------------------------------------------------------------


def test_job_makes_a_playable_mp4(serve, samples, tmp_path):
    client = serve()
    answer = client.post("/api/jobs", files=files(samples), data=FAST)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["state"] == "queued" and len(job["id"]) == 32
    assert answer.headers["location"].endswith(f"/api/jobs/{job['id']}")
    with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        events = [
            json.loads(line.removeprefix("data: "))
            for line in stream.iter_lines()
            if line.startswith("data: ")
        ]
    assert events[-1]["state"] == "done" and events[-1]["progress"] == 1.0
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress)

    video = client.get(f"/api/jobs/{job['id']}/result")
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    saved = tmp_path / "result.mp4"
    saved.write_bytes(video.content)
    info = probe_video(saved)
    assert info["frames"] == n_video_frames(len(load_audio(samples[1])), 25.0)
    assert (info["width"], info["height"]) == (512, 512)
    assert info["audio_codec"] == "aac"
    assert events[-1]["frames_total"] == info["frames"]
    # the inputs are gone once the job is over; only the video stays
    assert [p.name for p in job_folder(client, job["id"]).iterdir()] == ["result.mp4"]

    # deleting a finished job deletes its files
    assert client.delete(f"/api/jobs/{job['id']}").json()["state"] == "done"
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert not job_folder(client, job["id"]).exists()


# -- bad requests -----------------------------------------------------------------------------


def test_oversized_upload_is_refused_before_it_is_read(serve, samples):
    client = serve(max_upload_mb=0.5)
    big = files(samples, audio=b"\0" * 600_000)
    answer = client.post("/api/jobs", files=big)
    assert answer.status_code == 413
    assert answer.json() == {"detail": "the upload is larger than the limit of 0.5 MiB"}
    assert list(client.app.state.jobs.root.iterdir()) == []


def test_upload_without_length_is_cut_off_at_the_limit():
    """A chunked upload (no Content-Length) is counted as it arrives: the server answers
    413 after the limit and does not read the rest."""
    app = create_app(ServeSettings(max_upload_mb=0.5))
    chunk = 64 * 1024
    head = b'--x\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n'
    received, sent = [], []

    async def receive():  # 100 chunks: 6.4 MiB
        received.append(1)
        body = (head if len(received) == 1 else b"") + b"\0" * chunk
        return {"type": "http.request", "body": body, "more_body": len(received) < 100}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/jobs",
        "raw_path": b"/api/jobs",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"multipart/form-data; boundary=x")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"].startswith("the upload is larger")
    assert len(received) <= 0.5 * 1024 * 1024 / chunk + 1


def test_files_are_checked_by_content(serve, samples):
    client = serve()
    text = b"RIFF but not really a wav file, just text " * 50
    answer = client.post("/api/jobs", files=files(samples, audio=text), data=FAST)
    assert answer.status_code == 415
    assert "not a sound file" in answer.json()["detail"]
    photo = Path(samples[0]).read_bytes()
    answer = client.post("/api/jobs", files=files(samples, audio=photo), data=FAST)
    assert answer.status_code == 415  # a JPEG has no sound track
    answer = client.post("/api/jobs", files=files(samples, image=text), data=FAST)
    assert answer.status_code == 415
    assert "not an image" in answer.json()["detail"]
    assert list(client.app.state.jobs.root.iterdir()) == []


def test_an_upload_cannot_make_ffmpeg_open_other_files(samples, tmp_path):
    """FFmpeg's concat demuxer (probed from content) would decode the files a playlist
    names, relative to the upload's folder."""
    from talkface.serve.inputs import UnsupportedMedia, read_speech

    (tmp_path / "speech.wav").write_bytes(Path(samples[1]).read_bytes())
    upload = tmp_path / "audio"
    upload.write_text("ffconcat version 1.0\nfile speech.wav\n")
    with pytest.raises(UnsupportedMedia):
        read_speech(upload, 60)


def test_a_browser_recording_is_accepted(serve, samples, tmp_path):
    """Opus in WebM, as Chromium's MediaRecorder records it."""
    import av

    wav = load_audio(samples[1], 48000)
    path = tmp_path / "recording.webm"
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        for start in range(0, len(wav), 960):
            frame = av.AudioFrame.from_ndarray(
                wav[None, start : start + 960], format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts = 48000, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    client = serve()
    answer = client.post(
        "/api/jobs", files=files(samples, audio=path.read_bytes()), data=FAST
    )
    assert answer.status_code == 202, answer.text
    assert wait_for(client, answer.json()["id"], "done", "failed")["state"] == "done"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"head_motion": "5"}, "head motion must be between 0 and 2"),
        ({"seed": "abc"}, "seed: "),
        ({"model": "../../etc/passwd"}, "unknown model '../../etc/passwd'"),
        ({"renderer": "/tmp/texture.pt"}, "unknown renderer '/tmp/texture.pt'"),
        ({"face": "1"}, "face 1 requested but only 1 face(s) found in the image"),
    ],
)
def test_bad_options_are_400(serve, samples, fields, message):
    client = serve()
    answer = client.post("/api/jobs", files=files(samples), data={**FAST, **fields})
    assert answer.status_code == 400
    assert message in answer.json()["detail"]


def test_photo_without_a_face_is_400(serve, samples):
    grey = io.BytesIO()
    Image.new("RGB", (256, 256), (128, 128, 128)).save(grey, format="PNG")
    client = serve()
    answer = client.post(
        "/api/jobs", files=files(samples, image=grey.getvalue()), data=FAST
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "no face found in the image"


def test_audio_over_the_limit_is_400(serve, samples):
    answer = serve(max_audio_seconds=2).post("/api/jobs", files=files(samples))
    assert answer.status_code == 400
    assert answer.json()["detail"] == "the recording is longer than the limit of 2 s"


def test_unknown_job_is_404(serve):
    client = serve()
    for url in ("/api/jobs/nope", "/api/jobs/nope/result", "/api/jobs/nope/events"):
        assert client.get(url).status_code == 404
    assert client.delete("/api/jobs/nope").json() == {"detail": "no job nope"}


# -- the queue: cancel, full, timeout, clean-up -----------------------------------------------


class Gate:
    """talkface.generate whose videos stop before frame 2 until the gate opens."""

    def __init__(self):
        self.reached = threading.Event()
        self.open = threading.Event()
        self.generate = talkface.generate

    def __call__(self, *args, **kwargs) -> Video:
        video = self.generate(*args, **kwargs)

        def render(i: int) -> np.ndarray:
            if i == 2:
                self.reached.set()
                assert self.open.wait(30), "the gate never opened"
            return video.render_frame(i)

        return dataclasses.replace(video, render_frame=render)


def test_queue_cancel_and_queue_full(serve, samples, monkeypatch):
    gate = Gate()
    monkeypatch.setattr(talkface, "generate", gate)
    client = serve(max_jobs=1, queue_length=1)
    running = client.post("/api/jobs", files=files(samples), data=FAST).json()["id"]
    assert gate.reached.wait(30)
    status = client.get(f"/api/jobs/{running}").json()
    assert status["state"] == "running" and status["frames_done"] == 2
    assert 0 < status["progress"] < 0.1
    assert client.get(f"/api/jobs/{running}/result").status_code == 409

    queued = client.post("/api/jobs", files=files(samples), data=FAST).json()
    assert queued["state"] == "queued" and queued["queue_position"] == 1
    full = client.post("/api/jobs", files=files(samples), data=FAST)
    assert full.status_code == 429 and "busy" in full.json()["detail"]
    assert full.headers["retry-after"]

    # cancelling the queued job makes room; it never runs
    assert client.delete(f"/api/jobs/{queued['id']}").json()["state"] == "cancelled"
    assert list(job_folder(client, queued["id"]).iterdir()) == []
    later = client.post("/api/jobs", files=files(samples), data=FAST)
    assert later.status_code == 202

    # cancelling the running job: it stops at the next frame, without a video
    assert client.delete(f"/api/jobs/{running}").json()["state"] == "cancelled"
    gate.open.set()
    assert wait_for(client, later.json()["id"], "done")["frames_done"] > 2
    stopped = client.get(f"/api/jobs/{running}").json()
    assert stopped["state"] == "cancelled" and stopped["frames_done"] == 3
    assert client.get(f"/api/jobs/{queued['id']}").json()["frames_done"] == 0
    conflict = client.get(f"/api/jobs/{running}/result")
    assert conflict.status_code == 409 and "cancelled" in conflict.json()["detail"]
    assert list(job_folder(client, running).iterdir()) == []  # no mp4, no .part


def test_job_timeout(serve, samples, monkeypatch):
    generate = talkface.generate

    def slow(*args, **kwargs) -> Video:
        video = generate(*args, **kwargs)
        return dataclasses.replace(
            video, render_frame=lambda i: (time.sleep(0.05), video.render_frame(i))[1]
        )

    monkeypatch.setattr(talkface, "generate", slow)
    client = serve(job_timeout=1)
    job = client.post("/api/jobs", files=files(samples), data=FAST).json()["id"]
    status = wait_for(client, job, "done", "failed")
    assert status["state"] == "failed" and status["error"] == "timed out after 1 s"
    assert 0 < status["frames_done"] < status["frames_total"]
    assert list(job_folder(client, job).iterdir()) == []


def test_results_expire_and_shutdown_deletes_everything(samples):
    with TestClient(create_app(ServeSettings(result_ttl=0.5))) as client:
        root = client.app.state.jobs.root
        job = client.post("/api/jobs", files=files(samples), data=FAST).json()["id"]
        wait_for(client, job, "done")
        assert (root / job / "result.mp4").exists()
        end = time.monotonic() + 10
        while client.get(f"/api/jobs/{job}").status_code != 404:
            assert time.monotonic() < end, "the result was never deleted"
            time.sleep(0.1)
        assert not (root / job).exists()
        # a job still queued or running when the server stops
        client.post("/api/jobs", files=files(samples), data=FAST)
    assert not root.exists()


def test_video_save_reports_frames_and_can_stop(samples, tmp_path):
    video = talkface.generate(*samples, crop_size=128, seed=0)
    seen = []
    video.save(tmp_path / "a.mp4", on_frame=seen.append)
    assert seen == list(range(1, len(video) + 1))

    class Stop(Exception):
        pass

    def stop(n: int) -> None:
        if n == 3:
            raise Stop

    with pytest.raises(Stop):
        video.save(tmp_path / "b.mp4", on_frame=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


# -- the page in a real browser ---------------------------------------------------------------


@pytest.fixture
def live_server():
    """The app served by uvicorn on a free local port, in a thread; yields its URL."""
    from talkface.serve import serving

    with serving(ServeSettings()) as url:
        yield url


def wait_until_playable(video, timeout: float = 60) -> None:
    """Until the <video> has its current frame and knows its duration (HTMLMediaElement
    readyState >= HAVE_CURRENT_DATA). Polled from here: Playwright's wait_for_function
    would evaluate a string, which the page's Content-Security-Policy forbids."""
    end = time.monotonic() + timeout
    while not video.evaluate("v => v.readyState >= 2 && v.duration > 0"):
        assert time.monotonic() < end, "the video never became playable"
        time.sleep(0.1)


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's Chromium at /usr/bin/chromium: apt-get install chromium",
)
def test_page_in_a_browser(live_server, samples):
    """Upload the sample photo and speech, see the landmarks, generate, and get a video
    the browser plays; then record from a (fake) microphone and generate from that."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
        )
        try:
            page = browser.new_page()
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(live_server)
            expect(page.locator("#model option")).to_have_count(len(MODELS))
            page.set_input_files("#image", samples[0])
            expect(page.locator("#preview")).to_be_visible(timeout=30_000)
            expect(page.locator("#faces-caption")).to_contain_text("1 face found")
            page.set_input_files("#audio", samples[1])
            page.click("summary")
            page.fill("#crop_size", "128")
            page.fill("#seed", "0")
            page.click("#generate")
            video = page.locator("#video")
            video.wait_for(state="visible", timeout=60_000)
            wait_until_playable(video)
            duration = video.evaluate("v => v.duration")
            assert duration == pytest.approx(5.44, abs=0.1)
            assert page.locator("#download").get_attribute("href").endswith("/result")
            assert page.locator("#progress").evaluate("p => p.value") == 1

            # the microphone: Chromium's fake device plays a beep
            page.click("#record")
            page.wait_for_timeout(1500)
            page.click("#record")
            expect(page.locator("#speech-info")).to_contain_text("recorded")
            page.click("#generate")
            expect(page.locator("#status")).to_contain_text("Done", timeout=60_000)
            wait_until_playable(video)
            assert 1.0 < video.evaluate("v => v.duration") < 3.0
            assert errors == []
        finally:
            browser.close()


def test_the_cli_serves_the_app_with_its_flags():
    """`talkface serve --port P --max-jobs 2` starts the app with those limits; Ctrl-C ends it."""
    import json
    import signal
    import subprocess
    import sys
    import urllib.request

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "talkface", "serve", "--port", str(port),
         "--max-jobs", "2", "--max-audio-seconds", "12"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        end = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/models"
                with urllib.request.urlopen(url, timeout=5) as response:
                    choices = json.loads(response.read())
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < end, "talkface serve did not start"
                time.sleep(0.2)
        limits = choices["limits"]  # as given on the command line
        assert limits["max_audio_seconds"] == 12 and limits["max_jobs"] == 2
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(30) is not None


# -- live streaming over a websocket ----------------------------------------------------------


@pytest.mark.parametrize("model", ["", "temporal-gan"])
def test_websocket_streams_frames_as_the_audio_arrives(serve, samples, model):
    import cv2

    from talkface.features.align import n_video_frames
    from talkface.io.audio import load_audio

    client = serve(max_audio_seconds=30)
    photo, speech = samples
    wav = load_audio(speech)
    pcm = (np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes()
    step = 2 * 640  # 40 ms
    frames, first_at = [], None
    query = "seed=0&crop_size=128" + (f"&model={model}" if model else "")
    with client.websocket_connect(f"/api/stream?{query}") as ws:
        ws.send_bytes(Path(photo).read_bytes())
        header = ws.receive_json()
        for start in range(0, len(pcm), step):
            ws.send_bytes(pcm[start : start + step])
            for _ in range(ws.receive_json()["frames"]):
                frames.append(ws.receive_bytes())
            if frames and first_at is None:
                first_at = (start + step) / 2 / 16000
        ws.send_text("end")
        for _ in range(ws.receive_json()["frames"]):
            frames.append(ws.receive_bytes())
        done = ws.receive_json()
    assert done == {"done": True, "frames": len(frames)}
    assert len(frames) == n_video_frames(len(wav), 25)
    assert first_at <= 0.25  # the first frame came with the first ~0.2 s of audio
    image = cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (header["height"], header["width"], 3)


def test_websocket_refuses_bad_photos_long_audio_and_too_many_streams(serve, samples):
    from starlette.websockets import WebSocketDisconnect

    client = serve(max_audio_seconds=1, max_jobs=1)
    photo = Path(samples[0]).read_bytes()
    with client.websocket_connect("/api/stream") as ws:
        ws.send_bytes(b"not an image")
        assert "not an image" in ws.receive_json()["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
    with client.websocket_connect("/api/stream?crop_size=128") as ws:
        ws.send_bytes(photo)
        ws.receive_json()
        with client.websocket_connect("/api/stream") as second:  # the one slot is taken
            assert "busy" in second.receive_json()["detail"]
        ws.send_bytes(bytes(2 * 16000 * 2))  # 2 s of silence, over the 1 s limit
        assert "longer than the limit" in ws.receive_json()["detail"]
