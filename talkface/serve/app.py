"""The FastAPI app: the page, and the HTTP API it uses (its schema at /openapi.json).

Every handler is a thin shell: uploads are checked by serve.inputs, faces found by
serve.faces, videos made by serve.jobs through talkface.generate(). Errors are JSON
{"detail": "one line"} with the status saying whose fault it is.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import (
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Request,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.sse import EventSourceResponse
from pydantic import BaseModel, Field

import talkface
from talkface import __version__
from talkface.errors import TalkfaceError
from talkface.face.prepare import prepare_face
from talkface.features.align import SAMPLE_RATE
from talkface.pipelines.options import (
    CHOICES,
    DEFAULT_LOOKAHEAD_MS,
    GenerateOptions,
)
from talkface.pipelines.streaming import open_stream
from talkface.registry import (
    DEFAULT_MODEL,
    MODEL_ALIASES,
    MODELS,
    MOTION_MODELS,
    RENDERERS,
)
from talkface.serve.body_limit import BodyLimit
from talkface.serve.faces import find_faces, preview_png
from talkface.serve.inputs import (
    AUDIO_FILE,
    IMAGE_FILE,
    UnsupportedMedia,
    read_photo,
    read_speech,
)
from talkface.serve.jobs import FINISHED, JobQueue, JobRequest, JobStatus, QueueFull
from talkface.serve.settings import ServeSettings

# how often a progress stream looks at its job; frames take ~10 ms, a bar needs no more
EVENT_INTERVAL = 0.2  # seconds
# the page may only load what this server sends: nothing from the internet, no inline code
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
PAPERS = {model: paper for paper, model in MOTION_MODELS.items()}


# -- the API's JSON ---------------------------------------------------------------------------


class Error(BaseModel):
    detail: str


class Job(BaseModel):
    id: str = Field(description="made by the server: 32 hex digits")
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(description="frames rendered / total, 0..1 (1 when done)")
    frames_done: int
    frames_total: int | None = Field(description="known once the job runs")
    queue_position: int | None = Field(description="1 = next to run; only while queued")
    error: str | None = Field(description="why it failed (one line)")

    @classmethod
    def of(cls, status: JobStatus) -> Job:
        return cls(
            id=status.id,
            state=status.state.value,
            progress=status.progress,
            frames_done=status.frames_done,
            frames_total=status.frames_total,
            queue_position=status.queue_position,
            error=status.error,
        )


class Model(BaseModel):
    name: str = Field(description="a value of a job's `model`")
    paper: str | None = Field(description="its paper's name: also a value of `model`")
    description: str


class Limits(BaseModel):
    max_upload_mb: float
    max_audio_seconds: float
    max_jobs: int
    queue_length: int
    job_timeout: float


class Choices(BaseModel):
    models: list[Model]
    default_model: str
    renderers: list[str]
    defaults: dict[str, float | int | None] = Field(
        description="the option values a job gets when it does not send them"
    )
    limits: Limits


class Face(BaseModel):
    box: list[float] = Field(description="left, top, right, bottom in photo pixels")
    score: float = Field(description="the HOG detector's confidence")
    landmarks: list[list[float]] = Field(
        description="68 (x, y) in photo pixels, iBUG 300-W order"
    )


class Faces(BaseModel):
    width: int
    height: int
    faces: list[Face] = Field(description="largest first: index i is a job's `face`")
    preview: str = Field(
        description="data: URL of a PNG: the faces with their index, box and landmarks"
    )


ERRORS = {
    400: {"model": Error, "description": "bad input (no face, bad option, ...)"},
    413: {"model": Error, "description": "request body over max_upload_mb"},
    415: {"model": Error, "description": "a file is not an image / not sound"},
}
UNKNOWN_JOB = {404: {"model": Error, "description": "no such job (or expired)"}}


def _jobs(request: Request) -> JobQueue:
    return request.app.state.jobs


Jobs = Annotated[JobQueue, Depends(_jobs)]


def _known(job_id: str, queue: Jobs) -> JobStatus:
    try:
        return queue.status(job_id)
    except KeyError:
        raise HTTPException(404, f"no job {job_id}") from None


Known = Annotated[JobStatus, Depends(_known)]


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The web app and HTTP API; its job queue starts and stops with the app's lifespan."""
    settings = settings or ServeSettings()
    static = {
        name: resources.files("talkface.serve").joinpath("static", name).read_bytes()
        for name in STATIC_TYPES
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        root = Path(tempfile.mkdtemp(prefix="talkface-serve-"))
        app.state.jobs = JobQueue(settings, root)
        sweeper = asyncio.create_task(_sweep(app.state.jobs))
        try:
            yield
        finally:
            sweeper.cancel()
            await run_in_threadpool(app.state.jobs.shutdown)

    app = FastAPI(
        title="talkface",
        summary="One face photo + one speech recording -> a talking-head mp4",
        version=__version__,
        lifespan=lifespan,
        # Swagger UI and ReDoc load their code from a CDN; the schema is at /openapi.json
        docs_url=None,
        redoc_url=None,
        # OpenTelemetry hooks off: this server reports to no one
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )

    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)

    # -- the page -----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        return Response(
            static["index.html"],
            media_type=STATIC_TYPES["index.html"],
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        # a lookup in a dict read at start-up: the name never reaches the file system
        if name not in static:
            raise HTTPException(404, "not found")
        return Response(static[name], media_type=STATIC_TYPES[name])

    # -- the API ------------------------------------------------------------------------------

    @app.get("/api/models", summary="What a job can choose, with defaults and limits")
    def models() -> Choices:
        defaults = GenerateOptions()
        return Choices(
            models=[
                Model(name=name, paper=PAPERS.get(name), description=spec.description)
                for name, spec in MODELS.items()
            ],
            default_model=DEFAULT_MODEL,
            renderers=["warp", *RENDERERS],
            defaults={name: getattr(defaults, name) for name in CHOICES},
            limits=Limits(
                max_upload_mb=settings.max_upload_mb,
                max_audio_seconds=settings.max_audio_seconds,
                max_jobs=settings.max_jobs,
                queue_length=settings.queue_length,
                job_timeout=settings.job_timeout,
            ),
        )

    @app.post(
        "/api/faces",
        summary="Find the faces in a photo: boxes, 68 landmarks and a preview PNG",
        responses=ERRORS,
    )
    def faces(
        image: Annotated[UploadFile, File(description="the photo")],
        queue: Jobs,
    ) -> Faces:
        with tempfile.TemporaryDirectory(dir=queue.root) as folder:
            photo = read_photo(_save(image, Path(folder) / IMAGE_FILE))
        found = find_faces(photo)
        if not found:
            raise TalkfaceError("no face found in the photo")
        png = base64.b64encode(preview_png(photo, found)).decode()
        return Faces(
            width=photo.shape[1],
            height=photo.shape[0],
            faces=[
                Face(
                    box=[face.box.left, face.box.top, face.box.right, face.box.bottom],
                    score=face.box.score,
                    landmarks=face.landmarks.tolist(),
                )
                for face in found
            ],
            preview=f"data:image/png;base64,{png}",
        )

    @app.post(
        "/api/jobs",
        status_code=202,
        summary="Submit a photo and a recording; returns the queued job",
        responses={
            **ERRORS,
            429: {"model": Error, "description": "queue full: retry later"},
        },
    )
    def submit(
        request: Request,
        response: Response,
        queue: Jobs,
        image: Annotated[UploadFile, File(description="face photo")],
        audio: Annotated[UploadFile, File(description="speech recording")],
        model: Annotated[
            str, Form(description="a name or paper from /api/models")
        ] = DEFAULT_MODEL,
        renderer: Annotated[str, Form(description="warp, or a shipped one")] = "warp",
        seed: Annotated[int | None, Form(description="same seed, same video")] = None,
        face: Annotated[int, Form(description="index from /api/faces")] = 0,
        blink_rate: Annotated[
            float | None, Form(description="blinks per second; empty = natural")
        ] = None,
        head_motion: Annotated[
            float, Form(description="0 = still .. 2")
        ] = GenerateOptions.head_motion,
        fps: Annotated[float, Form()] = GenerateOptions.fps,
        crop_size: Annotated[
            int | None, Form(description="face crop px; empty = native")
        ] = None,
        motion_scale: Annotated[
            float, Form(description="lip and jaw motion strength")
        ] = GenerateOptions.motion_scale,
    ) -> Job:
        # 1. Options first: they are cheap to check
        options = GenerateOptions(
            fps=fps,
            seed=seed,
            face=face,
            blink_rate=blink_rate,
            head_motion=head_motion,
            crop_size=crop_size,
            motion_scale=motion_scale,
        )
        model = _model_name(model)
        if renderer != "warp" and renderer not in RENDERERS:
            raise TalkfaceError(
                f"unknown renderer {renderer!r}: choose from {['warp', *RENDERERS]}"
            )
        queue.check_capacity()
        with queue.new_folder() as (job_id, folder):
            # 2. Files, by content; the face must be there before the job queues
            photo = read_photo(_save(image, folder / IMAGE_FILE))
            speech = read_speech(
                _save(audio, folder / AUDIO_FILE), settings.max_audio_seconds
            )
            prepare_face(photo, options.face, options.crop_size)
            # 3. Queue
            status = queue.submit(
                job_id, folder, JobRequest(speech, model, renderer, options)
            )
        response.headers["Location"] = str(request.url_for("job", job_id=job_id))
        return Job.of(status)

    @app.get(
        "/api/jobs/{job_id}",
        summary="A job's state and progress",
        responses=UNKNOWN_JOB,
    )
    def job(status: Known) -> Job:
        return Job.of(status)

    @app.get(
        "/api/jobs/{job_id}/events",
        response_class=EventSourceResponse,
        summary="Server-sent events: the job (as GET /api/jobs/{id}) at every change",
        responses=UNKNOWN_JOB,
    )
    async def events(status: Known, queue: Jobs) -> AsyncIterator[Job]:
        # the last event is the final state; then the stream ends
        while True:
            yield Job.of(status)
            if status.state in FINISHED:
                return
            latest = status
            while latest == status:
                await asyncio.sleep(EVENT_INTERVAL)
                try:
                    latest = queue.status(status.id)
                except KeyError:  # deleted meanwhile
                    return
            status = latest

    @app.get(
        "/api/jobs/{job_id}/result",
        summary="The finished video (H.264 + AAC mp4)",
        response_class=FileResponse,
        responses={
            200: {"content": {"video/mp4": {}}, "description": "the mp4"},
            **UNKNOWN_JOB,
            409: {"model": Error, "description": "the job is not done"},
        },
    )
    def result(status: Known, queue: Jobs):
        path = queue.result(status.id)
        if path is None:
            detail = f"job {status.id} is {status.state.value}"
            raise HTTPException(
                409, f"{detail}: {status.error}" if status.error else detail
            )
        return FileResponse(
            path,
            media_type="video/mp4",
            filename=f"talkface-{status.id[:8]}.mp4",
            content_disposition_type="inline",
        )

    @app.delete(
        "/api/jobs/{job_id}",
        summary="Cancel a queued or running job; delete a finished one",
        responses=UNKNOWN_JOB,
    )
    def cancel(status: Known, queue: Jobs) -> Job:
        try:
            return Job.of(queue.cancel(status.id))
        except KeyError:
            raise HTTPException(404, f"no job {status.id}") from None

    # -- live: audio in, frames out ------------------------------------------------------------

    streams = threading.BoundedSemaphore(settings.max_jobs)

    @app.websocket("/api/stream")
    async def stream(
        socket: WebSocket,
        model: str = DEFAULT_MODEL,
        seed: int | None = None,
        face: int = 0,
        blink_rate: float | None = None,
        crop_size: int | None = None,
        lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
    ) -> None:
        """Live audio in, JPEG frames out (talkface.pipelines.streaming).

        Send the photo (bytes); the reply is {"width", "height", "fps"}. Then send raw 16 kHz
        mono s16le PCM (bytes, any chunk size): each chunk is answered by {"frames": k} and k
        JPEG frames (bytes), those its audio completed (`lookahead_ms`: audio a frame waits
        for past its centre, as `talkface stream`). Send the text "end" for the last
        frames, the same way, then {"done": true, "frames": total}. A mistake ends the
        stream with {"detail": "..."} and close code 1008; all slots busy: 1013."""
        await socket.accept()
        if not streams.acquire(blocking=False):
            await socket.send_json({"detail": "all stream slots are busy"})
            await socket.close(1013)
            return
        try:
            with tempfile.TemporaryDirectory(prefix="talkface-stream-") as folder:
                photo = await socket.receive_bytes()
                if len(photo) > settings.max_upload_bytes:
                    raise TalkfaceError("the photo is larger than the upload limit")
                path = Path(folder) / IMAGE_FILE
                path.write_bytes(photo)
                image = read_photo(path)
                options = GenerateOptions(
                    seed=seed, face=face, blink_rate=blink_rate, crop_size=crop_size
                )
                pipeline = talkface.load_pipeline(_model_name(model))
                session = await run_in_threadpool(
                    open_stream, pipeline, image, options, lookahead_ms
                )
            height, width = session.frame_size
            await socket.send_json(
                {"width": width, "height": height, "fps": options.fps}
            )
            heard = 0
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") == "end":
                    frames = await run_in_threadpool(session.finish)
                else:
                    pcm = message.get("bytes") or b""
                    heard += len(pcm) // 2
                    if heard > settings.max_audio_seconds * SAMPLE_RATE:
                        raise TalkfaceError(
                            f"the stream is longer than the limit of "
                            f"{settings.max_audio_seconds:g} s"
                        )
                    chunk = np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2") / 32768
                    frames = await run_in_threadpool(session.push, chunk)
                await socket.send_json({"frames": len(frames)})
                for frame in frames:
                    await socket.send_bytes(_jpeg(frame))
                if message.get("text") == "end":
                    await socket.send_json({"done": True, "frames": session.done})
                    await socket.close()
                    return
        except TalkfaceError as e:
            await socket.send_json({"detail": str(e)})
            await socket.close(1008)
        except WebSocketDisconnect:
            pass
        finally:
            streams.release()

    # -- errors as one line of JSON -----------------------------------------------------------

    @app.exception_handler(TalkfaceError)
    def bad_input(request: Request, error: TalkfaceError) -> JSONResponse:
        status = 415 if isinstance(error, UnsupportedMedia) else 400
        return JSONResponse({"detail": str(error)}, status)

    @app.exception_handler(QueueFull)
    def busy(request: Request, error: QueueFull) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 429, headers={"Retry-After": "30"})

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "request"
        return JSONResponse({"detail": f"{where}: {first['msg']}"}, 400)

    _document_errors_as_400(app)
    return app


async def _sweep(queue: JobQueue) -> None:
    # often enough that no result outlives its time by more than a quarter of it
    while True:
        await asyncio.sleep(min(60.0, queue.settings.result_ttl / 4))
        queue.sweep()


def _jpeg(frame: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return data.tobytes()


def _save(upload: UploadFile, path: Path) -> Path:
    """Copy an upload (already size-limited by BodyLimit) to the server's own `path`."""
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    return path


def _model_name(model: str) -> str:
    name = MOTION_MODELS.get(model, MODEL_ALIASES.get(model, model))
    if name not in MODELS:
        raise TalkfaceError(
            f"unknown model {model!r}: choose from {sorted(MODELS)} or {sorted(MOTION_MODELS)}"
        )
    return name


def _document_errors_as_400(app: FastAPI) -> None:
    """The schema FastAPI generates promises 422 for invalid fields; this app answers 400."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path in schema["paths"].values():
                for operation in path.values():
                    operation["responses"].pop("422", None)
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
        return app.openapi_schema

    app.openapi = openapi
