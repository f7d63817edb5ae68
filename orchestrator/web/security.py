"""Bearer-token authentication and the per-client rate limit on task creation."""

from __future__ import annotations

import hmac
import math
import time
from collections import deque

from fastapi import HTTPException, Request, WebSocket, status

from orchestrator.web.settings import RateLimit

__all__ = ["TOKEN_COOKIE", "RateLimiter", "client_id", "is_authorized"]

# The page stores the token in this cookie too, because a <video> element and a browser
# WebSocket cannot send an Authorization header.
TOKEN_COOKIE = "reasoning_action_token"
_MAX_TRACKED_CLIENTS = 10_000


def _token_matches(candidate: str | None, token: str) -> bool:
    if not candidate:
        return False
    return hmac.compare_digest(candidate.encode("utf-8"), token.encode("utf-8"))


def is_authorized(connection: Request | WebSocket, token: str | None, *, allow_cookie: bool) -> bool:
    """Check the bearer token of a request; `allow_cookie` also accepts the page's cookie.

    The cookie is accepted only for reads (GET of files, WebSockets), never for requests
    that change state, so another site cannot start or cancel tasks through it.
    """
    if token is None:
        return True
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _token_matches(credentials.strip(), token):
        return True
    return allow_cookie and _token_matches(connection.cookies.get(TOKEN_COOKIE), token)


def client_id(connection: Request | WebSocket) -> str:
    """Return the address the rate limit counts requests by."""
    return connection.client.host if connection.client else "unknown"


class RateLimiter:
    """Sliding-window limit: at most `limit.requests` hits per client in `limit.period_seconds`."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}

    def check(self, client: str, *, now: float | None = None) -> None:
        """Count one hit of `client`; raise HTTP 429 with Retry-After when over the limit."""
        now = time.monotonic() if now is None else now
        window_start = now - self.limit.period_seconds
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= window_start:
            hits.popleft()

        if len(hits) >= self.limit.requests:
            retry_after = max(1, math.ceil(hits[0] - window_start))
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail=(
                    f"rate limit exceeded: at most {self.limit.requests} tasks per "
                    f"{self.limit.period_seconds:g} s from one client; retry in {retry_after} s"
                ),
                headers={"Retry-After": str(retry_after)},
            )
        hits.append(now)
        self._forget_idle_clients(window_start)

    def _forget_idle_clients(self, window_start: float) -> None:
        if len(self._hits) <= _MAX_TRACKED_CLIENTS:
            return
        for client in [key for key, hits in self._hits.items() if not hits or hits[-1] <= window_start]:
            del self._hits[client]
