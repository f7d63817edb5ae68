"""Run blocking engine work in a worker thread with progress and cooperative cancellation.

Engines are plain synchronous code. They receive a `Progress` handle, call it after each
step, and stop at the next step once the client cancels: the handle raises
`GenerationCancelledError`, which unwinds through the artifact store and removes any
partial output.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from servers.shared.errors import GenerationCancelledError

__all__ = ["Progress", "run_engine", "ProgressSender"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
ProgressSender = Callable[[float, "float | None", "str | None"], Awaitable[None]]

_MIN_INTERVAL_SECONDS = 0.05


class Progress:
    """Thread-side progress handle; `Progress.noop()` when no client listens for progress."""

    def __init__(
        self,
        send: Callable[[float, float | None, str | None], None] | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        self._send = send
        self.cancel_event = cancel_event or threading.Event()
        self._last_sent = 0.0

    @classmethod
    def noop(cls) -> Progress:
        return cls()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise `GenerationCancelledError` once the request has been cancelled."""
        if self.cancel_event.is_set():
            raise GenerationCancelledError("the request was cancelled by the client")

    def __call__(
        self, done: float, total: float | None = None, message: str | None = None, *, throttle: bool = True
    ) -> None:
        """Report `done` of `total` units.

        With `throttle`, notifications closer than 50 ms are dropped, except the last one;
        pass `throttle=False` for coarse steps that must each be reported.
        """
        self.check_cancelled()
        if self._send is None:
            return
        now = time.monotonic()
        is_last = total is not None and done >= total
        if throttle and not is_last and now - self._last_sent < _MIN_INTERVAL_SECONDS:
            return
        self._last_sent = now
        self._send(done, total, message)


async def run_engine(
    work: Callable[[Progress], T],
    *,
    send_progress: ProgressSender | None = None,
    name: str = "engine",
) -> T:
    """Run `work(progress)` in a worker thread and return its result.

    `send_progress` is an async callable such as `Context.report_progress`. When the
    awaiting task is cancelled, the thread is signalled to stop and is left to unwind on its
    own, so the event loop keeps serving other requests meanwhile.
    """
    cancel_event = threading.Event()

    def send_from_thread(done: float, total: float | None, message: str | None) -> None:
        if send_progress is None or cancel_event.is_set():
            return
        try:
            anyio.from_thread.run(functools.partial(send_progress, done, total, message))
        except Exception as error:  # A lost client must not abort the engine.
            logger.debug("Dropping progress notification for %s: %s", name, error)

    progress = Progress(send_from_thread, cancel_event)
    started = time.perf_counter()
    try:
        return await anyio.to_thread.run_sync(work, progress, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        cancel_event.set()
        logger.info("Cancelled %s after %.2f s; its worker thread stops at the next step", name, time.perf_counter() - started)
        raise
