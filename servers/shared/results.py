"""Building blocks of tool results: the common result fields, thumbnails and manifests."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mcp.types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from pydantic import BaseModel, Field

from servers.shared.artifacts import Artifact

__all__ = ["ArtifactResult", "THUMBNAIL_MAX_SIDE", "build_manifest", "png_thumbnail", "tool_result"]

THUMBNAIL_MAX_SIDE = 512  # Keeps the inline image far below the ~1 MB that common MCP hosts accept.


class ArtifactResult(BaseModel):
    """Fields every tool result shares: where the output is and how it was made."""

    path: str = Field(description="Absolute path of the output file on the server's machine.")
    uri: str = Field(description="file:// URI of the output file.")
    resource_uri: str = Field(description="MCP resource URI that serves the file to clients on other machines.")
    engine: str = Field(description="Engine that produced the output.")
    model: str | None = Field(default=None, description="Model id or folder the engine loaded, if any.")
    seed: int | None = Field(default=None, description="Random seed used; pass it again to reproduce the output.")
    elapsed_seconds: float = Field(description="Wall-clock time of the call in seconds.")
    warnings: list[str] = Field(default_factory=list, description="Things the caller should know about the output.")

    @staticmethod
    def common_fields(
        artifact: Artifact,
        *,
        engine: str,
        elapsed: float,
        warnings: Sequence[str],
        model: str | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Return the fields above for `artifact`, to unpack into a subclass's constructor."""
        return {
            "path": str(artifact.path),
            "uri": artifact.uri,
            "resource_uri": artifact.resource_uri,
            "engine": engine,
            "model": model,
            "seed": seed,
            "elapsed_seconds": round(elapsed, 3),
            "warnings": list(warnings),
        }


def png_thumbnail(image: Any, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes:
    """Encode a PIL image as PNG, shrunk so its long side is at most `max_side` pixels."""
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def build_manifest(
    *,
    tool: str,
    parameters: Mapping[str, Any],
    engine: str,
    model: str | None,
    seed: int | None,
    parents: Sequence[str] = (),
    elapsed_seconds: float,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the provenance record stored beside an artifact."""
    manifest: dict[str, Any] = {
        "tool": tool,
        "parameters": dict(parameters),
        "engine": engine,
        "model": model,
        "seed": seed,
        "parents": list(parents),
        "elapsed_seconds": round(elapsed_seconds, 3),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if extra:
        manifest.update(extra)
    return manifest


def tool_result(
    result: BaseModel,
    *,
    summary: str,
    artifact: Artifact,
    mime_type: str,
    thumbnail_png: bytes | None = None,
    extra_content: Sequence[ContentBlock] = (),
) -> CallToolResult:
    """Wrap a result model as a tool result: text summary, optional thumbnail, resource link."""
    content: list[ContentBlock] = [TextContent(type="text", text=summary)]
    if thumbnail_png is not None:
        content.append(ImageContent(type="image", data=base64.b64encode(thumbnail_png).decode("ascii"), mime_type="image/png"))
    content.append(
        ResourceLink(
            type="resource_link",
            uri=artifact.resource_uri,
            name=artifact.path.name,
            mime_type=mime_type,
            size=artifact.path.stat().st_size,
        )
    )
    content.extend(extra_content)
    return CallToolResult(content=content, structured_content=result.model_dump(mode="json"))
