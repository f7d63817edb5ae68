"""The objects one app shares between its routes, and the dependencies that fetch them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException, Request, WebSocket, status

from orchestrator.config import OrchestratorConfig
from orchestrator.web.metrics import Metrics
from orchestrator.web.outputs import OutputFiles
from orchestrator.web.security import RateLimiter, is_authorized
from orchestrator.web.settings import WebSettings
from orchestrator.web.store import TaskStore
from orchestrator.web.tasks import TaskRunner

__all__ = ["WebState", "get_state", "require_token", "require_token_or_cookie", "UNAUTHORIZED_DETAIL"]

UNAUTHORIZED_DETAIL = "missing or invalid bearer token: send the header 'Authorization: Bearer <token>'"


@dataclass
class WebState:
    settings: WebSettings
    config: OrchestratorConfig
    store: TaskStore
    metrics: Metrics
    outputs: OutputFiles
    limiter: RateLimiter | None
    runner: TaskRunner | None = field(default=None)

    def require_runner(self) -> TaskRunner:
        if self.runner is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the task runner is not running yet; retry shortly")
        return self.runner


def get_state(connection: Request | WebSocket) -> WebState:
    return connection.app.state.web  # type: ignore[no-any-return]


def _check(request: Request, *, allow_cookie: bool) -> None:
    state = get_state(request)
    if not is_authorized(request, state.settings.token, allow_cookie=allow_cookie):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED_DETAIL, headers={"WWW-Authenticate": "Bearer"}
        )


def require_token(request: Request) -> None:
    """Dependency of the API routes: the bearer token in the Authorization header."""
    _check(request, allow_cookie=False)


def require_token_or_cookie(request: Request) -> None:
    """Dependency of read-only file routes: the header, or the cookie the page sets."""
    _check(request, allow_cookie=True)
