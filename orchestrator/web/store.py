"""Task store: tasks in the database, plus live progress and change notifications in memory.

Status changes are written to the database at once. Progress events arrive many times a
second while a stage renders, so they update an in-memory copy that readers and
WebSocket subscribers see immediately, and reach the database at most once per
`persist_interval` seconds. Database calls run in worker threads, so a slow database
never blocks the event loop.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import func, select

from orchestrator.web.db import Database
from orchestrator.web.models import FINISHED_STATUSES, TASK_STATUSES, TaskRow
from orchestrator.web.schemas import TaskList, TaskObject, task_object

__all__ = ["Subscription", "TaskNotFoundError", "TaskStore", "utc_now"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def utc_now() -> datetime:
    """Return the current UTC time without a time zone, as the database stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TaskNotFoundError(LookupError):
    """No task has the requested id."""


class Subscription:
    """Latest task object for one WebSocket client; a slow client skips to the newest state."""

    def __init__(self) -> None:
        self._latest: TaskObject | None = None
        self._changed = anyio.Event()

    def push(self, task: TaskObject) -> None:
        self._latest = task
        self._changed.set()

    async def next(self) -> TaskObject:
        """Wait for the next change and return the newest task object."""
        await self._changed.wait()
        self._changed = anyio.Event()
        assert self._latest is not None
        return self._latest


