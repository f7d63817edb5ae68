"""Reject request bodies over a size limit before they are read into memory."""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["BodySizeLimit", "MAX_BODY_BYTES"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # Task requests are small JSON objects; 1 MiB leaves ample room.


def _replay(messages: list[dict[str, Any]], then: Any = None) -> Any:
    """Return a `receive` that yields `messages`, then defers to `then` (for disconnects)."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


class BodySizeLimit:
    """ASGI middleware that returns 413 when a body exceeds `max_bytes`.

    A declared `Content-Length` over the limit is rejected before any byte is read; a
    chunked body is buffered up to the limit and rejected once it passes it.
    """

    def __init__(self, app: Any, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send, scope, int(declared))
            return

        if declared is not None and declared.isdigit():
            # The server stops the body at the declared length, so it is within the limit.
            await self.app(scope, receive, send)
            return

        # Without a length (chunked), read up to the limit first, then replay the body.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > self.max_bytes:
                await self._reject(send, scope, received)
                return
            if not message.get("more_body", False):
                break
        replayed = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([replayed], then=receive), send)

    async def _reject(self, send: Any, scope: dict[str, Any], size: int) -> None:
        logger.warning("Rejected a %d-byte body for %s %s", size, scope.get("method"), scope.get("path"))
        body = json.dumps(
            {"detail": f"request body of {size} bytes is over the {self.max_bytes}-byte limit: send a smaller JSON object"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
