"""Service routes: `/healthz` for probes and `/metrics` for Prometheus."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from servers.shared import package_version
from orchestrator.web.state import get_state, require_token

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["service"])


@router.get("/healthz")
def health(request: Request) -> JSONResponse:
    """Return 200 when a query on the database succeeds, 503 otherwise (no token needed)."""
    state = get_state(request)
    body: dict[str, Any] = {
        "status": "ok",
        "version": package_version(),
        "database": "ok",
        "active_tasks": state.runner.active_count if state.runner else 0,
    }
    try:
        with state.store.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # Any database failure makes the service unhealthy.
        logger.warning("Health check failed: the database query raised %s", error)
        body.update(status="unavailable", database=f"error: {type(error).__name__}")
        return JSONResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse(body)


@router.get("/metrics", dependencies=[Depends(require_token)])
def metrics(request: Request) -> Response:
    """Return the Prometheus text exposition of this service's metrics."""
    return Response(generate_latest(get_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
