"""`talkface serve`: a local web app and HTTP API over talkface.generate().

    from talkface.serve import ServeSettings, create_app, run
    run("127.0.0.1", 8000, max_jobs=1, max_audio_seconds=60)    # blocks; Ctrl-C stops
    app = create_app(ServeSettings(max_upload_mb=10))           # an ASGI app, for uvicorn

Needs the `serve` extra (FastAPI, uvicorn, python-multipart). Design, endpoints, limits and
deployment: docs/serve.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from talkface.errors import TalkfaceError
from talkface.serve.settings import ServeSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ServeSettings", "create_app", "run", "serving"]

_EXTRA = {"fastapi", "uvicorn", "multipart", "python_multipart", "starlette"}


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """The FastAPI app (page + API) with these limits (default: ServeSettings())."""
    try:
        from talkface.serve.app import create_app as create
    except ImportError as e:
        if e.name and e.name.split(".")[0] in _EXTRA:
            raise TalkfaceError(
                "the web app needs its extra: pip install 'talkface[serve]'"
            ) from None
        raise
    return create(settings)


def run(host: str = "127.0.0.1", port: int = 8000, **settings) -> None:
    """Serve the web app at http://host:port/ until interrupted.

    Args:
        host: interface to listen on; 127.0.0.1 = this machine only.
        port: TCP port.
        **settings: fields of ServeSettings: max_upload_mb, max_audio_seconds, max_jobs,
            queue_length, job_timeout, result_ttl.
    """
    app = create_app(ServeSettings(**settings))
    import uvicorn

    # one process: the job table lives in it (docs/serve.md: several workers).
    # A stream of a queued job would hold a graceful shutdown open; 5 s is enough for
    # every short request.
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=5)


@contextmanager
def serving(
    settings: ServeSettings | None = None, timeout: float = 30
) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1 in a background thread, for as long as the
    block runs; yields its URL (for tests, scripts, and embedding in another program)."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        end = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > end or not thread.is_alive():
                raise TalkfaceError("the web app did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout)
