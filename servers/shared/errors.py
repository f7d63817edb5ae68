"""Errors that a tool caller can act on.

Every class derives from the MCP SDK's `ToolError`, so raising one from a tool returns
`is_error=True` with the message visible to the model. A plain exception's message is
hidden from the client by the SDK, so engine and media code raise these instead.
Messages name the offending value and the fix.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

__all__ = [
    "ReasoningActionError",
    "InvalidInputError",
    "InputNotFoundError",
    "EngineUnavailableError",
    "MediaDecodeError",
    "GenerationCancelledError",
]


class ReasoningActionError(ToolError):
    """Base class of every error this project raises on purpose."""


class InvalidInputError(ReasoningActionError, ValueError):
    """A parameter value is out of range, malformed or not allowed."""


class InputNotFoundError(ReasoningActionError, FileNotFoundError):
    """A file named by a tool input does not exist."""


class EngineUnavailableError(ReasoningActionError):
    """An engine or model cannot be loaded: missing extra, unknown model, no weights."""


class MediaDecodeError(ReasoningActionError):
    """A media file exists but cannot be read as the expected kind of media."""


class GenerationCancelledError(ReasoningActionError):
    """The caller cancelled the request while an engine was working on it."""
