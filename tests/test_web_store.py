"""Task store on a real SQLite file: creation, listing, progress, finishing, reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.web.db import Database
from orchestrator.web.store import TaskNotFoundError, TaskStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'tasks.db'}"


@pytest.fixture
def store(database_url: str):
    database = Database(database_url)
    yield TaskStore(database, persist_interval=0.0)
    database.close()


async def _create(store: TaskStore, prompt: str, task_type: str = "text_to_image"):
    return await store.create(task_type=task_type, request={"prompt": prompt}, prompt=prompt, client="127.0.0.1")


async def test_store_create_returns_pending_task(store: TaskStore) -> None:
    task = await _create(store, "宁静的森林中流淌的溪水")

    assert task.status == "pending"
    assert task.progress == 0
    assert task.metadata.type == "text_to_image"
    assert task.metadata.prompt == "宁静的森林中流淌的溪水"
    assert task.result is None
    assert task.created_at.tzinfo is not None


async def test_store_get_unknown_raises(store: TaskStore) -> None:
    with pytest.raises(TaskNotFoundError):
        await store.get("0" * 32)


async def test_store_list_newest_first_with_pages(store: TaskStore) -> None:
    created = [await _create(store, f"prompt {index}") for index in range(5)]

    first = await store.list(status=None, limit=2, offset=0)
    second = await store.list(status=None, limit=2, offset=2)
    last = await store.list(status=None, limit=2, offset=4)

    assert first.total == 5
    assert [task.task_id for task in first.tasks] == [created[4].task_id, created[3].task_id]
    assert [task.task_id for task in second.tasks] == [created[2].task_id, created[1].task_id]
    assert [task.task_id for task in last.tasks] == [created[0].task_id]


async def test_store_list_filters_by_status(store: TaskStore) -> None:
    done = await _create(store, "done")
    await _create(store, "waiting")
    await store.start(done.task_id)
    await store.finish(done.task_id, "success", result={"path": "/outputs/images/a.png"})

    successes = await store.list(status="success", limit=10, offset=0)
    pending = await store.list(status="pending", limit=10, offset=0)

    assert [task.task_id for task in successes.tasks] == [done.task_id]
    assert successes.total == 1
    assert pending.total == 1


async def test_store_progress_merges_steps(store: TaskStore) -> None:
    task = await _create(store, "steps", "workflow")
    await store.start(task.task_id)

    await store.record_progress(task.task_id, progress=10, stage="text2image", stage_progress=100, message="keyframe done")
    await store.record_progress(task.task_id, progress=30, stage="image2video", segment=1, stage_progress=50, message="frame 60/120")
    await store.record_progress(task.task_id, progress=40, stage="image2video", segment=1, stage_progress=75)
    current = await store.get(task.task_id)

    assert current.progress == 40
    assert [(step.stage, step.segment) for step in current.steps] == [("text2image", None), ("image2video", 1)]
    assert current.steps[1].progress == 75
    assert current.steps[1].message == "frame 60/120"
    assert current.message == "frame 60/120"


async def test_store_progress_never_decreases(store: TaskStore) -> None:
    task = await _create(store, "monotonic")
    await store.start(task.task_id)

    await store.record_progress(task.task_id, progress=60)
    await store.record_progress(task.task_id, progress=20)

    assert (await store.get(task.task_id)).progress == 60


async def test_store_finish_is_final(store: TaskStore) -> None:
    task = await _create(store, "final")
    await store.start(task.task_id)
    await store.finish(task.task_id, "cancelled", error="cancelled by request")

    again = await store.finish(task.task_id, "success", result={"path": "x"})

    assert again.status == "cancelled"
    assert again.result is None


async def test_store_start_skips_cancelled_task(store: TaskStore) -> None:
    task = await _create(store, "cancelled while pending")
    await store.finish(task.task_id, "cancelled", error="cancelled by request")

    assert await store.start(task.task_id) is None


async def test_store_reopen_keeps_tasks_and_progress(database_url: str) -> None:
    first = Database(database_url)
    store = TaskStore(first, persist_interval=0.0)
    task = await _create(store, "survives")
    await store.start(task.task_id)
    await store.record_progress(task.task_id, progress=42, stage="text2image", stage_progress=42, message="step 21/50")
    first.close()

    second = Database(database_url)
    reopened = await TaskStore(second).get(task.task_id)
    pending, processing = await TaskStore(second).unfinished()
    second.close()

    assert reopened.status == "processing"
    assert reopened.progress == 42
    assert reopened.steps[0].message == "step 21/50"
    assert pending == []
    assert [row.id for row in processing] == [task.task_id]


async def test_store_subscription_sees_changes(store: TaskStore) -> None:
    task = await _create(store, "watched")

    with store.subscribe(task.task_id) as subscription:
        await store.start(task.task_id)
        started = await subscription.next()
        await store.finish(task.task_id, "failed", error="the text2image server rejected the prompt")
        finished = await subscription.next()

    assert started.status == "processing"
    assert finished.status == "failed"
    assert finished.error == "the text2image server rejected the prompt"


def test_store_count_by_status(store: TaskStore) -> None:
    import anyio

    async def scenario() -> None:
        await _create(store, "a")
        second = await _create(store, "b")
        await store.finish(second.task_id, "cancelled", error="cancelled by request")

    anyio.run(scenario)
    counts = store.count_by_status()

    assert counts["pending"] == 1
    assert counts["cancelled"] == 1
    assert counts["success"] == 0
