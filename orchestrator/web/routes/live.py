"""WebSocket `/ws/tasks/{task_id}`: the task object on every change until the task ends."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from orchestrator.web.models import FINISHED_STATUSES
from orchestrator.web.security import is_authorized
from orchestrator.web.state import UNAUTHORIZED_DETAIL, get_state
from orchestrator.web.store import TaskNotFoundError

__all__ = ["router", "CLOSE_NOT_FOUND", "CLOSE_UNAUTHORIZED"]

logger = logging.getLogger(__name__)

# Application close codes (4000-4999): the HTTP status plus 4000.
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404

router = APIRouter()


@router.websocket("/ws/tasks/{task_id}")
async def watch_task(websocket: WebSocket, task_id: str) -> None:
    """Send the task as JSON now and after every change; close normally once it has ended.

    Errors are sent as `{"detail": "..."}` before the socket closes with code 4401
    (missing token) or 4404 (unknown task).
    """
    state = get_state(websocket)
    await websocket.accept()
    if not is_authorized(websocket, state.settings.token, allow_cookie=True):
        await websocket.send_json({"detail": UNAUTHORIZED_DETAIL})
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return

    with state.store.subscribe(task_id) as subscription:
        try:
            task = await state.store.get(task_id)
        except TaskNotFoundError:
            await websocket.send_json({"detail": f"task {task_id!r} not found"})
            await websocket.close(code=CLOSE_NOT_FOUND)
            return

        async with anyio.create_task_group() as group:
            group.start_soon(_close_on_disconnect, websocket, group.cancel_scope)
            try:
                await websocket.send_text(task.model_dump_json())
                while task.status not in FINISHED_STATUSES:
                    task = await subscription.next()
                    await websocket.send_text(task.model_dump_json())
            except (WebSocketDisconnect, RuntimeError):
                logger.debug("WebSocket of task %s closed by the client", task_id)
            else:
                await websocket.close(code=status.WS_1000_NORMAL_CLOSURE)
            group.cancel_scope.cancel()


async def _close_on_disconnect(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Read (and ignore) client messages so a disconnect stops the sender at once."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    scope.cancel()
