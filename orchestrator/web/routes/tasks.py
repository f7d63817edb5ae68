"""Task routes: create one task per type, read, list and cancel tasks."""

# No `from __future__ import annotations` here: FastAPI reads the body type of each
# generated create route from its real annotation.

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status


from orchestrator.web.jobs import JOBS, Job
from orchestrator.web.schemas import ErrorBody, TaskList, TaskObject
from orchestrator.web.security import client_id
from orchestrator.web.state import get_state, require_token
from orchestrator.web.store import TaskNotFoundError

__all__ = ["router", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE"]

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

ERRORS = {
    400: {"model": ErrorBody, "description": "Malformed request or task already finished."},
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token."},
    404: {"model": ErrorBody, "description": "No task has this id."},
    422: {"model": ErrorBody, "description": "A parameter is invalid; the detail names it and the fix."},
    429: {"model": ErrorBody, "description": "Too many tasks created by this client; see Retry-After."},
}

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)], tags=["tasks"], responses={401: ERRORS[401]})


def _not_found(task_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"task {task_id!r} not found")


def _add_create_route(job: Job) -> None:
    async def create_task(request: Request, body: Annotated[job.body, Body()]) -> TaskObject:  # type: ignore[name-defined]
        state = get_state(request)
        runner = state.require_runner()
        if state.limiter is not None:
            try:
                state.limiter.check(client_id(request))
            except HTTPException:
                state.metrics.rate_limited.inc()
                raise

        stored = body.model_dump(mode="json")
        task = await state.store.create(task_type=job.type, request=stored, prompt=job.prompt_of(body), client=client_id(request))
        state.metrics.tasks_created.labels(type=job.type).inc()
        runner.submit(task, stored)
        return task

    create_task.__name__ = f"create_{job.type}_task"
    router.add_api_route(
        job.path.removeprefix("/api"),
        create_task,
        methods=["POST"],
        response_model=TaskObject,
        summary=job.summary,
        description=f"{job.summary} Creates a `{job.type}` task and returns it at once; follow it with "
        "GET /api/tasks/{task_id} or the WebSocket /ws/tasks/{task_id}.",
        responses={code: ERRORS[code] for code in (400, 422, 429)},
    )


for _job in JOBS.values():
    _add_create_route(_job)


@router.get("/tasks/{task_id}", response_model=TaskObject, responses={404: ERRORS[404]})
async def get_task(request: Request, task_id: str) -> TaskObject:
    """Return one task with its live progress."""
    try:
        return await get_state(request).store.get(task_id)
    except TaskNotFoundError:
        raise _not_found(task_id) from None


@router.get("/tasks", response_model=TaskList)
async def list_tasks(
    request: Request,
    status_filter: Annotated[
        Literal["pending", "processing", "success", "failed", "cancelled"] | None,
        Query(alias="status", description="Only tasks with this status."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, description="Number of tasks to skip.")] = 0,
) -> TaskList:
    """Return tasks newest first, with the total count for paging."""
    return await get_state(request).store.list(status=status_filter, limit=limit, offset=offset)


@router.delete("/tasks/{task_id}", response_model=TaskObject, responses={400: ERRORS[400], 404: ERRORS[404]})
async def cancel_task(request: Request, task_id: str) -> TaskObject:
    """Cancel a pending or running task (the tool call in flight is cancelled too) and return it."""
    state = get_state(request)
    try:
        task = await state.store.get(task_id)
    except TaskNotFoundError:
        raise _not_found(task_id) from None
    if task.status in ("success", "failed", "cancelled"):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail=f"task {task_id!r} already finished with status {task.status!r}; nothing to cancel"
        )
    return await state.require_runner().cancel(task_id)


