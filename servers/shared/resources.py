"""Expose a server's artifacts as MCP resources, so remote clients can fetch the files."""

from __future__ import annotations

from collections.abc import Mapping

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from servers.shared.artifacts import MANIFEST_SUFFIX, ArtifactStore
from servers.shared.errors import ReasoningActionError

__all__ = ["register_artifact_resources"]


def register_artifact_resources(server: MCPServer, store: ArtifactStore, media_types: Mapping[str, str]) -> None:
    """Register one resource template per file suffix in `media_types` (suffix to MIME type).

    A template `artifact://<stage>/{name}.png` serves `<output_dir>/<kind>/<name>.png`;
    the manifest of any artifact is served as `.../<file>.json`.
    """
    all_types = {**media_types, MANIFEST_SUFFIX: "application/json"}
    for suffix, mime_type in all_types.items():
        _register_one(server, store, suffix, mime_type)


def _register_one(server: MCPServer, store: ArtifactStore, suffix: str, mime_type: str) -> None:
    is_text = mime_type == "application/json" or mime_type.startswith("text/")

    def read_artifact(name: str) -> bytes | str:
        try:
            path = store.find(name + suffix)
        except ReasoningActionError as error:
            raise ResourceNotFoundError(str(error)) from error
        return path.read_text(encoding="utf-8") if is_text else path.read_bytes()

    server.resource(
        f"{store.resource_prefix}{{name}}{suffix}",
        name=f"{store.folder.name}{suffix.replace('.', '-')}",
        description=f"A {suffix} file in {store.folder}, by file name.",
        mime_type=mime_type,
    )(read_artifact)
