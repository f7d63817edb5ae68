"""Make tools reject argument names they do not declare.

The MCP SDK drops unknown arguments silently, so a caller that writes `widht=512` gets
the default width and no hint of the typo. Models calling tools make such slips, and a
silently ignored parameter costs them a whole generation.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

__all__ = ["reject_unknown_arguments"]


def reject_unknown_arguments(server: MCPServer) -> None:
    """Forbid extra keys in every registered tool's arguments and mark its input schema to match.

    Call it after the tools are registered. It reaches the SDK's tool registry, which has
    no public accessor in mcp 2.3.
    """
    for tool in server._tool_manager.list_tools():  # noqa: SLF001
        model = tool.fn_metadata.arg_model
        model.model_config["extra"] = "forbid"
        model.model_rebuild(force=True)
        tool.parameters = model.model_json_schema(by_alias=True)
