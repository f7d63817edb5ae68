"""Console script `reasoning-action-image2video`."""

from __future__ import annotations

import sys

from servers.image2video.server import build_server
from servers.shared.cli import server_main

DEFAULT_PORT = 8102


def main(argv: list[str] | None = None) -> int:
    return server_main(
        "image2video",
        build_server,
        description="MCP server that animates a still image into a video segment that chains seamlessly (tool: image_to_video).",
        default_port=DEFAULT_PORT,
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
