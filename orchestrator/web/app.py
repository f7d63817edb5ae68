"""The FastAPI application: routes, error bodies, metrics, CORS and the task runner's lifetime.

    app = create_app(WebSettings.from_env(), load_config(None))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Run it in one process (one uvicorn worker): live progress and cancellation are held in
that process's memory, while the tasks themselves are in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from servers.shared import package_version
from orchestrator.config import OrchestratorConfig
from orchestrator.connections import StageConnections
from orchestrator.web.body_limit import BodySizeLimit
from orchestrator.web.db import Database
from orchestrator.web.jobs import TOOL_POOL, WORKFLOW_POOL, JobRunner, pool_of
from orchestrator.web.metrics import Metrics
from orchestrator.web.outputs import OutputFiles
from orchestrator.web.recovery import recover_tasks
from orchestrator.web.routes import files, live, service, tasks
from orchestrator.web.routes.files import STATIC_DIR
from orchestrator.web.security import RateLimiter
from orchestrator.web.settings import WebSettings
from orchestrator.web.state import WebState
from orchestrator.web.store import TaskStore
from orchestrator.web.tasks import TaskRunner

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(settings: WebSettings, config: OrchestratorConfig) -> FastAPI:
    """Build the app; the database opens now, the stage servers start with the first task."""
    database = Database(settings.database_url)
    store = TaskStore(database)
    state = WebState(
        settings=settings,
        config=config,
        store=store,
        metrics=Metrics(store.count_by_status),
        outputs=OutputFiles(config.output_dir),
        limiter=RateLimiter(settings.rate_limit) if settings.rate_limit else None,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.output_dir.mkdir(parents=True, exist_ok=True)
        async with StageConnections(config) as connections:
            state.runner = TaskRunner(
                store,
                JobRunner(connections, state.outputs, config.runs_dir),
                limits={WORKFLOW_POOL: settings.max_concurrent_workflows, TOOL_POOL: settings.max_concurrent_tasks},
                pool_of=pool_of,
                metrics=state.metrics,
            )
            await recover_tasks(store, state.runner, resume=settings.resume_interrupted, runs_dir=config.runs_dir)
            logger.info("Serving tasks; outputs in %s", config.output_dir)
            try:
                yield
            finally:
                await state.runner.shutdown()
                state.runner = None
        database.close()

    app = FastAPI(
        title="ReasoningACTION",
        version=package_version(),
        description="Turn a sentence into a finished video with sound, over HTTP.",
        lifespan=lifespan,
    )
    app.state.web = state
    app.add_middleware(BodySizeLimit)
    _install_error_handlers(app)
    _install_request_metrics(app, state.metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )

    app.include_router(tasks.router)
    app.include_router(live.router)
    app.include_router(service.router)
    app.include_router(files.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _validation_message(error: RequestValidationError) -> str:
    """Join the validation errors into one sentence: `field: message` for each."""
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path"))
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            return JSONResponse(
                {"detail": "request body is not valid JSON: send a JSON object with Content-Type: application/json"},
                status_code=status.HTTP_400_BAD_REQUEST,
            )
        return JSONResponse({"detail": _validation_message(error)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": f"internal error: {type(error).__name__}; see the service log"},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )


def _install_request_metrics(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status_code = 500
        try:
            response = await call_next(request)
            status_code = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.http_requests.labels(method=request.method, route=template, status=str(status_code)).inc()
            metrics.http_duration.labels(method=request.method, route=template).observe(time.perf_counter() - started)
