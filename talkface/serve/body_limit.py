"""The upload limit, enforced while the request streams in, answered as JSON like every error.

(FastAPI's own `max_body_size` answers a Content-Length over the limit in plain text.)
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: 413 {"detail": ...} for a request body over `max_bytes`, at once
    when its Content-Length says so, else as soon as the bytes received pass the limit (the
    rest is never read, and the upload never fills a disk)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.detail = (
            f"the upload is larger than the limit of {max_bytes / 2**20:g} MiB"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response = JSONResponse({"detail": self.detail}, 413)
            return await response(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # raised inside the handler's body parsing: FastAPI's exception
                    # handling turns it into the JSON answer
                    raise HTTPException(413, self.detail)
            return message

        await self.app(scope, counted, send)