class TaskStore:
    """Creates, reads and updates tasks, and notifies subscribers of every change."""

    def __init__(self, database: Database, *, persist_interval: float = 1.0) -> None:
        self.database = database
        self.persist_interval = persist_interval
        self._live: dict[str, TaskRow] = {}
        self._last_persist: dict[str, float] = {}
        self._subscribers: dict[str, set[Subscription]] = {}

    async def _in_thread(self, function: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(function)

    # Reading

    async def get(self, task_id: str) -> TaskObject:
        """Return the task, with live progress when it is running; raise TaskNotFoundError."""
        live = self._live.get(task_id)
        if live is not None:
            return task_object(live)

        def load() -> TaskRow | None:
            with self.database.session() as session:
                return session.get(TaskRow, task_id)

        row = await self._in_thread(load)
        if row is None:
            raise TaskNotFoundError(task_id)
        return task_object(row)

    async def list(self, *, status: str | None, limit: int, offset: int) -> TaskList:
        """Return tasks newest first, optionally only those with `status`."""

        def load() -> tuple[list[TaskRow], int]:
            query = select(TaskRow)
            count = select(func.count()).select_from(TaskRow)
            if status is not None:
                query = query.where(TaskRow.status == status)
                count = count.where(TaskRow.status == status)
            query = query.order_by(TaskRow.created_at.desc(), TaskRow.id.desc()).limit(limit).offset(offset)
            with self.database.session() as session:
                return list(session.scalars(query)), int(session.scalar(count) or 0)

        rows, total = await self._in_thread(load)
        tasks = [task_object(self._live.get(row.id, row)) for row in rows]
        return TaskList(tasks=tasks, total=total, limit=limit, offset=offset)

    def count_by_status(self) -> dict[str, int]:
        """Return the number of tasks in each status (blocking; called by the metrics scrape)."""
        counts = dict.fromkeys(TASK_STATUSES, 0)
        with self.database.session() as session:
            for status, count in session.execute(select(TaskRow.status, func.count()).group_by(TaskRow.status)):
                counts[status] = int(count)
        return counts

    # Writing

    async def create(self, *, task_type: str, request: dict[str, Any], prompt: str | None, client: str | None) -> TaskObject:
        """Insert a pending task and return it."""
        now = utc_now()
        row = TaskRow(
            id=uuid.uuid4().hex,
            type=task_type,
            status="pending",
            progress=0.0,
            prompt=prompt,
            request=request,
            steps=[],
            client=client,
            created_at=now,
            updated_at=now,
        )

        def insert() -> None:
            with self.database.session() as session, session.begin():
                session.add(row)

        await self._in_thread(insert)
        logger.info("Task %s created (%s)", row.id, task_type)
        task = task_object(row)
        self._publish(task)
        return task

    async def _update(self, task_id: str, change: Callable[[TaskRow], bool]) -> TaskRow:
        """Apply `change` to the stored row in one transaction; `change` returns False to skip."""

        def apply() -> TaskRow:
            with self.database.session() as session, session.begin():
                row = session.get(TaskRow, task_id, with_for_update=True)
                if row is None:
                    raise TaskNotFoundError(task_id)
                live = self._live.get(task_id)
                if live is not None:
                    _copy_progress(live, row)
                if change(row):
                    row.updated_at = utc_now()
                return row

        return await self._in_thread(apply)

    async def start(self, task_id: str) -> TaskObject | None:
        """Move a pending task to processing; return None when it is no longer pending."""

        def change(row: TaskRow) -> bool:
            if row.status != "pending":
                return False
            row.status = "processing"
            row.started_at = utc_now()
            row.error = None
            return True

        row = await self._update(task_id, change)
        if row.status != "processing":
            return None
        self._live[task_id] = row
        self._last_persist[task_id] = time.monotonic()
        task = task_object(row)
        self._publish(task)
        return task

    async def record_progress(
        self,
        task_id: str,
        *,
        progress: float,
        stage: str | None = None,
        segment: int | None = None,
        stage_progress: float | None = None,
        message: str | None = None,
    ) -> None:
        """Record a progress event of a running task; percentages are 0 to 100."""
        live = self._live.get(task_id)
        if live is None:
            return
        live.progress = max(live.progress, min(100.0, max(0.0, progress)))
        if message:
            live.message = message
        if stage is not None:
            live.steps = _merge_step(live.steps or [], stage, segment, stage_progress, message)
        live.updated_at = utc_now()
        self._publish(task_object(live))

        if time.monotonic() - self._last_persist.get(task_id, 0.0) >= self.persist_interval:
            self._last_persist[task_id] = time.monotonic()
            await self._update(task_id, lambda row: False)

    async def finish(self, task_id: str, status: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> TaskObject:
        """Move a task to a finished status, unless it already finished."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"status must be one of {sorted(FINISHED_STATUSES)}, got {status!r}")

        def change(row: TaskRow) -> bool:
            if row.status in FINISHED_STATUSES:
                return False
            row.status = status
            row.result = result
            row.error = error
            row.finished_at = utc_now()
            if status == "success":
                row.progress = 100.0
                row.steps = [{**step, "progress": 100.0} for step in row.steps or []]
            return True

        row = await self._update(task_id, change)
        self._live.pop(task_id, None)
        self._last_persist.pop(task_id, None)
        task = task_object(row)
        self._publish(task)
        logger.info("Task %s finished: %s%s", task_id, row.status, f" ({row.error})" if row.error else "")
        return task

    async def unfinished(self) -> tuple[list[TaskRow], list[TaskRow]]:
        """Return the pending and the processing tasks, oldest first (used at start-up)."""

        def load() -> tuple[list[TaskRow], list[TaskRow]]:
            with self.database.session() as session:
                query = select(TaskRow).order_by(TaskRow.created_at, TaskRow.id)
                pending = list(session.scalars(query.where(TaskRow.status == "pending")))
                processing = list(session.scalars(query.where(TaskRow.status == "processing")))
                return pending, processing

        return await self._in_thread(load)

    async def requeue(self, task_id: str, message: str) -> TaskObject:
        """Put an interrupted processing task back to pending so it runs again."""

        def change(row: TaskRow) -> bool:
            if row.status != "processing":
                return False
            row.status = "pending"
            row.message = message
            return True

        task = task_object(await self._update(task_id, change))
        self._publish(task)
        return task

    # Notifications

    @contextmanager
    def subscribe(self, task_id: str) -> Iterator[Subscription]:
        """Receive every later change of `task_id` while the context is open."""
        subscription = Subscription()
        self._subscribers.setdefault(task_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(task_id)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[task_id]

    def _publish(self, task: TaskObject) -> None:
        for subscription in self._subscribers.get(task.task_id, ()):
            subscription.push(task)


def _copy_progress(source: TaskRow, target: TaskRow) -> None:
    target.progress = source.progress
    target.message = source.message
    target.steps = list(source.steps or [])


def _merge_step(
    steps: list[dict[str, Any]], stage: str, segment: int | None, stage_progress: float | None, message: str | None
) -> list[dict[str, Any]]:
    """Return `steps` with the entry of (stage, segment) updated or appended."""
    merged = [dict(step) for step in steps]
    for step in merged:
        if step["stage"] == stage and step.get("segment") == segment:
            break
    else:
        step = {"stage": stage, "segment": segment, "progress": 0.0, "message": None}
        merged.append(step)
    if stage_progress is not None:
        step["progress"] = round(max(step["progress"], min(100.0, max(0.0, stage_progress))), 2)
    if message:
        step["message"] = message
    return merged
