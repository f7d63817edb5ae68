"""Task runner: runs tasks in the background with bounded concurrency and cancellation.

Each task runs in its own asyncio task. Workflows and single-tool tasks have separate
limits; a task waiting for a free slot stays `pending`. Cancelling a running task cancels
its asyncio task, which cancels the MCP tool call in flight (the MCP client sends the
server a cancellation notice, and the server stops at the engine's next step).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from orchestrator.web.metrics import Metrics
from orchestrator.web.models import FINISHED_STATUSES
from orchestrator.web.schemas import TaskObject
from orchestrator.web.store import TaskNotFoundError, TaskStore

__all__ = ["ExecutionContext", "Executor", "TaskFailedError", "TaskRunner", "CANCELLED_MESSAGE", "INTERRUPTED_MESSAGE"]

logger = logging.getLogger(__name__)

CANCELLED_MESSAGE = "cancelled by request"
INTERRUPTED_MESSAGE = (
    "interrupted: the service stopped while this task was running and could not resume it; create the task again"
)
_CANCEL_WAIT_SECONDS = 30.0


class TaskFailedError(Exception):
    """A task failed for a reason its caller can act on; the message becomes the task's error."""


class ExecutionContext:
    """Handle given to a running task: its id and a progress reporter."""

    def __init__(self, runner: TaskRunner, task_id: str) -> None:
        self.task_id = task_id
        self._runner = runner

    async def report(
        self,
        *,
        progress: float,
        stage: str | None = None,
        segment: int | None = None,
        stage_progress: float | None = None,
        message: str | None = None,
    ) -> None:
        """Record progress; percentages are 0 to 100."""
        await self._runner.store.record_progress(
            self.task_id, progress=progress, stage=stage, segment=segment, stage_progress=stage_progress, message=message
        )


# Runs one task: (task type, stored request, context) -> result stored in the task.
Executor = Callable[[str, dict[str, Any], ExecutionContext], Awaitable[dict[str, Any]]]


class TaskRunner:
    """Schedules tasks of a `TaskStore` onto an `Executor`.

    `limits` maps a pool name to its number of concurrent tasks; `pool_of` maps a task
    type to its pool.
    """

    def __init__(
        self,
        store: TaskStore,
        execute: Executor,
        *,
        limits: dict[str, int],
        pool_of: Callable[[str], str],
        metrics: Metrics | None = None,
    ) -> None:
        for pool, limit in limits.items():
            if limit < 1:
                raise ValueError(f"limit of pool {pool!r} must be at least 1, got {limit}")
        self.store = store
        self._execute = execute
        self._pool_of = pool_of
        self._metrics = metrics
        self._slots = {pool: asyncio.Semaphore(limit) for pool, limit in limits.items()}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancel_requested: set[str] = set()
        self._closing = False

    def submit(self, task: TaskObject, request: dict[str, Any]) -> None:
        """Schedule a pending task; it starts when its pool has a free slot."""
        if self._closing:
            raise RuntimeError("the task runner is shutting down")
        runner = asyncio.create_task(self._run(task.task_id, task.metadata.type, request), name=f"task-{task.task_id}")
        self._running[task.task_id] = runner
        runner.add_done_callback(lambda _: self._running.pop(task.task_id, None))

    async def cancel(self, task_id: str) -> TaskObject:
        """Cancel a pending or running task and return it once it has stopped."""
        task = await self.store.get(task_id)
        if task.status in FINISHED_STATUSES:
            return task

        runner = self._running.get(task_id)
        if runner is None:
            # Not scheduled in this process (for example left pending by another replica).
            return await self.store.finish(task_id, "cancelled", error=CANCELLED_MESSAGE)

        self._cancel_requested.add(task_id)
        runner.cancel()
        done, _ = await asyncio.wait({runner}, timeout=_CANCEL_WAIT_SECONDS)
        if not done:
            logger.warning("Task %s did not stop within %.0f s of its cancellation", task_id, _CANCEL_WAIT_SECONDS)
            return await self.store.finish(task_id, "cancelled", error=CANCELLED_MESSAGE)
        return await self.store.get(task_id)

    async def shutdown(self) -> None:
        """Stop every task; running ones stay `processing` so the next start recovers them."""
        self._closing = True
        runners = list(self._running.values())
        for runner in runners:
            runner.cancel()
        if runners:
            await asyncio.wait(runners, timeout=_CANCEL_WAIT_SECONDS)
        logger.info("Task runner stopped (%d tasks were active)", len(runners))

    @property
    def active_count(self) -> int:
        return len(self._running)

    async def _run(self, task_id: str, task_type: str, request: dict[str, Any]) -> None:
        try:
            async with self._slots[self._pool_of(task_type)]:
                await self._run_started(task_id, task_type, request)
        except asyncio.CancelledError:
            if task_id in self._cancel_requested:
                await self._finish_quietly(task_id, "cancelled", error=CANCELLED_MESSAGE)
            raise
        finally:
            self._cancel_requested.discard(task_id)

    async def _run_started(self, task_id: str, task_type: str, request: dict[str, Any]) -> None:
        if await self.store.start(task_id) is None:
            return  # Cancelled or finished while it waited for a slot.
        started = time.monotonic()
        status = "failed"
        context = ExecutionContext(self, task_id)
        try:
            result = await self._execute(task_type, request, context)
        except asyncio.CancelledError:
            status = "cancelled" if task_id in self._cancel_requested else "interrupted"
            raise
        except TaskFailedError as error:
            await self.store.finish(task_id, "failed", error=str(error))
        except Exception as error:
            logger.exception("Task %s (%s) failed unexpectedly", task_id, task_type)
            await self.store.finish(task_id, "failed", error=f"internal error: {type(error).__name__}: {error}")
        else:
            status = "success"
            await self.store.finish(task_id, "success", result=result)
        finally:
            if self._metrics is not None and status != "interrupted":
                self._metrics.task_duration.labels(type=task_type, status=status).observe(time.monotonic() - started)

    async def _finish_quietly(self, task_id: str, status: str, *, error: str) -> None:
        try:
            await self.store.finish(task_id, status, error=error)
        except TaskNotFoundError:
            logger.warning("Task %s vanished from the database before it could be marked %s", task_id, status)
