"""MCP client connections to the four stage servers, restarted when they crash or hang.

    async with StageConnections(config) as connections:
        result = await connections.call("text2image", "text_to_image", {"prompt": "..."})

Each server is connected by a background task that owns its `Client` for the whole time
the connection is open, so any task may call it and a restart never crosses cancel
scopes. Servers start on first use; `start()` starts several at once.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, Tool
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

from orchestrator.config import STAGES, OrchestratorConfig, StageConfig, normalize_stage

if sys.version_info < (3, 11):  # pragma: no cover - anyio installs the backport on 3.10.
    from exceptiongroup import BaseExceptionGroup

__all__ = ["ProgressCallback", "StageConnections", "StageError", "StageUnavailableError"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, "float | None", "str | None"], Awaitable[None]]

STARTUP_TIMEOUT_SECONDS = 120.0


class StageError(Exception):
    """A stage tool returned an error; the message is the tool's own text."""

    def __init__(self, message: str, *, stage: str, tool: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.tool = tool


class StageUnavailableError(StageError):
    """A stage server crashed, hung or could not be reached, and its retries ran out."""


def _transport_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [
        OSError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        anyio.EndOfStream,
    ]
    try:
        import httpx2

        errors.append(httpx2.TransportError)
    except ImportError:  # pragma: no cover - mcp depends on httpx2.
        pass
    return tuple(errors)


_TRANSPORT_ERRORS = _transport_errors()
_RETRYABLE_CODES = (CONNECTION_CLOSED, REQUEST_TIMEOUT)


def _server_module(stage: str) -> str:
    return f"servers.{stage}"


def _project_root() -> Path:
    """Return the folder that contains the `servers` package, for the child's PYTHONPATH."""
    import servers

    return Path(servers.__file__).resolve().parent.parent


class _StageLink:
    """One connected stage server: its client, the task that owns it, and its log file."""

    def __init__(self, stage: str, config: OrchestratorConfig) -> None:
        self.stage = stage
        self.config = config
        self.client: Client | None = None
        self.generation = 0
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self._log_file: IO[str] | None = None

    @property
    def stage_config(self) -> StageConfig:
        return self.config.stage(self.stage)

    @property
    def log_path(self) -> Path:
        return self.config.log_dir / f"{self.stage}.log"

    def describe(self) -> str:
        """Return where the server is, for messages: its URL or its stdio command."""
        stage_config = self.stage_config
        if stage_config.url:
            return stage_config.url
        return " ".join(self._command())

    def _command(self) -> list[str]:
        return self.stage_config.command or [sys.executable, "-m", _server_module(self.stage)]

    def _make_client(self) -> Client:
        stage_config = self.stage_config
        transport = stage_config.effective_transport
        if transport == "streamable-http":
            return Client(stage_config.url)  # type: ignore[arg-type]
        if transport == "sse":
            return Client(sse_client(stage_config.url))  # type: ignore[arg-type]

        env = self.config.server_environment(self.stage)
        root = str(_project_root())
        env["PYTHONPATH"] = root + (f":{env['PYTHONPATH']}" if env.get("PYTHONPATH") else "")
        command = self._command()
        parameters = StdioServerParameters(command=command[0], args=command[1:], env=env)

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("a", encoding="utf-8")
        self._log_file.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n")
        self._log_file.flush()
        return Client(stdio_client(parameters, errlog=self._log_file))

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Connect, report readiness, and hold the connection open until `stop()`."""
        started = False
        try:
            async with self._make_client() as client:
                self.client = client
                started = True
                task_status.started()
                await self._stop.wait()
                self.client = None
        except Exception as error:
            if not started:
                raise
            # The server died under us; the caller sees the failed call and restarts it.
            logger.debug("Connection to the %s server closed with %r", self.stage, error)
        finally:
            self.client = None
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
            self._stopped.set()

    async def stop(self) -> None:
        self._stop.set()
        await self._stopped.wait()


class StageConnections:
    """Open MCP connections to the stage servers, used as an async context manager.

    `call()` returns a tool's structured result. A tool error raises `StageError` with
    the tool's message and is not retried, because the same input fails the same way. A
    crash, a lost connection or a call that outlives the stage's `timeout_seconds`
    restarts the server and retries the call up to `retries` times, then raises
    `StageUnavailableError`.
    """

    def __init__(self, config: OrchestratorConfig | None = None) -> None:
        self.config = config or OrchestratorConfig()
        self.restarts: dict[str, int] = {stage: 0 for stage in STAGES}
        self._links: dict[str, _StageLink] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._task_group: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> StageConnections:
        self._locks = {stage: anyio.Lock() for stage in STAGES}
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(self, exc_type: object, exc: object, traceback: object) -> bool | None:
        with anyio.CancelScope(shield=True):
            for link in list(self._links.values()):
                await link.stop()
        self._links.clear()
        # Every link task has ended by now, so leaving the group cannot wrap the caller's
        # exception in an ExceptionGroup; the exception propagates unchanged.
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        await self._task_group.__aexit__(None, None, None)
        self._task_group = None
        return None

    async def start(self, *stages: str) -> None:
        """Start and connect the given stages (all four when none is named) concurrently.

        Raises the first `StageUnavailableError` after every other stage has been tried.
        """
        names = [normalize_stage(stage) for stage in stages] or list(STAGES)
        failures: list[StageError] = []

        async def connect(name: str) -> None:
            try:
                await self._connected_link(name)
            except StageError as error:
                failures.append(error)

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(connect, name)
        if failures:
            raise failures[0]

    async def list_tools(self, stage: str) -> list[Tool]:
        """Return the tools stage `stage` offers, with their input schemas."""
        stage = normalize_stage(stage)
        link = await self._connected_link(stage)
        assert link.client is not None
        result = await link.client.list_tools()
        return list(result.tools)

    def log_path(self, stage: str) -> Path:
        """Return the file that receives the stderr of the stdio server of `stage`."""
        return self.config.log_dir / f"{normalize_stage(stage)}.log"

    async def call(
        self,
        stage: str,
        tool: str,
        arguments: dict[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        """Call `tool` on `stage` and return its structured result."""
        stage = normalize_stage(stage)
        stage_config = self.config.stage(stage)
        attempts = stage_config.retries + 1
        last_error: BaseException | None = None

        for attempt in range(1, attempts + 1):
            link = await self._connected_link(stage)
            generation = link.generation
            try:
                result = await self._call_once(link, tool, arguments, stage_config, on_progress)
            except MCPError as error:
                if error.code not in _RETRYABLE_CODES:
                    raise StageError(f"{stage} server rejected {tool}: {error.message}", stage=stage, tool=tool) from error
                last_error = error
            except _TRANSPORT_ERRORS as error:
                last_error = error
            else:
                return self._structured(result, stage, tool)

            logger.warning(
                "%s server failed during %s (attempt %d of %d): %s; restarting it",
                stage, tool, attempt, attempts, _describe_error(last_error),
            )  # fmt: skip
            await self._restart(stage, generation)

        raise StageUnavailableError(self._unavailable_message(stage, tool, attempts, last_error), stage=stage, tool=tool)

    async def _call_once(
        self,
        link: _StageLink,
        tool: str,
        arguments: dict[str, Any],
        stage_config: StageConfig,
        on_progress: ProgressCallback | None,
    ) -> CallToolResult:
        if link.client is None:
            raise anyio.ClosedResourceError()
        started = time.perf_counter()
        logger.debug("Calling %s.%s", link.stage, tool)
        result = await link.client.call_tool(
            tool,
            arguments,
            read_timeout_seconds=stage_config.timeout_seconds,
            progress_callback=on_progress,
        )
        logger.info("%s.%s returned in %.2f s", link.stage, tool, time.perf_counter() - started)
        return result

    @staticmethod
    def _structured(result: CallToolResult, stage: str, tool: str) -> dict[str, Any]:
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content).strip()
            text = text.removeprefix(f"Error executing tool {tool}: ")
            raise StageError(text or f"{stage} tool {tool} failed without a message", stage=stage, tool=tool)
        if result.structured_content is None:
            raise StageError(f"{stage} tool {tool} returned no structured result", stage=stage, tool=tool)
        return dict(result.structured_content)

    def _unavailable_message(self, stage: str, tool: str, attempts: int, error: BaseException | None) -> str:
        link = self._links.get(stage)
        where = link.describe() if link else stage
        message = (
            f"the {stage} server failed {attempts} time(s) while running {tool} "
            f"(last error: {_describe_error(error)}); server: {where}"
        )
        if self.config.stage(stage).effective_transport == "stdio":
            message += f"; its log is {self.log_path(stage)}"
        if isinstance(error, MCPError) and error.code == REQUEST_TIMEOUT:
            message += f"; raise stages.{stage}.timeout_seconds in the config file if the work is just slow"
        return message

    async def _connected_link(self, stage: str) -> _StageLink:
        async with self._locks[stage]:
            link = self._links.get(stage)
            if link is not None and link.client is not None:
                return link
            return await self._open(stage, generation=(link.generation + 1) if link else 0)

    async def _open(self, stage: str, *, generation: int) -> _StageLink:
        if self._task_group is None:
            raise RuntimeError("StageConnections must be used as an async context manager")
        link = _StageLink(stage, self.config)
        link.generation = generation
        started = time.perf_counter()
        try:
            with anyio.fail_after(STARTUP_TIMEOUT_SECONDS):
                await self._task_group.start(link.run)
        except Exception as error:
            message = f"could not start the {stage} server ({link.describe()})"
            if self.config.stage(stage).effective_transport == "stdio":
                last_line = _last_log_line(self.log_path(stage))
                message += f": {last_line or _describe_error(error)}; see its log {self.log_path(stage)}"
            else:
                message += f": {_describe_error(error)}"
            raise StageUnavailableError(message, stage=stage, tool="(connect)") from error
        self._links[stage] = link
        logger.info("Connected to the %s server in %.2f s (%s)", stage, time.perf_counter() - started, link.describe())
        return link

    async def _restart(self, stage: str, failed_generation: int) -> None:
        """Stop the link that failed, unless another caller has already replaced it."""
        async with self._locks[stage]:
            link = self._links.get(stage)
            if link is None or link.generation != failed_generation:
                return
            self.restarts[stage] += 1
            with anyio.CancelScope(shield=True):
                await link.stop()
            link.client = None


def _last_log_line(path: Path) -> str | None:
    """Return the last non-empty line the latest server start wrote to its log, usually the error that stopped it."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("--- "):
            return None  # The marker written before this start: the server wrote nothing since.
        if line.strip():
            return line.strip()[-500:]
    return None


def _describe_error(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    # Transports fail inside task groups; the wrapped error (say, connection refused) is the cause.
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, MCPError):
        return f"{error.message} (MCP error {error.code})"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
